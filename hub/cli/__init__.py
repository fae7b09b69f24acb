"""The `chatwootai` command: one click group per noun, each in its own module."""

from __future__ import annotations

import click

from hub import __version__
from hub.cli.chat import chat
from hub.cli.console import console
from hub.cli.data import data
from hub.cli.deadletter import deadletter
from hub.cli.domains import domains
from hub.cli.kb import kb
from hub.cli.service import flower, run, serve, worker
from hub.cli.stories import test
from hub.logs import configure_logging
from hub.settings import get_settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="chatwootai")
@click.option("-v", "--verbose", is_flag=True, help="show informational log lines too")
def main(verbose: bool) -> None:
    """ChatwootAI: multi-agent AI answers for Chatwoot, one deployment for many businesses."""
    # One-shot commands print their own report; only warnings and errors are logged.
    # Long-running ones (run, serve, worker) reconfigure with CHATWOOTAI_LOG_LEVEL.
    level = "INFO" if verbose else "WARNING"
    configure_logging(get_settings().model_copy(update={"log_level": level}))


main.add_command(domains)
main.add_command(chat)
main.add_command(data)
main.add_command(deadletter)
main.add_command(kb)
main.add_command(run)
main.add_command(serve)
main.add_command(worker)
main.add_command(flower)
main.add_command(test)
main.add_command(console)

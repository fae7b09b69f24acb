"""The `chatwootai` command: one click group per noun, each in its own module."""

from __future__ import annotations

import click

from hub import __version__
from hub.cli.domains import domains
from hub.logs import configure_logging
from hub.settings import get_settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="chatwootai")
@click.option("-v", "--verbose", is_flag=True, help="log at INFO (default: CHATWOOTAI_LOG_LEVEL)")
def main(verbose: bool) -> None:
    """ChatwootAI: multi-agent AI answers for Chatwoot, one deployment for many businesses."""
    settings = get_settings()
    if verbose:
        settings = settings.model_copy(update={"log_level": "INFO"})
    configure_logging(settings)


main.add_command(domains)

"""`chatwootai console`: the operator console (`hub.console`), a process of its own.

gunicorn with one process and a few threads: the playground's conversations live
in that process's memory, and a turn or a test run waits on the model, not the CPU.
Without console users (CHATWOOTAI_CONSOLE_USERS or _FILE) it serves loopback only,
so it refuses to listen anywhere else.
"""

from __future__ import annotations

import os
import shutil
import sys

import click

from hub import defaults
from hub.console.access import LOOPBACK, hash_password, load_users
from hub.exceptions import ConfigurationError
from hub.settings import Settings, get_settings

CONSOLE_THREADS = 4
TURN_TIMEOUT_SECONDS = 600
"""A request may run a domain's whole set of conversation tests on a real model."""


def console_argv(host: str, port: int) -> list[str]:
    """The gunicorn command line that serves the console on host:port."""
    gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or "gunicorn"
    return [
        gunicorn,
        "hub.console:create_app()",
        "--bind",
        f"{host}:{port}",
        "--workers",
        "1",
        "--worker-class",
        "gthread",
        "--threads",
        str(CONSOLE_THREADS),
        "--timeout",
        str(TURN_TIMEOUT_SECONDS),
        "--graceful-timeout",
        "10",
    ]


def has_users(settings: Settings) -> bool:
    """Whether console users are configured (and readable)."""
    text = settings.console_users.get_secret_value() if settings.console_users else None
    return bool(load_users(text, settings.console_users_file))


@click.command()
@click.option("--host", default=defaults.CONSOLE_HOST, show_default=True)
@click.option("--port", default=defaults.CONSOLE_PORT, show_default=True, type=int)
@click.option(
    "--hash-password",
    "hashing",
    is_flag=True,
    help="ask for a password and print its hash for a CHATWOOTAI_CONSOLE_USERS entry",
)
def console(host: str, port: int, hashing: bool) -> None:
    """The operator console: playground, conversations, domains, at a glance."""
    if hashing:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
        click.echo(hash_password(password))
        return
    try:
        users = has_users(get_settings())
    except ConfigurationError as error:
        raise click.ClickException(str(error)) from error
    if not users and host not in LOOPBACK:
        raise click.ClickException(
            f"refusing to serve the console on {host} without users: set "
            "CHATWOOTAI_CONSOLE_USERS (see `chatwootai console --hash-password`)"
        )
    click.echo(f"ChatwootAI console: http://{host}:{port}/")
    argv = console_argv(host, port)
    os.execv(argv[0], argv)

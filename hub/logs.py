"""Structured logging: JSON in production, readable lines in a terminal.

Everything goes through structlog, including the standard `logging` records of
Celery, Flask and friends, so one formatter decides the shape of every line.
`message_context` binds the domain and conversation id (and the message id) in a
context variable: every line logged while a message is handled carries them,
whichever library logs it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import structlog

from hub.settings import Settings

_HANDLER_NAME = "chatwootai"

QUIET_LOGGERS = ("httpx", "httpcore", "werkzeug", "gunicorn.access")
"""Loggers held at WARNING whatever the level: at INFO they print whole URLs (a query
string's API key, a customer's phone in a lookup, the webhook token in a path)."""

SHARED_PROCESSORS: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.processors.StackInfoRenderer(),
]


def configure_logging(settings: Settings, stream: IO[str] | None = None) -> None:
    """Route structlog and stdlib logging to one handler in the configured format."""
    output = stream or sys.stderr
    use_json = settings.log_format == "json" or (
        settings.log_format == "auto" and not output.isatty()
    )
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if use_json
        else structlog.dev.ConsoleRenderer(
            colors=output.isatty(),
            # Locals of CrewAI's pydantic objects run to megabytes (and seconds) per trace.
            exception_formatter=structlog.dev.RichTracebackFormatter(show_locals=False),
        )
    )
    structlog.configure(
        processors=[
            # A line below the level is dropped first, before the time is formatted.
            structlog.stdlib.filter_by_level,
            *SHARED_PROCESSORS,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(output)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=SHARED_PROCESSORS,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info if use_json else _identity,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == _HANDLER_NAME:
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(max(logging.WARNING, root.level))


def _identity(_logger: Any, _name: str, event: Any) -> Any:
    return event


@contextmanager
def message_context(
    *,
    domain: str,
    conversation_id: int | str,
    account_id: int | None = None,
    message_id: int | str | None = None,
) -> Iterator[None]:
    """Every log line inside carries the domain, conversation and message ids."""
    fields: dict[str, Any] = {"domain": domain, "conversation_id": conversation_id}
    if account_id is not None:
        fields["account_id"] = account_id
    if message_id is not None:
        fields["message_id"] = message_id
    with structlog.contextvars.bound_contextvars(**fields):
        yield

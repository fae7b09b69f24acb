"""Log lines are JSON in production and carry the message's domain and conversation."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import httpx
import pytest
import structlog

import hub.logs
from hub.logs import configure_logging, message_context
from hub.settings import Settings
from tests.fakes.chatwoot import FakeChatwoot


def json_lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_every_line_inside_a_message_context_carries_domain_and_conversation() -> None:
    stream = io.StringIO()
    configure_logging(Settings(log_format="json"), stream)
    with message_context(domain="cosmetics", conversation_id=42, account_id=1, message_id=7):
        structlog.get_logger("hub.test").info("crew started", route="sales")
        logging.getLogger("celery.worker").warning("a library line")
    structlog.get_logger("hub.test").info("outside")
    inside_ours, inside_library, outside = json_lines(stream)
    for line in (inside_ours, inside_library):
        assert line["domain"] == "cosmetics"
        assert line["conversation_id"] == 42
        assert line["message_id"] == 7
    assert inside_ours["route"] == "sales"
    assert inside_library["event"] == "a library line"
    assert "domain" not in outside


def test_console_format_is_readable_text() -> None:
    stream = io.StringIO()
    configure_logging(Settings(log_format="console"), stream)
    with message_context(domain="retail", conversation_id=9):
        structlog.get_logger("hub.test").info("hello")
    text = stream.getvalue()
    assert "hello" in text and "domain=retail" in text
    assert not text.lstrip().startswith("{")


def test_configuring_twice_does_not_duplicate_lines() -> None:
    stream = io.StringIO()
    configure_logging(Settings(log_format="json"), stream)
    configure_logging(Settings(log_format="json"), stream)
    structlog.get_logger("hub.test").info("once")
    assert len(json_lines(stream)) == 1


def test_exceptions_are_rendered_into_the_json_line() -> None:
    stream = io.StringIO()
    configure_logging(Settings(log_format="json"), stream)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        structlog.get_logger("hub.test").exception("failed")
    (line,) = json_lines(stream)
    assert "RuntimeError: boom" in str(line["exception"])


def test_a_line_below_the_level_is_dropped_before_any_processor_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    processed: list[str] = []

    def record(_logger: object, _name: str, event: dict[str, Any]) -> dict[str, Any]:
        processed.append(str(event["event"]))
        return event

    monkeypatch.setattr(hub.logs, "SHARED_PROCESSORS", [record, *hub.logs.SHARED_PROCESSORS])
    stream = io.StringIO()
    configure_logging(Settings(log_format="json", log_level="WARNING"), stream)
    structlog.get_logger("hub.test").info("below the level")
    structlog.get_logger("hub.test").warning("at the level")
    assert processed == ["at the level"]
    assert [line["event"] for line in json_lines(stream)] == ["at the level"]


def test_http_clients_print_no_url_at_info_so_no_key_or_phone_in_a_query_reaches_the_log(
    fake_chatwoot: FakeChatwoot,
) -> None:
    stream = io.StringIO()
    configure_logging(Settings(log_format="json", log_level="INFO"), stream)
    with httpx.Client() as client:
        client.get(f"{fake_chatwoot.url}/lookup", params={"api_key": "k3y", "phone": "5541999"})
    text = stream.getvalue()
    assert "k3y" not in text and "5541999" not in text
    for name in hub.logs.QUIET_LOGGERS:
        assert not logging.getLogger(name).isEnabledFor(logging.INFO), name
    configure_logging(Settings(log_format="json", log_level="DEBUG"), stream)
    assert not logging.getLogger("werkzeug").isEnabledFor(logging.INFO)
    configure_logging(Settings(log_format="console", log_level="WARNING"))

"""What a whole run logs at INFO and above: no secret, no customer phone, no customer or
reply text, from the receiver and the worker processes alike (issue 16, defect 8)."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient

from hub.conversation.mailbox import Mailbox
from hub.logs import configure_logging
from hub.settings import Settings
from hub.web import create_app
from tests.e2e.conftest import SECRET, WorkerProcess, message_created, post_signed, receiver_for
from tests.fakes.chatwoot import FakeChatwoot

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PHONE = "+5541999990000"
QUESTION = "Qual o horário de funcionamento das lojas?"
FOLLOW_UP = "E vocês abrem aos domingos e feriados?"
CONTACT = "Maria Quitéria Silva"


@pytest.fixture
def receiver_log() -> Iterator[io.StringIO]:
    """Everything the in-test receiver logs, at the service's level (INFO), as JSON."""
    stream = io.StringIO()
    configure_logging(Settings(log_format="json", log_level="INFO"), stream=stream)
    yield stream
    configure_logging(Settings(log_format="console", log_level="WARNING"))


def production_app(client: FlaskClient) -> FlaskClient:
    """The same receiver in an app that is not in testing mode: errors are handled and
    logged as in production, not raised into the test."""
    receiver = client.application.config["RECEIVER"]
    return create_app({"RECEIVER": receiver}).test_client()


def leaks(lines: list[str], secrets: dict[str, str]) -> list[str]:
    """Each line that holds one of `secrets`, named."""
    return [
        f"{name}: {line.strip()[:300]}"
        for line in lines
        for name, value in secrets.items()
        if value in line
    ]


def without_time(line: str) -> str:
    """A JSON log line without its timestamp (whose digits could pass for a reply's hours)."""
    try:
        record = json.loads(line)
    except ValueError:
        return line
    if isinstance(record, dict):
        record.pop("timestamp", None)
        return json.dumps(record, ensure_ascii=False)
    return line


def with_contact(payload: dict[str, Any]) -> dict[str, Any]:
    payload["sender"]["name"] = CONTACT
    payload["conversation"]["meta"]["sender"]["name"] = CONTACT
    assert payload["sender"]["phone_number"] == PHONE
    return payload


@pytest.mark.parametrize("chatwoot", ["configured", "not configured"])
def test_a_whole_conversation_logs_no_secret_phone_or_customer_text(
    chatwoot: str,
    start_worker: Callable[..., WorkerProcess],
    service_env: dict[str, str],
    redis_client: redis.Redis,
    monkeypatch: pytest.MonkeyPatch,
    fake_chatwoot: FakeChatwoot,
    receiver_log: io.StringIO,
) -> None:
    env = {"CHATWOOTAI_LOG_LEVEL": "INFO"}
    if chatwoot == "not configured":
        env["CHATWOOTAI_CHATWOOT_URL"] = ""
    worker = start_worker(env=env)
    client = receiver_for(
        {k: v for k, v in {**service_env, **env}.items() if v}, redis_client, monkeypatch
    )
    production = production_app(client)

    # Older Chatwoot: the secret is the URL token. One delivery fails inside the receiver
    # (500, Chatwoot retries), the retry is queued.
    payload = with_contact(message_created("retail", 4801, 9801, QUESTION))
    real_push = Mailbox.push

    def failing_push(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("mailbox unavailable")

    monkeypatch.setattr(Mailbox, "push", failing_push)
    failed = production.post(f"/webhooks/chatwoot/{SECRET}", json=payload)
    assert failed.status_code == 500
    monkeypatch.setattr(Mailbox, "push", real_push)
    assert production.post(f"/webhooks/chatwoot/{SECRET}", json=payload).status_code == 200

    def replies() -> int:
        if chatwoot == "configured":
            return len(fake_chatwoot.requests("/conversations/4801/messages"))
        return sum("request logged, not sent" in line for line in worker.output)

    def wait_for_replies(count: int) -> None:
        deadline = time.monotonic() + 60
        while replies() < count and time.monotonic() < deadline:
            time.sleep(0.2)
        assert replies() >= count, "".join(worker.output[-30:])

    wait_for_replies(1)
    # Chatwoot 4.13+: signed; a second turn in the same conversation.
    second = with_contact(message_created("retail", 4801, 9802, FOLLOW_UP))
    assert post_signed(client, second).json["outcome"] == "queued"
    wait_for_replies(2)
    sent = [r["body"]["content"] for r in fake_chatwoot.requests("/conversations/4801/messages")]
    worker.stop()

    lines = [without_time(line) for line in [*receiver_log.getvalue().splitlines(), *worker.output]]
    found = leaks(
        lines,
        {
            "secret": SECRET,
            "phone": PHONE,
            "phone digits": PHONE.lstrip("+"),
            "customer text": QUESTION,
            "customer's follow-up": FOLLOW_UP,
            "contact name": CONTACT,
            "reply's opening hours": "22:00",  # the offline model's answer quotes them
            **{f"reply {n}": text[:40] for n, text in enumerate(sent)},
        },
    )
    assert not found, "\n".join(found)
    assert any("message queued" in line for line in lines)
    assert any("webhook failed unexpectedly" in line for line in lines)
    for line in receiver_log.getvalue().splitlines():
        assert json.loads(line)["level"] in ("info", "warning", "error", "critical")
    if chatwoot == "configured":
        assert any("22:00" in text for text in sent), sent

"""Chatwoot down under load, and the dead letters an operator replays: real worker
processes, the receiver, real Redis and the fake Chatwoot."""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from typing import Any

import pytest
import redis
from click.testing import CliRunner
from flask.testing import FlaskClient

from hub.cli import main
from hub.conversation.deadletter import DeadLetters
from hub.settings import get_settings
from tests.e2e.conftest import ACCOUNTS, WorkerProcess, message_created, post_signed
from tests.fakes.chatwoot import FakeChatwoot
from tests.figures import report

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CONVERSATIONS = 12
OUTAGE_SECONDS = float(os.environ.get("CHATWOOTAI_TEST_OUTAGE_SECONDS", "8"))
FAILURES = 3
COOLDOWN_SECONDS = 1.0
CONCURRENCY = 4
OUTAGE_SETTINGS = {
    "CHATWOOTAI_WORKER_CONCURRENCY": str(CONCURRENCY),
    "CHATWOOTAI_CHATWOOT_BREAKER_FAILURES": str(FAILURES),
    "CHATWOOTAI_CHATWOOT_BREAKER_COOLDOWN_SECONDS": str(COOLDOWN_SECONDS),
    "CHATWOOTAI_CHATWOOT_BREAKER_MAX_COOLDOWN_SECONDS": "2",
    "CHATWOOTAI_CHATWOOT_RETRY_MAX_DELAY_SECONDS": "2",
    "CHATWOOTAI_CHATWOOT_DRAIN_RATE": "5",
}
"""Shortened: an 8 s outage stands for a 10 min one (CHATWOOTAI_TEST_OUTAGE_SECONDS=600,
the bench's outages run); the breaker opens after 3 failed calls, probes every 1-2 s,
and messages come back within 2 s of each other."""


def replies_to(fake: FakeChatwoot, conversation_id: int) -> list[dict[str, Any]]:
    return [
        body
        for body in fake.messages(conversation_id, account_id=ACCOUNTS["retail"][0])
        if not body.get("private")
    ]


def test_a_chatwoot_down_under_load_answers_everyone_once_and_is_not_hammered(
    start_worker: Callable[..., WorkerProcess],
    receiver_client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
) -> None:
    start_worker(env=OUTAGE_SETTINGS)
    down_at = time.time()
    back_at = fake_chatwoot.down_for(OUTAGE_SECONDS)
    for n in range(CONVERSATIONS):
        event = message_created("retail", 7100 + n, 97100 + n, "Qual o horário das lojas?")
        assert post_signed(receiver_client, event).status_code == 200

    conversations = range(7100, 7100 + CONVERSATIONS)
    fake_chatwoot.wait_for(
        lambda: all(replies_to(fake_chatwoot, c) for c in conversations),
        timeout=OUTAGE_SECONDS + 60,
    )
    caught_up = time.time() - back_at
    time.sleep(2)  # anything late would show up now
    for conversation in conversations:
        assert len(replies_to(fake_chatwoot, conversation)) == 1, conversation

    refused = [
        r
        for r in fake_chatwoot.requests()
        if r["method"] == "POST" and r["status"] == 500 and down_at <= r["time"] <= back_at
    ]
    # Before the circuit opens: FAILURES, plus one per thread already under way; then
    # one probe per cooldown at most (the cooldown only grows from COOLDOWN_SECONDS).
    bound = FAILURES + CONCURRENCY + math.ceil(OUTAGE_SECONDS / COOLDOWN_SECONDS) + 1
    assert 0 < len(refused) <= bound, (len(refused), bound)
    # Without the breaker every conversation would have spent its retries on its own.
    assert len(refused) < CONVERSATIONS * 2 or OUTAGE_SECONDS > 60
    report(
        "chatwoot_outage",
        {
            "outage_seconds": OUTAGE_SECONDS,
            "conversations": CONVERSATIONS,
            "posts_during_outage": len(refused),
            "posts_bound": bound,
            "answered_exactly_once": CONVERSATIONS,
            "catch_up_seconds": round(caught_up, 1),
        },
    )


@pytest.fixture
def cli_env(service_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name, value in service_env.items():
        if name.startswith("CHATWOOTAI_"):
            monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    return CliRunner()


def dead_letter(letters: DeadLetters, conversation_id: int, message_id: int) -> str:
    """A message a worker gave up on, as the task keeps it."""
    account_id, inbox_id = ACCOUNTS["retail"]
    message = {
        "domain": "retail",
        "account_id": account_id,
        "conversation_id": conversation_id,
        "inbox_id": inbox_id,
        "message_id": message_id,
        "text": "Qual o horário das lojas?",
        "contact_name": "Maria",
        "received_at": time.time(),
    }
    return str(letters.add(message, "chatwoot_unavailable", "HTTP 500 for 30 min")["id"])


def test_an_operator_lists_shows_and_replays_a_dead_letter_which_is_answered_once(
    start_worker: Callable[..., WorkerProcess],
    cli_env: CliRunner,
    fake_chatwoot: FakeChatwoot,
    redis_client: redis.Redis,
) -> None:
    letters = DeadLetters(redis_client)
    letter = dead_letter(letters, 7201, 97201)
    other = letters.add({"domain": "health", "message_id": 1}, "invalid_payload", "bad")

    listed = cli_env.invoke(main, ["deadletter", "list", "--domain", "retail"])
    assert listed.exit_code == 0, listed.output
    assert letter in listed.output and "chatwoot_unavailable" in listed.output
    assert "conversation 7201" in listed.output and other["id"] not in listed.output

    shown = cli_env.invoke(main, ["deadletter", "show", letter])
    assert shown.exit_code == 0, shown.output
    entry = json.loads(shown.output)
    assert entry["reason"] == "chatwoot_unavailable" and entry["error"] == "HTTP 500 for 30 min"
    assert entry["when"].endswith("UTC") and entry["message"]["message_id"] == 97201

    start_worker()
    replayed = cli_env.invoke(main, ["deadletter", "replay", letter])
    assert replayed.exit_code == 0, replayed.output
    again = cli_env.invoke(main, ["deadletter", "replay", letter])
    assert again.exit_code == 0 and "not there" in again.output
    fake_chatwoot.wait_for(lambda: replies_to(fake_chatwoot, 7201), timeout=30)
    time.sleep(1.5)
    assert len(replies_to(fake_chatwoot, 7201)) == 1
    assert [e["id"] for e in letters.all()] == [other["id"]]

    # Replayed again by hand after it was answered: the reply record says so.
    letters.add(json.loads(shown.output)["message"], "chatwoot_unavailable", "again")
    (second,) = [e for e in letters.all() if e["domain"] == "retail"]
    assert cli_env.invoke(main, ["deadletter", "replay", second["id"]]).exit_code == 0
    time.sleep(3)
    assert len(replies_to(fake_chatwoot, 7201)) == 1


def test_replay_refuses_bad_input_and_keeps_letters_that_are_not_messages(
    cli_env: CliRunner, redis_client: redis.Redis
) -> None:
    letters = DeadLetters(redis_client)
    broken = letters.add({"domain": "health", "message_id": 1}, "invalid_payload", "bad")
    assert cli_env.invoke(main, ["deadletter", "replay"]).exit_code == 2
    assert cli_env.invoke(main, ["deadletter", "replay", "x", "--all"]).exit_code == 2
    missing = cli_env.invoke(main, ["deadletter", "show", "nosuchletter"])
    assert missing.exit_code == 1 and "no dead letter" in missing.output
    kept = cli_env.invoke(main, ["deadletter", "replay", "--all"])
    assert kept.exit_code == 0 and "not a message, kept" in kept.output
    assert [e["id"] for e in letters.all()] == [broken["id"]]

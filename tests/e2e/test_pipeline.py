"""The whole way of a message: signed webhook → receiver → Redis → worker process → Chatwoot."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient

from hub.patches import PATCHES
from tests.e2e.conftest import (
    ACCOUNTS,
    TOKENS,
    WorkerProcess,
    message_created,
    post_signed,
    receiver_for,
)
from tests.fakes.chatwoot import FakeChatwoot
from tests.fakes.openai_server import FakeOpenAI
from tests.patch_kit import removed
from tests.queue_kit import queued_messages

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def replies_to(fake_chatwoot: FakeChatwoot, conversation_id: int) -> list[dict[str, Any]]:
    return [
        r
        for r in fake_chatwoot.requests()
        if r["method"] == "POST"
        and r["path"].endswith(f"/conversations/{conversation_id}/messages")
        and not r["body"].get("private")
    ]


@pytest.mark.parametrize(
    ("domain", "question", "facts"),
    [
        ("cosmetics", "Qual o valor mínimo para ter frete grátis?", ["199"]),
        ("health", "Vocês aceitam o convênio Hapvida?", ["Hapvida"]),
        ("retail", "Qual o horário de funcionamento das lojas?", ["10:00", "22:00"]),
    ],
)
def test_a_signed_customer_message_gets_exactly_one_grounded_reply(
    domain: str,
    question: str,
    facts: list[str],
    start_worker: Callable[..., WorkerProcess],
    receiver_client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
) -> None:
    start_worker()
    account_id, _ = ACCOUNTS[domain]
    response = post_signed(receiver_client, message_created(domain, 4001, 9001, question))
    assert response.status_code == 200, response.json
    assert response.json["outcome"] == "queued"
    assert response.json["domain"] == domain

    fake_chatwoot.wait_for(lambda: replies_to(fake_chatwoot, 4001), timeout=30)
    (reply,) = replies_to(fake_chatwoot, 4001)
    assert reply["path"] == f"/api/v1/accounts/{account_id}/conversations/4001/messages"
    assert reply["headers"].get("api_access_token") == TOKENS[domain]
    assert reply["body"]["message_type"] == "outgoing"
    assert reply["body"]["private"] is False
    for fact in facts:
        assert fact in reply["body"]["content"]


def test_with_the_dependency_patches_off_a_signed_message_still_gets_exactly_one_reply(
    start_worker: Callable[..., WorkerProcess],
    service_env: dict[str, str],
    redis_client: redis.Redis,
    fake_chatwoot: FakeChatwoot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shipped = {**service_env, "CHATWOOTAI_PATCHES": "off"}
    with removed(*PATCHES):  # this process too: the receiver and the fake Chatwoot
        client = receiver_for(shipped, redis_client, monkeypatch)
        assert client.application.config["RECEIVER"].publisher is None  # Celery's send_task
        worker = start_worker(env=shipped)
        question = "Qual o horário de funcionamento das lojas?"
        response = post_signed(client, message_created("retail", 4101, 9101, question))
        assert response.json["outcome"] == "queued"
        fake_chatwoot.wait_for(lambda: replies_to(fake_chatwoot, 4101), timeout=30)
    (reply,) = replies_to(fake_chatwoot, 4101)
    assert reply["headers"].get("api_access_token") == TOKENS["retail"]
    assert "10:00" in reply["body"]["content"] and "22:00" in reply["body"]["content"]
    said = [json.loads(line) for line in worker.output if '"dependency patches"' in line]
    assert [line["on"] for line in said] == [[]]  # the worker ran every dependency as shipped


def test_events_that_deserve_no_answer_are_acknowledged_and_never_queued(
    receiver_client: FlaskClient, redis_client: redis.Redis
) -> None:
    agent = {"id": 3, "name": "Ana (atendente)", "email": "ana@example.com", "type": "user"}
    bot = {"id": 9, "name": "ChatwootAI", "type": "agent_bot"}
    cases = {
        "bot's own reply": message_created(
            "cosmetics", 1, 1, "Olá!", sender=bot, message_type="outgoing"
        ),
        "private note": message_created(
            "cosmetics", 2, 2, "nota", sender=agent, message_type="outgoing", private=True
        ),
        "agent message": message_created(
            "cosmetics", 3, 3, "Oi, sou a Ana", sender=agent, message_type="outgoing"
        ),
        "outgoing template": message_created("cosmetics", 4, 4, "Modelo", message_type="template"),
        "message_updated": {**message_created("cosmetics", 5, 5, "oi"), "event": "message_updated"},
        "open conversation": message_created("cosmetics", 6, 6, "oi", status="open"),
    }
    for name, payload in cases.items():
        response = post_signed(receiver_client, payload)
        assert response.status_code == 200, name
        assert response.json["outcome"] == "ignored", name
        assert response.json["detail"], name
    assert queued_messages(redis_client, "cosmetics") == 0


def test_after_an_agent_writes_the_bot_stays_silent_until_the_conversation_is_pending_again(
    receiver_client: FlaskClient,
) -> None:
    agent = {"id": 3, "name": "Ana", "email": "ana@example.com", "type": "user"}
    post_signed(
        receiver_client,
        message_created("retail", 70, 1, "Oi, é a Ana", sender=agent, message_type="outgoing"),
    )
    silent = post_signed(receiver_client, message_created("retail", 70, 2, "Obrigada Ana"))
    assert silent.json["outcome"] == "ignored"
    assert "human" in silent.json["detail"]
    back = {
        "event": "conversation_updated",
        "id": 70,
        "inbox_id": 31,
        "status": "pending",
        "account": {"id": 3},
        "messages": [],
        "labels": [],
        "custom_attributes": {},
        "changed_attributes": [{"status": {"previous_value": "open", "current_value": "pending"}}],
    }
    assert post_signed(receiver_client, back).json["outcome"] == "ignored"
    again = post_signed(receiver_client, message_created("retail", 70, 3, "Mais uma dúvida"))
    assert again.json["outcome"] == "queued"


def test_a_duplicate_delivery_gets_one_reply(
    start_worker: Callable[..., WorkerProcess],
    receiver_client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
) -> None:
    start_worker()
    payload = message_created("retail", 4100, 9100, "Qual o horário de funcionamento?")
    first = post_signed(receiver_client, payload, delivery="d-1")
    again_same_delivery = post_signed(receiver_client, payload, delivery="d-1")
    again_new_delivery = post_signed(receiver_client, payload, delivery="d-2")
    assert first.json["outcome"] == "queued"
    assert again_same_delivery.json["outcome"] == "duplicate"
    assert again_new_delivery.json["outcome"] == "duplicate"
    fake_chatwoot.wait_for(lambda: replies_to(fake_chatwoot, 4100), timeout=30)
    # A new message after the reply gets its own (sent at once, both would be one burst).
    follow_up = message_created("retail", 4100, 9101, "E no domingo?")
    post_signed(receiver_client, follow_up)
    fake_chatwoot.wait_for(lambda: len(replies_to(fake_chatwoot, 4100)) >= 2, timeout=30)
    assert len(replies_to(fake_chatwoot, 4100)) == 2


def test_a_bad_signature_is_refused_and_nothing_is_queued(
    receiver_client: FlaskClient, redis_client: redis.Redis
) -> None:
    payload = message_created("cosmetics", 4200, 9200, "oi")
    response = post_signed(receiver_client, payload, secret="not-the-secret")
    assert response.status_code == 401
    stale = post_signed(receiver_client, payload, timestamp=1_000_000_000)
    assert stale.status_code == 401
    assert queued_messages(redis_client, "cosmetics") == 0
    assert post_signed(receiver_client, payload).json["outcome"] == "queued"


def test_a_worker_killed_mid_turn_still_leads_to_exactly_one_reply(
    start_worker: Callable[..., WorkerProcess],
    receiver_client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
    fake_openai: FakeOpenAI,
) -> None:
    slow_model = {
        "CHATWOOTAI_LLM": "openai/fake-model",
        "CHATWOOTAI_LLM_BASE_URL": fake_openai.url,
        "CHATWOOTAI_LLM_API_KEY": "sk-local",
        "CHATWOOTAI_VISIBILITY_TIMEOUT_SECONDS": "3",
    }
    fake_openai.delay_seconds = 30
    doomed = start_worker(env=slow_model)
    post_signed(receiver_client, message_created("retail", 4300, 9300, "Qual o horário?"))
    fake_chatwoot.wait_for(lambda: len(fake_openai.requests) >= 1, timeout=30)
    os.kill(doomed.process.pid, signal.SIGKILL)
    doomed.process.wait()
    fake_openai.delay_seconds = 0
    start_worker(env=slow_model)
    fake_chatwoot.wait_for(lambda: replies_to(fake_chatwoot, 4300), timeout=60)
    fake_chatwoot.wait_for(lambda: False, timeout=4, raise_on_timeout=False)
    assert len(replies_to(fake_chatwoot, 4300)) == 1

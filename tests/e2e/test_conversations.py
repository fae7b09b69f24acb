"""Conversation semantics across two real worker processes: bursts, order, priorities."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.e2e.conftest import WorkerProcess, message_created, post_signed
from tests.fakes.chatwoot import FakeChatwoot
from tests.fakes.openai_server import FakeOpenAI

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TOKEN = re.compile(r"\bc\d+-m\d+\b")
"""The marks these tests write in customer messages: conversation and message number."""


def current_message(messages: list[dict[str, Any]]) -> str:
    """The customer's message(s) of this turn, as the support task's prompt shows them."""
    prompt = "\n".join(str(m.get("content")) for m in messages)
    _, found, rest = prompt.partition("Mensagem do cliente:")
    return rest.split("\n\n", 1)[0] if found else ""


def echo_tokens(messages: list[dict[str, Any]]) -> str:
    """A model that routes everything to support and answers with the marks it was given."""
    text = current_message(messages)
    if not text:
        return "support"
    return "Final Answer: recebi " + " ".join(TOKEN.findall(text))


def model_env(fake_openai: FakeOpenAI, window: float) -> dict[str, str]:
    return {
        "CHATWOOTAI_LLM": "openai/local-model",
        "CHATWOOTAI_LLM_BASE_URL": fake_openai.url,
        "CHATWOOTAI_LLM_API_KEY": "sk-local",
        "CHATWOOTAI_LLM_TIMEOUT_SECONDS": "20",
        "CHATWOOTAI_BURST_WINDOW_SECONDS": str(window),
    }


def replies(
    fake_chatwoot: FakeChatwoot, conversation_id: int | None = None
) -> list[dict[str, Any]]:
    """Public messages posted by the bot, in the order Chatwoot received them."""
    return [
        r
        for r in fake_chatwoot.requests()
        if r["method"] == "POST"
        and r["path"].endswith("/messages")
        and not r["body"].get("private")
        and (conversation_id is None or f"/conversations/{conversation_id}/" in r["path"])
    ]


def settle(fake_chatwoot: FakeChatwoot, seconds: float) -> None:
    """Wait until no new request reached Chatwoot for `seconds`."""
    count, quiet_since = -1, time.monotonic()
    while time.monotonic() - quiet_since < seconds:
        now = len(fake_chatwoot.requests())
        if now != count:
            count, quiet_since = now, time.monotonic()
        time.sleep(0.1)


def test_ten_messages_typed_in_a_burst_get_one_reply_that_covers_them(
    start_worker: Callable[..., WorkerProcess],
    receiver_client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.responder = echo_tokens
    env = model_env(fake_openai, window=1.5)
    start_worker(env=env)
    start_worker(env=env)
    marks = [f"c5001-m{n}" for n in range(1, 11)]
    for n, mark in enumerate(marks, start=1):
        response = post_signed(receiver_client, message_created("retail", 5001, 60000 + n, mark))
        assert response.json["outcome"] == "queued"
        time.sleep(0.1)  # a customer typing fast: well inside the window
    fake_chatwoot.wait_for(lambda: replies(fake_chatwoot, 5001), timeout=30)
    settle(fake_chatwoot, 3.0)
    (reply,) = replies(fake_chatwoot, 5001)
    assert TOKEN.findall(reply["body"]["content"]) == marks


def test_interleaved_messages_of_twenty_conversations_are_each_answered_in_order(
    start_worker: Callable[..., WorkerProcess],
    receiver_client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.responder = echo_tokens
    fake_openai.delay_seconds = 0.2  # long enough for turns of one conversation to overlap
    env = model_env(fake_openai, window=0)
    start_worker(env=env)
    start_worker(env=env)
    conversations = range(5101, 5121)
    for n in range(1, 4):  # c1-m1, c2-m1, …, c20-m1, c1-m2, …
        for conversation in conversations:
            mark = f"c{conversation}-m{n}"
            message_id = conversation * 10 + n
            post_signed(receiver_client, message_created("retail", conversation, message_id, mark))
    fake_chatwoot.wait_for(
        lambda: all(
            f"c{c}-m3" in " ".join(r["body"]["content"] for r in replies(fake_chatwoot, c))
            for c in conversations
        ),
        timeout=90,
    )
    settle(fake_chatwoot, 2.0)
    for conversation in conversations:
        answered: list[str] = []
        for reply in replies(fake_chatwoot, conversation):
            new = [t for t in TOKEN.findall(reply["body"]["content"]) if t not in answered]
            assert new, f"a reply to conversation {conversation} answered nothing new"
            answered += new
        assert answered == [f"c{conversation}-m{n}" for n in (1, 2, 3)], answered


def test_a_message_sent_while_the_crew_is_running_is_answered_in_the_reply(
    start_worker: Callable[..., WorkerProcess],
    receiver_client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.responder = echo_tokens
    fake_openai.delay_seconds = 1.5
    env = model_env(fake_openai, window=0)
    start_worker(env=env)
    start_worker(env=env)
    post_signed(receiver_client, message_created("retail", 5201, 70001, "c5201-m1"))
    deadline = time.monotonic() + 30
    while not fake_openai.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    assert fake_openai.requests, "the crew never started"
    post_signed(receiver_client, message_created("retail", 5201, 70002, "c5201-m2"))
    fake_chatwoot.wait_for(lambda: replies(fake_chatwoot, 5201), timeout=30)
    settle(fake_chatwoot, 4.0)
    (reply,) = replies(fake_chatwoot, 5201)  # never a stale reply to the first message alone
    assert TOKEN.findall(reply["body"]["content"]) == ["c5201-m1", "c5201-m2"]


def test_an_urgent_message_is_answered_before_a_backlog_of_two_hundred_drains(
    start_worker: Callable[..., WorkerProcess],
    receiver_client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
) -> None:
    for n in range(200):  # queued while no worker runs: a backlog
        conversation = 6000 + n
        payload = message_created("health", conversation, 80000 + n, "Vocês aceitam Unimed?")
        assert post_signed(receiver_client, payload).json["outcome"] == "queued"
    urgent = message_created("health", 6999, 89999, "Socorro, meu pai está com dor no peito!")
    assert post_signed(receiver_client, urgent).json["outcome"] == "queued"
    start_worker()
    fake_chatwoot.wait_for(lambda: len(replies(fake_chatwoot)) >= 201, timeout=120)
    order = [r["path"].split("/conversations/")[1].split("/")[0] for r in replies(fake_chatwoot)]
    position = order.index("6999")
    assert position < 10, f"the emergency was answered {position + 1}th of {len(order)}"
    assert "192" in replies(fake_chatwoot, 6999)[0]["body"]["content"]

"""The model server away: each customer gets the domain's fallback message and a person,
once, and the failures and handoffs are counted. A real worker process on a real model
path (the fake OpenAI server, tests/fakes/openai_server.py), the receiver, real Redis
and the fake Chatwoot."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import redis
from flask.testing import FlaskClient

from hub.domains.registry import DomainRegistry
from tests.conftest import SAMPLE_DOMAINS
from tests.e2e.conftest import ACCOUNTS, WorkerProcess, message_created, post_signed
from tests.fakes.chatwoot import FakeChatwoot
from tests.fakes.openai_server import FakeOpenAI
from tests.figures import report

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.long]
"""Run by `make bench` (`--only outages`), not by `make test`: CI's time."""

FAILING = (7500, 7501)
"""Conversations asked while the model answers 503 (overloaded, a deploy)..."""
GONE = (7502, 7503)
"""...and while nothing listens on its port."""


def test_a_model_server_that_is_down_gets_each_customer_the_fallback_and_a_person_once(
    start_worker: Callable[..., WorkerProcess],
    receiver_client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
    fake_openai: FakeOpenAI,
    redis_client: redis.Redis,
) -> None:
    model = {
        "CHATWOOTAI_LLM": "openai/fake-model",
        "CHATWOOTAI_LLM_BASE_URL": fake_openai.url,
        "CHATWOOTAI_LLM_API_KEY": "sk-local",
    }
    start_worker(env=model)
    account = ACCOUNTS["retail"][0]
    fallback = DomainRegistry(SAMPLE_DOMAINS).get("retail").spec.messages.fallback

    def ask(conversation: int) -> None:
        event = message_created("retail", conversation, conversation + 90000, "Vocês abrem hoje?")
        assert post_signed(receiver_client, event).status_code == 200

    def handed_over(conversation: int) -> bool:
        return fake_chatwoot.conversation(account, conversation)["status"] == "open"

    fake_openai.fail_status = 503
    for conversation in FAILING:
        ask(conversation)
    fake_chatwoot.wait_for(lambda: all(handed_over(c) for c in FAILING), timeout=60)
    fake_openai.close()  # the port refuses from now on
    for conversation in GONE:
        ask(conversation)
    fake_chatwoot.wait_for(lambda: all(handed_over(c) for c in GONE), timeout=60)
    time.sleep(2)  # a second reply would show up now; metrics are flushed every second

    for conversation in FAILING + GONE:
        public = [
            body["content"]
            for body in fake_chatwoot.messages(conversation, account_id=account)
            if not body.get("private")
        ]
        assert len(public) == 1 and public[0] in fallback.variants(), (conversation, public)
    failures = redis_client.hgetall("chatwootai:metrics:failures")
    handoffs = redis_client.hgetall("chatwootai:metrics:handoffs")
    model_failures = sum(
        int(count)
        for label, count in failures.items()
        if label.split("|")[1] in ("model_error", "model_timeout")
    )
    assert model_failures == len(FAILING + GONE), failures
    assert int(handoffs.get("retail|failure", 0)) == len(FAILING + GONE), handoffs
    report(
        "model_outage",
        {
            "conversations": len(FAILING + GONE),
            "fallback_and_handoff_once": len(FAILING + GONE),
            "failures_counted": model_failures,
            "handoffs_failure_counted": int(handoffs["retail|failure"]),
        },
    )

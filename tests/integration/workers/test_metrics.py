"""What the workers record reaches the receiver's /metrics, per domain.

Messages go in through the real receiver (signed webhooks, queued on Redis),
are taken off their queue and run by the real Celery task in process, and the
receiver's /metrics is read back: every series a dashboard needs, by domain.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from hub.conversation.decision import failure_kind
from hub.domains.registry import DomainRegistry
from hub.exceptions import CrewError, ModelError
from hub.queue import create_celery, queue_keys
from hub.settings import Settings
from hub.web import Receiver, create_app
from tests.conftest import SAMPLE_DOMAINS, TEST_REDIS_URL
from tests.e2e.conftest import SECRET, message_created, post_signed
from tests.fakes.chatwoot import FakeChatwoot
from tests.fakes.openai_server import FakeOpenAI, ToolCall
from tests.queue_kit import shard_of_domain
from workers import tasks
from workers.runtime import WorkerRuntime

pytestmark = pytest.mark.integration

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
COMPLAINT = "Fui muito mal atendida na recepção e quero registrar uma reclamação formal"


def clinic_model(messages: list[dict[str, Any]]) -> str | ToolCall:
    """Answers plainly, except that a complaint makes the agent call `handoff`."""
    prompt = " ".join(str(m.get("content")) for m in messages)
    if COMPLAINT in prompt and "handoff" in prompt:
        if not any(m.get("role") == "tool" for m in messages):
            return ToolCall(name="handoff", arguments={"reason": "reclamação formal"})
        return "Final Answer: Uma pessoa da equipe vai continuar o seu atendimento."
    return "Final Answer: Sim, aceitamos o convênio Hapvida."


@pytest.fixture
def receiver(redis_client: redis.Redis) -> FlaskClient:
    settings = Settings(redis_url=TEST_REDIS_URL, domains_dir=SAMPLE_DOMAINS, webhook_secret=SECRET)
    app = create_app(
        {
            "RECEIVER": Receiver(
                settings, redis_client, DomainRegistry(SAMPLE_DOMAINS), create_celery(settings)
            ),
            "TESTING": True,
        }
    )
    return app.test_client()


@pytest.fixture
def worker(
    tmp_path: Path,
    redis_client: redis.Redis,
    fake_chatwoot: FakeChatwoot,
    fake_openai: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[WorkerRuntime]:
    """A real worker runtime behind the real task, on a model that answers at once."""
    monkeypatch.setenv("CHATWOOTAI_HEALTH_TOKEN", "token-clinica")
    fake_chatwoot.bot_token("token-clinica", 2)
    fake_openai.responder = clinic_model
    settings = Settings(
        redis_url=TEST_REDIS_URL,
        chatwoot_url=fake_chatwoot.url,
        domains_dir=SAMPLE_DOMAINS,
        data_dir=tmp_path,
        llm="openai/local-model",
        llm_base_url=fake_openai.url,
        llm_api_key="sk-local",
        llm_timeout_seconds=0.5,
        burst_window_seconds=0,
        chatwoot_retry_seconds=0.5,  # message 7's Chatwoot outage, shortened
    )
    runtime = WorkerRuntime.build(settings)
    runtime.chatwoot = type(runtime.chatwoot)(fake_chatwoot.url, sleep=lambda _: None)
    monkeypatch.setattr(tasks, "runtime", lambda: runtime)
    monkeypatch.setattr(tasks, "backoff", lambda _retries, _cap: 0.0)
    yield runtime
    runtime.chatwoot.close()


def send_and_work(
    receiver: FlaskClient, redis_client: redis.Redis, conversation: int, text: str
) -> str:
    """POST the webhook, then run the tasks it leads to, as a worker would: the token the
    receiver queued on the shard, and the message's own task when the claim retried it."""
    response = post_signed(receiver, message_created("health", conversation, conversation, text))
    assert response.json["outcome"] == "queued"
    outcome = "retrying"
    while outcome == "retrying":
        envelope = json.loads(
            next(
                str(task)
                for key in queue_keys(shard_of_domain("health"))
                if (task := redis_client.rpop(key))
            )
        )
        args, kwargs, _embed = json.loads(base64.b64decode(envelope["body"]))
        task = {"chatwootai.claim_turn": tasks.claim_turn}.get(
            envelope["headers"]["task"], tasks.handle_message
        )
        outcome = str(task.apply(args=args, kwargs=kwargs, task_id=envelope["headers"]["id"]).get())
    return outcome


def scrape(receiver: FlaskClient) -> tuple[Samples, dict[str, str]]:
    """Every sample of /metrics by (name, labels), and each family's HELP text."""
    text = receiver.get("/metrics").get_data(as_text=True)
    samples: Samples = {}
    helps: dict[str, str] = {}
    for family in text_string_to_metric_families(text):
        helps[family.name] = family.documentation
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples, helps


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_show_messages_replies_handoffs_failures_and_timings_of_a_domain(
    receiver: FlaskClient,
    worker: WorkerRuntime,
    redis_client: redis.Redis,
    fake_chatwoot: FakeChatwoot,
    fake_openai: FakeOpenAI,
) -> None:
    def work(conversation: int, text: str) -> str:
        return send_and_work(receiver, redis_client, conversation, text)

    before, _ = scrape(receiver)
    assert work(1, "Vocês aceitam o convênio Hapvida?") == "replied"
    assert work(2, "quero falar com um atendente") == "handed_off"
    assert work(3, "Socorro, meu pai está com dor no peito") == "handed_off"
    assert work(4, COMPLAINT) == "handed_off"
    fake_openai.fail_status = 500
    assert work(5, "Vocês aceitam o convênio Unimed?") == "handed_off"
    fake_openai.fail_status, fake_openai.delay_seconds = None, 2.0
    assert work(6, "Vocês aceitam o convênio Amil?") == "handed_off"
    fake_openai.delay_seconds = 0.0
    fake_chatwoot.fail_next(1000, status=503)
    assert work(7, "Vocês aceitam o convênio Bradesco?") == "dead_letter"
    fake_chatwoot.reset()
    asked = len(fake_openai.requests)
    assert work(8, "Vocês aceitam o convênio Hapvida?") == "replied"  # the answer cache's
    assert len(fake_openai.requests) == asked

    samples, helps = scrape(receiver)
    counter = "chatwootai_{}_total".format
    queued = counter("messages_queued")
    assert value(samples, queued, domain="health") - value(before, queued, domain="health") == 8
    expected = {
        ("replies", "kind", "answer"): 2,
        ("replies", "kind", "handoff"): 5,
        ("handoffs", "reason", "customer_asked"): 1,
        ("handoffs", "reason", "rule"): 1,
        ("handoffs", "reason", "crew"): 1,
        ("handoffs", "reason", "failure"): 2,
        ("failures", "reason", "model_error"): 1,
        ("failures", "reason", "model_timeout"): 1,
        ("failures", "reason", "dead_lettered"): 1,
        ("dead_letters", "reason", "chatwoot_unavailable"): 1,
        ("answer_cache", "result", "hit"): 1,
        ("messages_handled", "outcome", "replied"): 2,
        ("messages_handled", "outcome", "handed_off"): 5,
        ("messages_handled", "outcome", "dead_letter"): 1,
    }
    found = {
        key: value(samples, counter(key[0]), domain="health", **{key[1]: key[2]})
        for key in expected
    }
    assert found == expected
    # One per attempt, for as long as the retry time lasted.
    assert value(samples, counter("failures"), domain="health", reason="chatwoot_error") >= 2
    assert value(samples, counter("model_tokens"), domain="health", kind="prompt") > 0
    assert value(samples, counter("model_tokens"), domain="health", kind="completion") > 0
    assert value(samples, counter("answer_cache"), domain="health", result="store") >= 1
    # Every message is waited for once; crews that answered are timed (the cache's
    # answer too); so is every customer-facing message (two answers, five handoff notices).
    assert value(samples, "chatwootai_queue_wait_seconds_count", domain="health") == 8
    assert value(samples, "chatwootai_crew_seconds_count", domain="health") == 4
    assert value(samples, "chatwootai_reply_seconds_count", domain="health") == 7
    assert value(samples, "chatwootai_reply_seconds_bucket", domain="health", le="+Inf") == 7
    for family in (
        "chatwootai_messages_queued",
        "chatwootai_replies",
        "chatwootai_handoffs",
        "chatwootai_failures",
        "chatwootai_messages_handled",
        "chatwootai_model_tokens",
        "chatwootai_queue_wait_seconds",
        "chatwootai_crew_seconds",
        "chatwootai_reply_seconds",
        "chatwootai_answer_cache",
    ):
        assert len(helps[family]) > 30, f"{family} has no HELP text worth reading"


def test_a_crew_failure_is_named_by_what_went_wrong() -> None:
    wrapped_timeout = ConnectionError("Failed to connect to OpenAI API: Request timed out.")
    wrapped_timeout.__cause__ = TimeoutError("timed out")
    assert failure_kind(wrapped_timeout) == "model_timeout"
    assert failure_kind(ModelError("HTTP 500")) == "model_error"
    assert failure_kind(RuntimeError("provider said no")) == "model_error"
    assert failure_kind(CrewError("empty reply")) == "crew_error"


def test_the_reply_gates_refusals_are_counted_by_reason_and_what_was_posted(
    receiver: FlaskClient,
    worker: WorkerRuntime,
    redis_client: redis.Redis,
    fake_chatwoot: FakeChatwoot,
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.responder = lambda _m: "Final Answer: Ligue para (11) 91234-5678."
    before, _ = scrape(receiver)
    assert send_and_work(receiver, redis_client, 21, "Vocês aceitam o convênio Hapvida?") == (
        "replied"
    )
    samples, helps = scrape(receiver)

    def grown(name: str, **labels: str) -> float:
        return value(samples, name, **labels) - value(before, name, **labels)

    rejected = "chatwootai_replies_rejected_total"
    assert grown(rejected, domain="health", reason="unsupported_fact") == 2
    fallbacks = "chatwootai_reply_fallbacks_total"
    assert sum(grown(fallbacks, domain="health", source=s) for s in ("offline", "unknown")) == 1
    posted = [m["content"] for m in fake_chatwoot.messages(21) if not m.get("private")]
    assert posted and all("91234" not in text for text in posted)
    for family in ("chatwootai_replies_rejected", "chatwootai_reply_fallbacks"):
        assert len(helps[family]) > 30

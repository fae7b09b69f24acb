"""Per-tenant limits in a worker: over the cap, the limit message and one handoff."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from hub.conversation.inbound import InboundMessage
from hub.settings import Settings
from tests.conftest import TEST_REDIS_URL
from tests.fakes.chatwoot import FakeChatwoot
from tests.fakes.openai_server import FakeOpenAI
from workers.handler import handle
from workers.runtime import WorkerRuntime

pytestmark = pytest.mark.integration

LIMIT_TEXT = "Recebemos muitas mensagens agora"


def inbound(text: str, message_id: int, conversation_id: int) -> InboundMessage:
    return InboundMessage(
        domain="retail",
        account_id=3,
        conversation_id=conversation_id,
        inbox_id=31,
        message_id=message_id,
        text=text,
        contact_name="Maria",
        channel="Channel::Whatsapp",
        received_at=time.time(),
        labels=(),
    )


def limited_domains(sample_domains: Path, limits: str) -> Path:
    domain_file = sample_domains / "retail" / "domain.yaml"
    domain_file.write_text(
        domain_file.read_text(encoding="utf-8") + f"\nlimits: {limits}\n", encoding="utf-8"
    )
    return sample_domains


@pytest.fixture
def make_runtime(
    tmp_path: Path,
    redis_client: redis.Redis,
    fake_chatwoot: FakeChatwoot,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[object]:
    monkeypatch.setenv("CHATWOOTAI_RETAIL_TOKEN", "token-casa")
    fake_chatwoot.bot_token("token-casa", 3)
    built: list[WorkerRuntime] = []

    def make(domains: Path, **overrides: object) -> WorkerRuntime:
        settings = Settings(
            redis_url=TEST_REDIS_URL,
            chatwoot_url=fake_chatwoot.url,
            domains_dir=domains,
            data_dir=tmp_path / "var",
            burst_window_seconds=0,
            kits_warm="none",
            **overrides,
        )  # type: ignore[arg-type]
        runtime = WorkerRuntime.build(settings)
        runtime.chatwoot = type(runtime.chatwoot)(fake_chatwoot.url, sleep=lambda _: None)
        built.append(runtime)
        return runtime

    yield make
    for runtime in built:
        runtime.chatwoot.close()


def customer_facing(fake_chatwoot: FakeChatwoot, conversation_id: int) -> list[str]:
    return [
        m["content"]
        for m in fake_chatwoot.messages(conversation_id=conversation_id)
        if not m.get("private")
    ]


def test_a_flood_beyond_the_per_minute_cap_gets_the_limit_message_and_one_handoff(
    make_runtime: object, fake_chatwoot: FakeChatwoot, sample_domains: Path
) -> None:
    domains = limited_domains(sample_domains, "{messages_per_minute: 2}")
    runtime = make_runtime(domains)  # type: ignore[operator]
    statuses = [
        handle(runtime, inbound("Qual o horário de funcionamento?", n, 60 + min(n, 3))).status
        for n in range(1, 8)
    ]
    # Two answered (conversations 61 and 62); the flood in conversation 63 is handed
    # to a person once, and the bot stays silent there afterwards.
    assert statuses == ["replied", "replied", "handed_off", *["silent"] * 4]
    (limit_message,) = customer_facing(fake_chatwoot, 63)
    assert limit_message.startswith(LIMIT_TEXT)
    (note,) = [m for m in fake_chatwoot.messages(conversation_id=63) if m.get("private")]
    assert "messages_per_minute" in note["content"]
    metrics = runtime.redis
    assert metrics.hgetall("chatwootai:metrics:tenant_limited") == {
        "retail|messages_per_minute": "1"
    }
    assert metrics.hgetall("chatwootai:metrics:handoffs") == {"retail|limit": "1"}


def test_a_customer_writing_in_english_is_told_of_the_limit_in_english(
    make_runtime: object, fake_chatwoot: FakeChatwoot, sample_domains: Path
) -> None:
    domains = limited_domains(sample_domains, "{messages_per_minute: 1}")
    runtime = make_runtime(domains)  # type: ignore[operator]
    handle(runtime, inbound("What are your opening hours?", 1, 70))
    assert handle(runtime, inbound("What are your opening hours?", 2, 71)).status == "handed_off"
    (said,) = customer_facing(fake_chatwoot, 71)
    assert said.startswith("We are receiving a lot of messages")


def test_a_domain_over_its_tokens_of_the_day_hands_off_without_calling_the_model(
    make_runtime: object,
    fake_chatwoot: FakeChatwoot,
    fake_openai: FakeOpenAI,
    sample_domains: Path,
) -> None:
    fake_openai.responder = lambda _messages: "Final Answer: Abrimos às 10:00, até as 22:00."
    domains = limited_domains(sample_domains, "{tokens_per_day: 100}")
    # The same question thrice: with the answer cache on, the second would be served from
    # it at no cost in tokens (tested in test_answer_cache.py); here every turn must cost.
    runtime = make_runtime(  # type: ignore[operator]
        domains,
        llm="openai/local-model",
        llm_base_url=fake_openai.url,
        llm_api_key="sk-local",
        answer_cache=False,
    )
    # Each turn costs 60 tokens (what the fake server reports): two turns pass, the
    # third starts over the day's 100 and never reaches the model.
    statuses = [
        handle(runtime, inbound("Qual o horário de funcionamento?", n, 80 + n)).status
        for n in range(1, 4)
    ]
    assert statuses == ["replied", "replied", "handed_off"]
    assert len(fake_openai.requests) == 2
    assert runtime.limits.tokens_today("retail") == 120
    assert customer_facing(fake_chatwoot, 83)[0].startswith(LIMIT_TEXT)
    assert runtime.redis.hgetall("chatwootai:metrics:tenant_limited") == {
        "retail|tokens_per_day": "1"
    }


def test_a_request_for_a_person_is_answered_as_such_over_the_limit(
    make_runtime: object, fake_chatwoot: FakeChatwoot, sample_domains: Path
) -> None:
    domains = limited_domains(sample_domains, "{messages_per_minute: 1}")
    runtime = make_runtime(domains)  # type: ignore[operator]
    handle(runtime, inbound("Qual o horário de funcionamento?", 1, 90))
    assert handle(runtime, inbound("quero falar com um atendente", 2, 91)).status == "handed_off"
    said = customer_facing(fake_chatwoot, 91)[0]
    assert not said.startswith(LIMIT_TEXT)  # the customer's own request wins

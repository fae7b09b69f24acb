"""A refused reply gets one retry with the reason, then the offline model's answer when it
has one, then the domain's unknown message; a refused handoff reply, the handoff message."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.conversation.handoff import handoff_message
from hub.crews.factory import CrewFactory
from hub.domains.registry import DomainRegistry
from hub.settings import Settings
from hub.turn import Turn
from tests.conftest import SAMPLE_DOMAINS
from tests.fakes.openai_server import FakeOpenAI, ToolCall

pytestmark = pytest.mark.integration

INVENTED = "Endereço: Rua X, Cidade Y. Abrimos às 7h."
HOURS = "Qual o horário de funcionamento das lojas?"


@pytest.fixture
def factory(tmp_path: Path, fake_openai: FakeOpenAI) -> CrewFactory:
    domains = tmp_path / "domains"
    shutil.copytree(SAMPLE_DOMAINS, domains)
    settings = Settings(
        domains_dir=domains,
        data_dir=tmp_path / "var",
        llm="openai/local-model",
        llm_base_url=fake_openai.url,
        llm_api_key="k",
    )
    return CrewFactory(DomainRegistry(domains, reload_interval=0), settings)


def scripted(*answers: str) -> Iterator[str]:
    return iter(answers)


def test_a_grounded_reply_is_posted_as_the_model_wrote_it(
    factory: CrewFactory, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda _m: "Abrimos de segunda a sábado, das 10:00 às 22:00."
    result = factory.hub("retail").run(Turn(message=HOURS))
    assert (result.source, result.rejections) == ("model", ())
    prompt = " ".join(str(m["content"]) for m in fake_openai.requests[0]["body"]["messages"])
    assert "10:00 às 22:00" in prompt, "the best passages are in the prompt before any tool call"
    assert "Responda ao cliente em português do Brasil" in prompt


def test_a_refused_reply_is_retried_once_with_the_reason(
    factory: CrewFactory, fake_openai: FakeOpenAI
) -> None:
    answers = scripted(INVENTED, "Abrimos de segunda a sábado, das 10:00 às 22:00.")
    fake_openai.responder = lambda _m: next(answers)
    result = factory.hub("retail").run(Turn(message=HOURS))
    assert result.reply == "Abrimos de segunda a sábado, das 10:00 às 22:00."
    assert (result.source, result.rejections) == ("retry", ("unsupported_fact",))
    retry_prompt = " ".join(str(m["content"]) for m in fake_openai.requests[1]["body"]["messages"])
    assert "recusada" in retry_prompt and "rua x" in retry_prompt


def test_after_two_refusals_the_offline_model_answers_when_it_knows(
    factory: CrewFactory, fake_openai: FakeOpenAI
) -> None:
    answers = scripted(INVENTED, "Vou consultar o knowledge_search e já volto.")
    fake_openai.responder = lambda _m: next(answers)
    result = factory.hub("retail").run(Turn(message=HOURS))
    assert (result.source, result.rejections) == ("offline", ("unsupported_fact", "recital"))
    assert "10:00" in result.reply and "Rua X" not in result.reply
    assert len(fake_openai.requests) == 2


def test_after_two_refusals_an_unknown_question_gets_the_unknown_message(
    factory: CrewFactory, fake_openai: FakeOpenAI
) -> None:
    answers = scripted("Thought: hmm\nAction: nada", "Ligue (11) 91234-5678.")
    fake_openai.responder = lambda _m: next(answers)
    hub = factory.hub("retail")
    result = hub.run(Turn(message="Vocês vendem passagens aéreas para a Lua?"))
    assert result.source == "unknown"
    assert result.reply == hub.domain.spec.messages.unknown
    assert result.rejections[-1] == "unsupported_fact"


def test_a_refused_reply_of_a_handoff_becomes_the_handoff_message(
    factory: CrewFactory, fake_openai: FakeOpenAI
) -> None:
    def model(messages: list[dict[str, Any]]) -> str | ToolCall:
        if not any(m.get("role") == "tool" for m in messages):
            return ToolCall(name="handoff", arguments={"reason": "produto com defeito"})
        return 'Vou transferir. {"name": "handoff", "arguments": {}}'

    fake_openai.responder = model
    hub = factory.hub("retail")
    result = hub.run(Turn(message="Minha air fryer chegou quebrada, quero reclamar"))
    assert result.handoff_reason is not None
    assert (result.source, result.rejections) == ("handoff", ("tool_call",))
    assert result.reply == handoff_message(hub.domain)


def test_an_agent_stuck_repeating_a_tool_call_ends_in_the_fallback_not_an_error(
    factory: CrewFactory, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda _m: ToolCall(
        name="knowledge_search", arguments={"query": "horário"}
    )
    result = factory.hub("retail").run(Turn(message=HOURS))
    assert result.rejections == ("tool_loop", "tool_loop")
    assert result.source == "offline"
    assert "10:00" in result.reply

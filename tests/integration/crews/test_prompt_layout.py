"""A real model's prompt starts with the same text on every turn of a crew, so an
OpenAI-compatible server with a prompt cache (llama-server) computes it once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hub.crews.factory import CrewFactory
from hub.crews.hub_crew import HubCrew
from hub.domains.registry import DomainRegistry
from hub.settings import Settings
from hub.store.database import create_engine, session_scope
from hub.store.migrate import upgrade
from hub.store.seed import seed
from hub.turn import Turn
from tests.conftest import SAMPLE_DOMAINS
from tests.fakes.openai_server import FakeOpenAI

pytestmark = pytest.mark.integration

ZONE = ZoneInfo("America/Sao_Paulo")
TURNS = (
    Turn(
        message="Qual o prazo de entrega para Campinas?",
        customer_name="Ana",
        channel="whatsapp",
        now=datetime(2026, 12, 1, 10, 30, tzinfo=ZONE),
    ),
    Turn(
        message="Vocês entregam no Rio de Janeiro?",
        history=(("customer", "Oi"), ("bot", "Olá! Como posso ajudar?")),
        customer_name="Bruno",
        channel="instagram",
        now=datetime(2026, 12, 3, 16, 5, tzinfo=ZONE),
    ),
)
ANSWER = "A entrega para outras cidades do estado leva de 2 a 4 dias úteis."


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FakeOpenAI, HubCrew]]:
    """One fake model server and the retail hub on it, for the module (the knowledge is
    indexed once)."""
    fake = FakeOpenAI()
    yield fake, factory(tmp_path_factory.mktemp("layout"), fake).hub("retail")
    fake.close()


def factory(tmp_path: Path, fake_openai: FakeOpenAI) -> CrewFactory:
    url = f"sqlite:///{tmp_path / 'business.sqlite3'}"
    upgrade(url)
    registry = DomainRegistry(SAMPLE_DOMAINS)
    with session_scope(create_engine(url)) as session:
        seed(session, registry.get("retail"))
    settings = Settings(
        database_url=url,
        data_dir=tmp_path,
        domains_dir=SAMPLE_DOMAINS,
        llm="openai/local-model",
        llm_base_url=fake_openai.url,
        llm_api_key="k",
        llm_tool_calling="json",
    )
    return CrewFactory(registry, settings)


def prompt(body: dict[str, Any]) -> str:
    return "\n".join(f"<{m['role']}>{m.get('content') or ''}" for m in body["messages"])


def common_prefix(first: str, second: str) -> str:
    """The text both start with, character by character."""
    size = next(
        (i for i, (a, b) in enumerate(zip(first, second, strict=False)) if a != b),
        min(len(first), len(second)),
    )
    return first[:size]


def test_two_turns_of_a_crew_share_the_prompt_up_to_the_first_value_of_the_turn(
    served: tuple[FakeOpenAI, HubCrew],
) -> None:
    fake_openai, hub = served
    fake_openai.responder = lambda messages: ANSWER
    firsts = []
    for turn in TURNS:
        sent = len(fake_openai.requests)
        result = hub.run(turn)
        assert result.route == "support" and result.source == "model"
        firsts.append(prompt(fake_openai.requests[sent]["body"]))
    shared = common_prefix(*firsts)
    task = hub.domain.spec.crews["support"].tasks["responder"].description
    rules = task[task.index("Como responder:") :].strip()
    # The system message (role, tools, how to call one) and every rule of the task are
    # in the shared start; everything of the turn comes after it.
    assert shared.startswith("<system>You are Atendente")
    assert "Ferramentas disponíveis" in shared
    assert rules.splitlines()[-1].strip() in shared
    for turn in TURNS:
        assert turn.message not in shared
        assert turn.customer_name not in shared
    # The customer's message is the last of the task's paragraphs the model reads.
    for text, turn in zip(firsts, TURNS, strict=True):
        assert text.index("Como responder:") < text.index("Conversa até aqui:")
        assert text.index("Conversa até aqui:") < text.index(turn.message)


def test_a_retry_repeats_the_first_attempt_s_prompt_up_to_the_customer_s_message(
    served: tuple[FakeOpenAI, HubCrew],
) -> None:
    fake_openai, hub = served
    answers = iter(["O frete para Campinas custa R$ 99,00.", ANSWER])
    fake_openai.responder = lambda messages: next(answers, ANSWER)
    result = hub.run(TURNS[0])
    assert result.source == "retry"
    first, again = (prompt(request["body"]) for request in fake_openai.requests[-2:])
    shared = common_prefix(first, again)
    assert TURNS[0].message in shared
    assert "Trechos dos documentos" in shared
    assert "recusada" in again[len(shared) :]


def test_a_knowledge_search_names_the_passages_the_prompt_already_holds(
    served: tuple[FakeOpenAI, HubCrew],
) -> None:
    fake_openai, hub = served
    call = '{"name": "knowledge_search", "arguments": {"query": "prazo de entrega Campinas"}}'

    def respond(messages: list[dict[str, Any]]) -> str:
        searched = any("Resultado da ferramenta" in str(m.get("content")) for m in messages)
        return ANSWER if searched else call

    fake_openai.responder = respond
    sent = len(fake_openai.requests)
    result = hub.run(TURNS[0])
    assert result.source == "model" and result.tool_calls == ("knowledge_search",)
    last = fake_openai.requests[-1]["body"]["messages"]
    (observation,) = [m for m in last if "Resultado da ferramenta" in str(m.get("content"))]
    assert "(o mesmo trecho que já está acima)" in observation["content"]
    # Each passage is in the prompt once: in the grounding, not again in the tool's answer.
    everything = prompt(fake_openai.requests[-1]["body"])
    assert everything.count("Campinas, Santos") == 1
    assert len(fake_openai.requests) - sent == 2

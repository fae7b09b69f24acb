"""A tool runs however the model writes the call, in each `llm.tool_calling` mode, and a
bad call goes back to the model, never to the customer."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.crews import calling
from hub.crews.factory import CrewFactory
from hub.domains.registry import DomainRegistry
from hub.settings import Settings
from hub.store.database import create_engine, session_scope
from hub.store.migrate import upgrade
from hub.store.seed import seed
from hub.turn import Turn
from tests.conftest import SAMPLE_DOMAINS
from tests.fakes.openai_server import FakeOpenAI, ToolCall

pytestmark = pytest.mark.integration

QUESTION = "Qual o status do pedido CC-2026-00020?"
CUSTOMER_PHONE = "+55 11 98765-4320"
"""The phone on record for CC-2026-00020: only its own customer hears its status."""
ANSWER = "O pedido CC-2026-00020 foi cancelado; o reembolso sai em até 7 dias úteis."


@pytest.fixture(autouse=True)
def _nothing_learned() -> Iterator[None]:
    """Each test starts with no model's tool calling detected, and leaves none."""
    calling._learned.clear()
    yield
    calling._learned.clear()


def factory_with(tmp_path: Path, fake_openai: FakeOpenAI, mode: str | None) -> CrewFactory:
    domains = tmp_path / "domains"
    shutil.copytree(SAMPLE_DOMAINS, domains)
    if mode is not None:
        domain_file = domains / "retail" / "domain.yaml"
        text = domain_file.read_text(encoding="utf-8")
        domain_file.write_text(f"{text}\nllm:\n  tool_calling: {mode}\n", encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'business.sqlite3'}"
    upgrade(url)
    registry = DomainRegistry(domains)
    with session_scope(create_engine(url)) as session:
        seed(session, registry.get("retail"))
    settings = Settings(
        database_url=url,
        data_dir=tmp_path,
        domains_dir=domains,
        llm="openai/local-model",
        llm_base_url=fake_openai.url,
        llm_api_key="k",
    )
    return CrewFactory(registry, settings)


def observations(messages: list[dict[str, Any]]) -> str:
    """What the model has been told of its tool calls so far (tool messages, or the
    observations replayed as user text)."""
    return "\n".join(
        str(m.get("content"))
        for m in messages
        if m.get("role") == "tool"
        or (m.get("role") == "user" and "Resultado da ferramenta" in str(m.get("content")))
        or "Observation:" in str(m.get("content"))
    )


def writes_the_call(text: str) -> Any:
    """A model that writes `text` as its call until it has a tool result, then answers."""

    def respond(messages: list[dict[str, Any]]) -> str:
        seen = observations(messages)
        if "cancelado" in seen:
            return ANSWER
        return text

    return respond


FENCED = (
    "Boa tarde! ```json\n"
    + json.dumps({"name": "order_status", "arguments": {"order_number": "CC-2026-00020"}})
    + "\n```"
)
REACT = (
    'Thought: vejo o pedido.\nAction: order_status\nAction Input: {"order_number": "CC-2026-00020"}'
)


@pytest.mark.parametrize(
    ("mode", "call"),
    [
        (None, FENCED),
        ("native", REACT),
        ("json", FENCED),
        ("react", FENCED),
        ("react", REACT),
    ],
)
def test_a_call_written_in_the_content_runs_the_tool(
    tmp_path: Path, fake_openai: FakeOpenAI, mode: str | None, call: str
) -> None:
    fake_openai.responder = writes_the_call(call)
    result = (
        factory_with(tmp_path, fake_openai, mode)
        .hub("retail")
        .run(Turn(message=QUESTION, contact_phone=CUSTOMER_PHONE))
    )
    assert "order_status" in result.tool_calls
    assert result.reply == ANSWER
    assert result.rejections == ()


def test_a_native_tool_call_runs_the_tool(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    def respond(messages: list[dict[str, Any]]) -> str | ToolCall:
        if "cancelado" in observations(messages):
            return ANSWER
        return ToolCall(name="order_status", arguments={"order_number": "CC-2026-00020"})

    fake_openai.responder = respond
    result = (
        factory_with(tmp_path, fake_openai, "native")
        .hub("retail")
        .run(Turn(message=QUESTION, contact_phone=CUSTOMER_PHONE))
    )
    assert "order_status" in result.tool_calls
    assert result.reply == ANSWER


def test_the_json_mode_sends_no_tools_and_describes_them_in_the_prompt(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = writes_the_call(FENCED)
    factory_with(tmp_path, fake_openai, "json").hub("retail").run(
        Turn(message=QUESTION, contact_phone=CUSTOMER_PHONE)
    )
    first = fake_openai.requests[0]["body"]
    assert "tools" not in first
    system = str(first["messages"][0]["content"])
    assert "order_status" in system and '"arguments"' in system
    replayed = fake_openai.requests[1]["body"]["messages"]
    assert any("Resultado da ferramenta order_status" in str(m["content"]) for m in replayed)


@pytest.mark.parametrize(
    "call",
    [
        '{"name": "weather_forecast", "arguments": {"city": "SP"}}',
        '{"name": "order_status", "arguments": {"numero": "CC-2026-00020"}}',
    ],
)
def test_an_unknown_tool_or_bad_arguments_go_back_to_the_model(
    tmp_path: Path, fake_openai: FakeOpenAI, call: str
) -> None:
    told: list[str] = []

    def respond(messages: list[dict[str, Any]]) -> str:
        seen = observations(messages)
        if seen:
            told.append(seen)
            return "Pode me confirmar o número do pedido?"
        return call

    fake_openai.responder = respond
    result = (
        factory_with(tmp_path, fake_openai, None)
        .hub("retail")
        .run(Turn(message=QUESTION, contact_phone=CUSTOMER_PHONE))
    )
    assert told, "the model was told what was wrong with its call"
    assert result.reply == "Pode me confirmar o número do pedido?"
    assert "{" not in result.reply


def test_a_model_that_writes_its_calls_as_text_is_asked_in_json_mode_from_then_on(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = writes_the_call(FENCED)
    hub = factory_with(tmp_path, fake_openai, None).hub("retail")
    hub.run(Turn(message=QUESTION, contact_phone=CUSTOMER_PHONE))
    assert "tools" in fake_openai.requests[0]["body"], "asked natively first"
    assert "tools" not in fake_openai.requests[-1]["body"], "then in json mode"

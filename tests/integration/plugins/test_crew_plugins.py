"""The built-in plugins inside HubCrew.run, on the shipped domains."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.crews.factory import CrewFactory
from hub.domains.registry import DomainRegistry
from hub.settings import Settings
from hub.turn import Turn
from tests.conftest import SAMPLE_DOMAINS
from tests.fakes.odoo import FakeOdoo
from tests.fakes.openai_server import FakeOpenAI, ToolCall

pytestmark = pytest.mark.integration


def factory(tmp_path: Path, **settings: Any) -> CrewFactory:
    config = Settings(domains_dir=SAMPLE_DOMAINS, data_dir=tmp_path / "var", **settings)
    return CrewFactory(DomainRegistry(SAMPLE_DOMAINS, reload_interval=0), config)


def test_a_very_unhappy_patient_goes_to_a_human_before_any_crew_runs(tmp_path: Path) -> None:
    result = (
        factory(tmp_path)
        .hub("health")
        .run(Turn(message="Que absurdo, péssimo atendimento, estou furiosa com a recepção!!!"))
    )
    assert result.route == "plugin:sentiment" and result.routed_by == "plugin"
    assert result.handoff_reason and result.handoff_reason.startswith("sentimento muito negativo")
    assert result.urgent
    assert "recepção" in result.reply


def test_an_unhappy_customer_is_answered_with_a_note_for_the_crew_and_urgency(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda _m: (
        "Final Answer: Sinto muito! O frete é grátis acima de R$ 199."
    )
    hub = factory(tmp_path, llm="openai/m", llm_base_url=fake_openai.url, llm_api_key="k").hub(
        "cosmetics"
    )
    result = hub.run(
        Turn(message="Que raiva, péssimo!!! O frete de vocês é caro demais", customer_name="Ana")
    )
    assert result.urgent and result.handoff_reason is None
    prompt = " ".join(str(m["content"]) for m in fake_openai.requests[-1]["body"]["messages"])
    assert "o cliente parece insatisfeito" in prompt
    assert "tom de voz da empresa: acolhedor" in prompt
    assert result.reply.endswith("O frete é grátis acima de R$ 199.\n\nEquipe Bela Pele")
    assert result.reply.split("! ", 1)[0] in ("Bom dia, Ana", "Boa tarde, Ana", "Boa noite, Ana")


def test_the_offline_model_reply_is_personalized_without_changing_its_facts(
    tmp_path: Path,
) -> None:
    hub = factory(tmp_path).hub("cosmetics")
    plain = hub.run(
        Turn(
            message="Qual o valor mínimo para ter frete grátis?",
            history=(("customer", "oi"), ("bot", "Olá!")),
        )
    )
    first = hub.run(
        Turn(message="Qual o valor mínimo para ter frete grátis?", customer_name="Maria Silva")
    )
    body = plain.reply.removesuffix("\n\nEquipe Bela Pele")
    assert "199" in body and plain.reply.endswith("\n\nEquipe Bela Pele")
    assert first.reply.endswith(body + "\n\nEquipe Bela Pele")
    assert ", Maria! " in first.reply.split(body)[0]


def test_an_agent_calls_the_erp_through_the_odoo_connector(
    tmp_path: Path,
    fake_openai: FakeOpenAI,
    fake_odoo: FakeOdoo,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHATWOOTAI_RETAIL_ODOO_URL", fake_odoo.url)
    monkeypatch.setenv("CHATWOOTAI_RETAIL_ODOO_USER", fake_odoo.login)
    monkeypatch.setenv("CHATWOOTAI_RETAIL_ODOO_PASSWORD", fake_odoo.password)

    def model(messages: list[dict[str, Any]]) -> str | ToolCall:
        results = [m for m in messages if m.get("role") == "tool"]
        if not results:
            return ToolCall(name="odoo_order_status", arguments={"order_name": "S00042"})
        return f"Final Answer: {results[-1]['content']}"

    fake_openai.responder = model
    result = (
        factory(tmp_path, llm="openai/m", llm_base_url=fake_openai.url, llm_api_key="k")
        .hub("retail")
        .run(Turn(message="Qual o status do meu pedido S00042?", contact_email="maria@example.com"))
    )
    assert result.route == "support" and "odoo_order_status" in result.tool_calls
    assert "Pedido S00042: confirmado" in result.reply
    offered = {t["function"]["name"] for t in fake_openai.requests[0]["body"].get("tools", [])}
    assert {"odoo_order_status", "odoo_product_lookup", "order_status"} <= offered

"""Agents reach the business database through tools bound to their own domain."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from hub.crews.factory import CrewFactory
from hub.crews.tools.business import OrderStatusTool, ProductLookupTool
from hub.domains.registry import DomainRegistry
from hub.settings import Settings
from hub.store.database import create_engine, session_scope
from hub.store.migrate import upgrade
from hub.store.seed import seed
from hub.turn import OrderData, ProductsData, Turn, TurnContext
from tests.conftest import SAMPLE_DOMAINS
from tests.fakes.openai_server import FakeOpenAI, ToolCall

pytestmark = pytest.mark.integration


@pytest.fixture
def factory(tmp_path: Path, fake_openai: FakeOpenAI) -> CrewFactory:
    url = f"sqlite:///{tmp_path / 'business.sqlite3'}"
    upgrade(url)
    registry = DomainRegistry(SAMPLE_DOMAINS)
    with session_scope(create_engine(url)) as session:
        for domain_id in ("cosmetics", "retail"):
            seed(session, registry.get(domain_id))
    settings = Settings(
        database_url=url,
        data_dir=tmp_path,
        domains_dir=SAMPLE_DOMAINS,
        llm="openai/local-model",
        llm_base_url=fake_openai.url,
        llm_api_key="k",
    )
    return CrewFactory(registry, settings)


def calls(tool: str, arguments: dict[str, str]) -> Any:
    """A model that calls `tool` once (native tool calling), then answers with its result."""

    def respond(messages: list[dict[str, Any]]) -> str | ToolCall:
        results = [m for m in messages if m.get("role") == "tool"]
        if not results:
            return ToolCall(name=tool, arguments=arguments)
        return str(results[-1]["content"])

    return respond


def test_an_agent_looks_up_a_product_of_its_own_catalogue(
    factory: CrewFactory, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = calls("product_lookup", {"sku": "CC-102"})
    result = factory.hub("retail").run(Turn(message="Quanto custa a air fryer 127 V CC-102?"))
    assert result.route == "sales"
    assert "product_lookup" in result.tool_calls
    assert "R$ 349,90" in result.reply and "9 unidades" in result.reply


def test_a_tool_never_reads_another_domains_data(
    factory: CrewFactory, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = calls("product_lookup", {"sku": "BP-002"})  # a cosmetics SKU
    result = factory.hub("retail").run(Turn(message="Quanto custa o produto BP-002?"))
    assert "Não há produto com o código BP-002" in result.reply
    assert "69,90" not in result.reply


def test_an_agent_reads_an_order_status(factory: CrewFactory, fake_openai: FakeOpenAI) -> None:
    fake_openai.responder = calls("order_status", {"order_number": "cc-2026-00020"})
    asked = Turn(message="Qual o status do pedido CC-2026-00020?", contact_phone="+5511987654320")
    result = factory.hub("retail").run(asked)
    assert result.route == "support"
    assert "cancelado" in result.reply


def test_an_order_asked_from_another_phone_is_found_but_its_details_are_not_told(
    factory: CrewFactory, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = calls("order_status", {"order_number": "CC-2026-00020"})
    asked = Turn(message="Qual o status do pedido CC-2026-00020?", contact_phone="+5511912340000")
    result = factory.hub("retail").run(asked)
    assert "Encontrei o pedido CC-2026-00020" in result.reply
    assert "confirme o telefone ou o e-mail" in result.reply
    assert "cancelado" not in result.reply and "reembolso" not in result.reply
    assert result.handoff_reason is None


def test_a_stated_phone_that_is_not_the_order_s_hands_the_conversation_to_a_person(
    factory: CrewFactory, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = calls(
        "order_status", {"order_number": "CC-2026-00017", "contact": "+55 11 98765-4320"}
    )
    result = factory.hub("retail").run(Turn(message="Pedido CC-2026-00017, meu fone 11 98765-4320"))
    assert "não confere" in result.reply
    assert "saiu para entrega" not in result.reply
    assert result.handoff_reason is not None and "not the order's" in result.handoff_reason


def test_each_catalogue_and_order_call_records_its_answer_as_data(seeded: Engine) -> None:
    context = TurnContext(domain_id="retail", contact_phone="+55 (11) 98765-4320")
    bound = {"engine": seeded, "context": context}
    lookup = ProductLookupTool(**bound).run(sku="CC-102")
    ProductLookupTool(**bound).run(sku="BP-002")  # another domain's SKU: nothing found
    OrderStatusTool(**bound).run(order_number="cc-2026-00020")
    OrderStatusTool(**bound).run(order_number="CC-2026-99999")
    OrderStatusTool(**bound).run(order_number="pedido")
    found, foreign, order, missing, malformed = (result.data for result in context.results)
    assert isinstance(found, ProductsData) and isinstance(foreign, ProductsData)
    (item,) = found.items
    assert (item.sku, item.price, item.line) == ("CC-102", Decimal("349.90"), lookup)
    assert item.stock == 9
    assert foreign.items == ()
    assert isinstance(order, OrderData)
    assert (order.number, order.found, order.status) == ("CC-2026-00020", True, "cancelado")
    assert "7 dias úteis" in order.note
    assert missing == OrderData("CC-2026-99999", found=False)
    assert malformed == OrderData("pedido", found=False)
    assert [result.kind for result in context.results] == ["products"] * 2 + ["order"] * 3

"""The Odoo connector against a local server speaking Odoo's JSON-RPC external API."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hub.domains.registry import DomainRegistry
from hub.exceptions import ExternalAuthError, ExternalSystemError, JSONRPCError
from hub.turn import OrderData, ProductsData, TurnContext
from plugins.connectors import agent_tools
from plugins.connectors.odoo import OdooClient, odoo_tools
from plugins.connectors.settings import ConnectorSettings, Odoo
from tests.conftest import SAMPLE_DOMAINS
from tests.fakes.odoo import FakeOdoo

pytestmark = pytest.mark.integration


def settings(**overrides: object) -> Odoo:
    values: dict[str, object] = {
        "url_env": "ODOO_URL",
        "database": "casa-e-cia",
        "username_env": "ODOO_USER",
        "password_env": "ODOO_PASSWORD",
        "tools": ["product_lookup", "order_status", "booking"],
        "backoff_seconds": 0.01,
    }
    values.update(overrides)
    return Odoo.model_validate(values)


@pytest.fixture
def odoo(fake_odoo: FakeOdoo, monkeypatch: pytest.MonkeyPatch) -> FakeOdoo:
    monkeypatch.setenv("ODOO_URL", fake_odoo.url)
    monkeypatch.setenv("ODOO_USER", fake_odoo.login)
    monkeypatch.setenv("ODOO_PASSWORD", fake_odoo.password)
    return fake_odoo


def tools(client: OdooClient, config: Odoo, context: TurnContext) -> dict[str, object]:
    found = odoo_tools(client, config, context, "America/Sao_Paulo", set(config.tool_names()))
    return {tool.name: tool for tool in found}


def test_the_client_logs_in_once_then_runs_execute_kw(odoo: FakeOdoo) -> None:
    client = OdooClient(settings())
    assert client.order("s00042")["state"] == "sale"
    assert client.products("CC-101")[0]["name"].startswith("Jogo de Panelas")
    logins = [c for c in odoo.calls if c.get("service") == "common"]
    assert len(logins) == 1
    (order_call,) = odoo.calls_to("sale.order")
    assert order_call["method"] == "search_read"
    assert order_call["args"] == [[["name", "=", "S00042"]]]


def test_the_tools_answer_product_order_and_booking_questions(odoo: FakeOdoo) -> None:
    context = TurnContext(
        domain_id="retail", customer_name="Maria Silva", contact_phone="+5511988887777"
    )
    found = tools(OdooClient(settings()), settings(), context)
    assert "R$ 459,90 — em estoque (7 unidades)" in found["odoo_product_lookup"].run(
        query="panelas"
    )
    assert "sem estoque" in found["odoo_product_lookup"].run(query="cc-102")
    assert found["odoo_order_status"].run(order_name="S00042") == (
        "Pedido S00042: confirmado. Total R$ 809,80. Entrega prevista: 2026-11-29."
    )
    assert "cancelado" in found["odoo_order_status"].run(
        order_name="s00043", contact="(11) 3333-4444"
    )
    assert "Não encontrei o pedido S09999" in found["odoo_order_status"].run(order_name="S09999")
    booked = found["odoo_booking"].run(starts_at="2026-12-03 14:00", subject="montagem do rack")
    assert booked.startswith("Agendado: montagem do rack em 03/12/2026 às 14:00 para Maria Silva")
    (event,) = odoo.tables["calendar.event"]
    assert (event["start"], event["stop"]) == ("2026-12-03 17:00:00", "2026-12-03 17:30:00")
    again = found["odoo_booking"].run(starts_at="2026-12-03 14:15", subject="outra montagem")
    assert "já está ocupado" in again and len(odoo.tables["calendar.event"]) == 1
    assert context.tool_calls.count("odoo_booking") == 2


def test_a_refused_login_and_an_error_object_become_clear_errors(
    odoo: FakeOdoo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ODOO_PASSWORD", "wrong")
    with pytest.raises(ExternalAuthError, match="login refused"):
        OdooClient(settings()).order("S00042")
    monkeypatch.setenv("ODOO_PASSWORD", odoo.password)
    client = OdooClient(settings())
    with pytest.raises(JSONRPCError, match="has no attribute 'explode'"):
        client.execute_kw("sale.order", "explode", [])
    context = TurnContext(domain_id="retail")
    monkeypatch.setenv("ODOO_PASSWORD", "wrong")
    refused = tools(OdooClient(settings()), settings(), context)["odoo_order_status"]
    assert refused.run(order_name="S00042").startswith("Não consegui consultar o ERP agora")
    assert [f.split(":")[0] for f in context.tool_failures] == ["odoo_order_status"]


def test_a_password_changed_after_login_gets_access_denied(odoo: FakeOdoo) -> None:
    client = OdooClient(settings())
    client.uid()
    client.password = "rotated"
    with pytest.raises(ExternalAuthError, match="Access Denied"):
        client.order("S00042")
    assert client._uid is None  # the next call logs in again


def test_a_bad_gateway_is_retried_and_a_slow_server_times_out(odoo: FakeOdoo) -> None:
    client = OdooClient(settings(retries=2))
    odoo.fail_next(2, 502)
    assert client.order("S00042") is not None
    odoo.delay_seconds = 2
    slow = OdooClient(settings(timeout_seconds=0.2, retries=0))
    started = time.perf_counter()
    with pytest.raises(ExternalSystemError, match="timed out"):
        slow.order("S00042")
    assert time.perf_counter() - started < 1.5


def test_each_domain_reaches_only_its_own_erp(
    fake_odoo: FakeOdoo, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = FakeOdoo()
    try:
        other.tables["sale.order"] = []
        monkeypatch.setenv("CHATWOOTAI_RETAIL_ODOO_URL", fake_odoo.url)
        monkeypatch.setenv("CHATWOOTAI_RETAIL_ODOO_USER", fake_odoo.login)
        monkeypatch.setenv("CHATWOOTAI_RETAIL_ODOO_PASSWORD", fake_odoo.password)
        monkeypatch.setenv("OTHER_ODOO_URL", other.url)
        registry = DomainRegistry(SAMPLE_DOMAINS)
        retail = registry.get("retail")
        config = ConnectorSettings.model_validate(retail.spec.plugins["connectors"])
        context = TurnContext(domain_id="retail", contact_email="Maria@Example.com")
        (tool,) = [
            t
            for t in agent_tools(
                domain=retail,
                config=config,
                crew="support",
                agent="atendente",
                listed=(),
                context=context,
            )
            if t.name == "odoo_order_status"
        ]
        assert "confirmado" in tool.run(order_name="S00042")
        assert fake_odoo.calls_to("sale.order") and not other.calls
    finally:
        other.close()


def test_local_booking_times_are_sent_to_odoo_in_utc(odoo: FakeOdoo) -> None:
    client = OdooClient(settings())
    start = datetime(2026, 12, 3, 9, 0, tzinfo=ZoneInfo("America/Sao_Paulo"))
    stop = datetime(2026, 12, 3, 9, 30, tzinfo=ZoneInfo("America/Sao_Paulo"))
    event_id = client.book("Visita técnica", start, stop)
    assert odoo.tables["calendar.event"][0] == {
        "id": event_id,
        "name": "Visita técnica",
        "start": "2026-12-03 12:00:00",
        "stop": "2026-12-03 12:30:00",
    }
    assert client.busy(start, stop)


def test_products_and_orders_are_recorded_as_data_a_booking_as_text(odoo: FakeOdoo) -> None:
    context = TurnContext(
        domain_id="retail", customer_name="Maria Silva", contact_email="maria@example.com"
    )
    found = tools(OdooClient(settings()), settings(), context)
    found["odoo_product_lookup"].run(query="panelas")
    found["odoo_order_status"].run(order_name="S00042")
    found["odoo_order_status"].run(order_name="S09999")
    booked = found["odoo_booking"].run(starts_at="2026-12-03 14:00", subject="montagem do rack")
    products, order, missing, booking = context.results
    assert isinstance(products.data, ProductsData) and products.data.items
    assert all(f"{item.line}" in products.text for item in products.data.items)
    assert products.data.items[0].stock == 7
    assert order.data == OrderData(
        "S00042",
        found=True,
        status="confirmado",
        note="Total R$ 809,80. Entrega prevista: 2026-11-29.",
    )
    assert missing.data == OrderData("S09999", found=False)
    assert (booking.kind, booking.text) == ("text", booked)


@pytest.mark.parametrize(
    ("contact", "stated", "handoff"),
    [
        ({}, "", False),  # a web chat without phone or e-mail: asked to confirm
        ({"contact_phone": "+5511912340000"}, "", False),  # someone else's WhatsApp
        ({"contact_phone": "+5511912340000"}, "+55 11 3333-4444", True),  # João's, not Maria's
        ({"contact_email": "joao@example.com"}, "maria@exemplo.com", True),
    ],
)
def test_an_erp_order_s_details_go_only_to_its_customer(
    odoo: FakeOdoo, contact: dict[str, str], stated: str, handoff: bool
) -> None:
    context = TurnContext(domain_id="retail", **contact)
    tool = tools(OdooClient(settings()), settings(), context)["odoo_order_status"]
    text = tool.run(order_name="S00042", contact=stated)
    assert "Encontrei o pedido S00042" in text
    assert "confirmado" not in text and "809" not in text and "2026-11-29" not in text
    assert context.results[-1].data == OrderData("S00042", found=True, verified=False)
    assert (context.handoff_reason is not None) == handoff
    assert context.tool_failures == []


@pytest.mark.parametrize(
    "contact",
    [
        {"contact_phone": "+55 11 98888-7777"},
        {"contact_phone": "11988887777"},
        {"contact_email": " MARIA@example.com "},
        {"stated": "(11) 98888-7777"},
        {"stated": "maria@example.com"},
    ],
)
def test_the_customer_s_own_phone_or_e_mail_opens_the_erp_order(
    odoo: FakeOdoo, contact: dict[str, str]
) -> None:
    stated = contact.pop("stated", "")
    context = TurnContext(domain_id="retail", **contact)
    tool = tools(OdooClient(settings()), settings(), context)["odoo_order_status"]
    assert tool.run(order_name="S00042", contact=stated).startswith("Pedido S00042: confirmado.")
    partner_calls = odoo.calls_to("res.partner")
    assert partner_calls[-1]["args"] == [[9]]


def test_an_erp_answer_over_the_size_cap_is_refused_and_the_turn_hands_off(
    odoo: FakeOdoo,
) -> None:
    odoo.tables["product.product"] = [
        {"id": n, "name": "Panela " + "x" * 6000, "default_code": f"P{n}", "list_price": 1.0,
         "qty_available": 1.0}
        for n in range(50)
    ]  # fmt: skip
    small = settings(max_response_bytes=20_000)
    context = TurnContext(domain_id="retail")
    tool = tools(OdooClient(small), small, context)["odoo_product_lookup"]
    text = tool.run(query="panela")
    assert text.startswith("Não consegui consultar o ERP agora")
    assert "over 20000 bytes" in text
    assert [f.split(":")[0] for f in context.tool_failures] == ["odoo_product_lookup"]

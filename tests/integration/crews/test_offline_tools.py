"""The offline model uses the agents' tools through real CrewAI crews and the real store.

HubCrew routes, CrewAI runs its text ReAct loop, the offline model writes the tool
call, the tool reads or writes the database (SQLite and PostgreSQL), and the
reply is built from what the tool returned. The clock is the real one, so the
slots offered are whatever is free from today on.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from hub.crews.factory import CrewFactory
from hub.domains.registry import DomainRegistry
from hub.offline.planner import offers_in
from hub.settings import Settings
from hub.store.appointments import book
from hub.store.database import session_scope
from hub.store.models import BOOKED, CANCELLED, Appointment
from hub.turn import HubResult, Turn
from tests.conftest import SAMPLE_DOMAINS

pytestmark = pytest.mark.integration

CONVERSATION = 501


@pytest.fixture
def factory(seeded: Engine, database_url: str, tmp_path: Path) -> Iterator[CrewFactory]:
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path / "var",
        domains_dir=SAMPLE_DOMAINS,
        llm="offline",
    )
    factory = CrewFactory(DomainRegistry(SAMPLE_DOMAINS, reload_interval=float("inf")), settings)
    yield factory
    factory.engine.dispose()


class Chat:
    """One conversation with a domain's HubCrew, its history carried from turn to turn."""

    def __init__(self, factory: CrewFactory, domain_id: str, phone: str = "") -> None:
        self.hub = factory.hub(domain_id)
        self.phone = phone
        self.history: list[tuple[str, str]] = []

    def say(self, message: str) -> HubResult:
        turn = Turn(
            message=message,
            history=tuple(self.history),
            customer_name="Maria Silva",
            contact_phone=self.phone,
            account_id=2,
            conversation_id=CONVERSATION,
        )
        result = self.hub.run(turn)
        self.history += [("customer", message), ("bot", result.reply)]
        return result


def rows(engine: Engine) -> list[Appointment]:
    with session_scope(engine) as session:
        return list(session.scalars(select(Appointment).order_by(Appointment.id)))


def test_a_product_question_is_answered_from_the_catalogue(factory: CrewFactory) -> None:
    result = Chat(factory, "cosmetics").say(
        "Vocês têm protetor solar para pele oleosa? Quanto custa?"
    )
    assert result.tool_calls == ("product_search",)
    assert "BP-002 — Protetor Solar Facial FPS 50" in result.reply
    assert "R$ 69,90" in result.reply
    assert "Final Answer" not in result.reply and "Action:" not in result.reply


def test_an_order_number_is_looked_up_and_told_with_its_refund_term(factory: CrewFactory) -> None:
    result = Chat(factory, "retail", "+55 11 98765-4320").say(
        "Qual o status do pedido CC-2026-00020?"
    )
    assert (result.route, result.tool_calls) == ("support", ("order_status",))
    assert "cancelado" in result.reply and "7 dias úteis" in result.reply


@pytest.mark.parametrize("phone", ["", "+55 41 99999-0000"], ids=["no phone", "another phone"])
def test_someone_else_s_order_is_found_but_its_status_is_not_told(
    factory: CrewFactory, phone: str
) -> None:
    result = Chat(factory, "retail", phone).say("Qual o status do pedido CC-2026-00020?")
    assert result.tool_calls == ("order_status",)
    assert "Encontrei o pedido CC-2026-00020" in result.reply
    assert "confirme o telefone ou o e-mail" in result.reply
    assert "cancelado" not in result.reply and "reembolso" not in result.reply
    assert result.handoff_reason is None


def test_an_order_question_without_a_number_asks_for_it_and_then_looks_it_up(
    factory: CrewFactory,
) -> None:
    chat = Chat(factory, "retail", "+55 11 98765-4317")
    first = chat.say("Meu pedido ainda não chegou, pode ver pra mim?")
    assert first.tool_calls == ()
    assert "número do pedido" in first.reply
    second = chat.say("É o CC-2026-00017")
    assert second.tool_calls == ("order_status",)
    assert "saiu para entrega" in second.reply


def test_an_order_number_in_the_clinic_calls_no_tool_and_reads_no_order(
    factory: CrewFactory,
) -> None:
    result = Chat(factory, "health").say("Qual o status do pedido CC-2026-00020?")
    assert result.tool_calls == ()
    assert "cancelado" not in result.reply and "reembolso" not in result.reply


def test_the_clinic_offers_real_free_slots_then_books_the_one_picked(
    factory: CrewFactory, seeded: Engine
) -> None:
    chat = Chat(factory, "health")
    offer = chat.say("Quero marcar consulta com a dermatologista")
    assert (offer.route, offer.tool_calls) == ("scheduling", ("appointment_slots",))
    offered = offers_in(offer.reply)
    assert 1 <= len(offered) <= 3
    assert all(o.weekday == "sexta" and o.professional == "Dra. Carla Mendes" for o in offered)
    assert rows(seeded) == []

    booked = chat.say("Pode marcar o primeiro horário")
    assert booked.tool_calls == ("book_appointment",)
    assert offered[0].line.split(" — ")[0] in booked.reply  # weekday, date and time
    assert "Dra. Carla Mendes" in booked.reply
    assert "15 minutos antes" in booked.reply and "carteirinha" in booked.reply
    (row,) = rows(seeded)
    local = row.starts_at.astimezone(ZoneInfo(factory.hub("health").domain.spec.timezone))
    assert f"{local:%d/%m/%Y %H:%M}" == offered[0].starts_at
    assert (row.domain, row.status, row.customer_name) == ("health", BOOKED, "Maria Silva")
    assert row.conversation_id == CONVERSATION


def test_a_slot_taken_meanwhile_gets_other_free_slots_and_no_second_booking(
    factory: CrewFactory, seeded: Engine
) -> None:
    chat = Chat(factory, "health")
    first = offers_in(chat.say("Quero marcar consulta com a dermatologista").reply)[0]
    tz = ZoneInfo(factory.hub("health").domain.spec.timezone)
    starts_at = datetime.strptime(first.starts_at, "%d/%m/%Y %H:%M").replace(tzinfo=tz)
    with session_scope(seeded) as session:  # someone else, on another channel, is faster
        book(session, "health", first.professional, starts_at, customer_name="Ana", tz=tz)
    result = chat.say("Pode marcar o primeiro horário")
    assert "acabou de ser reservado por outra pessoa" in result.reply
    assert offers_in(result.reply) and first.line not in result.reply.split("\n", 1)[1]
    assert [row.customer_name for row in rows(seeded)] == ["Ana"]


def test_a_booked_appointment_is_cancelled_with_the_clinic_s_rule_explained(
    factory: CrewFactory, seeded: Engine
) -> None:
    chat = Chat(factory, "health")
    chat.say("Quero marcar consulta com a dermatologista")
    chat.say("Pode marcar o primeiro horário")
    result = chat.say("Quero cancelar minha consulta")
    assert result.tool_calls == ("cancel_appointment",)
    assert result.reply.startswith("Consulta cancelada: Dra. Carla Mendes")
    assert "24 horas" in result.reply and "50%" in result.reply
    (row,) = rows(seeded)
    assert row.status == CANCELLED and row.cancelled_at is not None
    assert row.cancelled_at <= datetime.now(UTC)

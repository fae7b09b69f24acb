"""The agenda tools read and write the real store, bound to their turn's domain and conversation.

Every test runs on SQLite and on PostgreSQL (the store fixtures), with the clinic's
clock set to Monday 2 March 2026, 09:00, so the free slots are known.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from hub.crews.tools.appointments import (
    AppointmentSlotsTool,
    BookAppointmentTool,
    CancelAppointmentTool,
)
from hub.store.database import session_scope
from hub.store.models import BOOKED, CANCELLED, Appointment
from hub.turn import BookingData, CancellationData, SlotsData, TurnContext

pytestmark = pytest.mark.integration

CLINIC = "America/Sao_Paulo"
CONVERSATION = 77


def context(domain: str = "health", conversation: int | None = CONVERSATION) -> TurnContext:
    return TurnContext(
        domain_id=domain, account_id=2, conversation_id=conversation, customer_name="Joana Silva"
    )


def booking(engine: Engine, now: datetime, bound: TurnContext | None = None) -> BookAppointmentTool:
    return BookAppointmentTool(
        engine=engine, context=bound or context(), timezone=CLINIC, clock=lambda: now
    )


def appointments(engine: Engine) -> list[Appointment]:
    with session_scope(engine) as session:
        return list(session.scalars(select(Appointment).order_by(Appointment.id)))


def test_booking_a_free_slot_writes_a_row_for_the_contact_and_the_conversation(
    seeded: Engine, monday: datetime, clinic_tz: ZoneInfo
) -> None:
    result = booking(seeded, monday).run(professional="carla mendes", starts_at="06/03/2026 09:00")
    assert result.startswith("Consulta marcada: Dra. Carla Mendes (Dermatologia)")
    assert "sexta-feira, 06/03/2026 às 09:00" in result
    (row,) = appointments(seeded)
    assert row.domain == "health" and row.status == BOOKED
    assert row.starts_at == datetime(2026, 3, 6, 9, 0, tzinfo=clinic_tz)
    assert (row.customer_name, row.conversation_id) == ("Joana Silva", CONVERSATION)


def test_a_patient_named_by_the_customer_is_booked_instead_of_the_contact(
    seeded: Engine, monday: datetime
) -> None:
    result = booking(seeded, monday).run(
        professional="a pediatra", starts_at="2026-03-02 14:00", patient_name="Pedro Silva"
    )
    assert "Dra. Daniela Rocha" in result and "para Pedro Silva" in result
    assert [row.customer_name for row in appointments(seeded)] == ["Pedro Silva"]


def test_a_taken_slot_comes_back_as_text_with_other_free_slots_and_one_row_stays(
    seeded: Engine, monday: datetime
) -> None:
    first = booking(seeded, monday).run(professional="Dra. Carla", starts_at="06/03 às 9h")
    assert first.startswith("Consulta marcada")
    other = booking(seeded, monday, context(conversation=88))
    second = other.run(professional="dermatologista", starts_at="06/03/2026 09:00")
    assert "acabou de ser reservado por outra pessoa" in second
    assert "- sexta-feira, 06/03/2026 às 08:00 — Dra. Carla Mendes (Dermatologia)" in second
    assert "às 09:00 —" not in second  # the taken slot is never offered again
    assert [(row.conversation_id, row.status) for row in appointments(seeded)] == [
        (CONVERSATION, BOOKED)
    ]


def test_a_time_that_is_no_slot_of_the_professional_gets_her_free_slots(
    seeded: Engine, monday: datetime
) -> None:
    result = booking(seeded, monday).run(professional="Carla", starts_at="05/03/2026 09:00")
    assert "Dra. Carla Mendes não tem horário livre em quinta-feira, 05/03/2026 às 09:00" in result
    assert "sexta-feira, 06/03/2026 às 08:00" in result
    assert appointments(seeded) == []


@pytest.mark.parametrize(
    ("professional", "starts_at", "expected"),
    [
        (
            "ninguém",
            "06/03/2026 09:00",
            "Nenhum profissional ou especialidade corresponde a 'ninguém'",
        ),
        ("Carla", "semana que vem", "Não entendi a data e a hora"),
    ],
)
def test_a_booking_the_store_cannot_make_is_explained_and_writes_nothing(
    seeded: Engine, monday: datetime, professional: str, starts_at: str, expected: str
) -> None:
    result = booking(seeded, monday).run(professional=professional, starts_at=starts_at)
    assert expected in result
    assert appointments(seeded) == []


@pytest.mark.parametrize(
    ("cancelled_at", "rule"),
    [
        (timedelta(days=0), "dentro do prazo gratuito, sem custo"),  # Monday, four days before
        (timedelta(days=3, hours=1), "fora do prazo gratuito"),  # Thursday 10:00, 23 h before
    ],
    ids=["more than 24 h before", "less than 24 h before"],
)
def test_cancelling_says_whether_it_was_within_the_free_notice(
    seeded: Engine, monday: datetime, cancelled_at: timedelta, rule: str
) -> None:
    booking(seeded, monday).run(professional="Dra. Carla Mendes", starts_at="06/03/2026 09:00")
    now = monday + cancelled_at
    tool = CancelAppointmentTool(
        engine=seeded, context=context(), timezone=CLINIC, clock=lambda: now
    )
    result = tool.run()
    assert result.startswith("Consulta cancelada: Dra. Carla Mendes (Dermatologia), sexta-feira")
    assert rule in result
    assert [row.status for row in appointments(seeded)] == [CANCELLED]


def test_cancelling_picks_the_appointment_named_when_there_are_several(
    seeded: Engine, monday: datetime
) -> None:
    book = booking(seeded, monday)
    book.run(professional="Carla Mendes", starts_at="06/03/2026 09:00")
    book.run(professional="Carla Mendes", starts_at="06/03/2026 10:00")
    tool = CancelAppointmentTool(
        engine=seeded, context=context(), timezone=CLINIC, clock=lambda: monday
    )
    assert "Há mais de uma consulta marcada" in tool.run()
    assert "06/03/2026 às 10:00" in tool.run(starts_at="sexta 10h")
    statuses = {row.starts_at.hour: row.status for row in appointments(seeded)}
    assert statuses == {12: BOOKED, 13: CANCELLED}  # 09:00 and 10:00 at the clinic, in UTC


def test_an_appointment_of_another_conversation_cannot_be_cancelled(
    seeded: Engine, monday: datetime
) -> None:
    booking(seeded, monday).run(professional="Carla Mendes", starts_at="06/03/2026 09:00")
    for conversation in (88, None):
        tool = CancelAppointmentTool(
            engine=seeded,
            context=context(conversation=conversation),
            timezone=CLINIC,
            clock=lambda: monday,
        )
        assert tool.run() == "Não há consultas marcadas nesta conversa para cancelar."
    assert [row.status for row in appointments(seeded)] == [BOOKED]


def test_the_same_conversation_id_in_another_account_neither_lists_nor_cancels_the_booking(
    seeded: Engine, monday: datetime
) -> None:
    patient = TurnContext(
        domain_id="health",
        account_id=2,
        conversation_id=CONVERSATION,
        customer_name="Joana Silva",
        contact_phone="+5531999990000",
    )
    booking(seeded, monday, patient).run(professional="Carla Mendes", starts_at="06/03/2026 09:00")
    (row,) = appointments(seeded)
    assert (row.account_id, row.customer_phone) == (2, "+5531999990000")
    stranger = TurnContext(domain_id="health", account_id=9, conversation_id=CONVERSATION)
    tool = CancelAppointmentTool(
        engine=seeded, context=stranger, timezone=CLINIC, clock=lambda: monday
    )
    answer = tool.run()
    assert answer == "Não há consultas marcadas nesta conversa para cancelar."
    assert "Carla" not in answer
    assert [row.status for row in appointments(seeded)] == [BOOKED]
    mine = CancelAppointmentTool(
        engine=seeded, context=patient, timezone=CLINIC, clock=lambda: monday
    )
    assert mine.run().startswith("Consulta cancelada: Dra. Carla Mendes")
    assert [row.status for row in appointments(seeded)] == [CANCELLED]


@pytest.mark.parametrize(
    ("who", "professional"),
    [
        ("dermatologista", "Dra. Carla Mendes"),
        ("dermatologia", "Dra. Carla Mendes"),
        ("Dra. Carla", "Dra. Carla Mendes"),
        ("carla mendes", "Dra. Carla Mendes"),
        ("a pediatra", "Dra. Daniela Rocha"),
        ("cardio", "Dr. Bruno Lima"),
        ("nutricionista", "Fernanda Dias"),
        ("clínico geral", "Dra. Ana Souza"),
    ],
)
def test_free_slots_are_found_however_the_professional_is_named(
    seeded: Engine, monday: datetime, who: str, professional: str
) -> None:
    tool = AppointmentSlotsTool(
        engine=seeded, context=context(), timezone=CLINIC, clock=lambda: monday
    )
    lines = tool.run(who=who).splitlines()
    assert lines[0] == "Horários livres:"
    assert lines[1:] and all(line.endswith(")") and professional in line for line in lines[1:])


def test_free_slots_are_shown_in_the_clinic_s_time_with_weekday_and_a_few_per_day(
    seeded: Engine, monday: datetime
) -> None:
    tool = AppointmentSlotsTool(
        engine=seeded, context=context(), timezone=CLINIC, clock=lambda: monday
    )
    lines = tool.run(who="Carla Mendes").splitlines()[1:]
    assert lines[:4] == [
        "- sexta-feira, 06/03/2026 às 08:00 — Dra. Carla Mendes (Dermatologia)",
        "- sexta-feira, 06/03/2026 às 08:30 — Dra. Carla Mendes (Dermatologia)",
        "- sexta-feira, 06/03/2026 às 09:00 — Dra. Carla Mendes (Dermatologia)",
        "- sexta-feira, 13/03/2026 às 08:00 — Dra. Carla Mendes (Dermatologia)",
    ]


def test_a_preferred_day_and_period_narrow_the_free_slots(seeded: Engine, monday: datetime) -> None:
    tool = AppointmentSlotsTool(
        engine=seeded, context=context(), timezone=CLINIC, clock=lambda: monday
    )
    lines = tool.run(who="pediatra", when="quinta tarde").splitlines()[1:]
    assert lines and all(line.startswith("- quinta-feira, ") for line in lines)
    nothing = tool.run(who="pediatra", when="sábado")
    assert nothing.startswith("Não há horários livres para pediatra em sábado.")
    assert "Outros horários livres:" in nothing


def test_a_tool_bound_to_another_domain_never_sees_the_clinic_s_agenda(
    seeded: Engine, monday: datetime
) -> None:
    booking(seeded, monday).run(professional="Carla Mendes", starts_at="06/03/2026 09:00")
    retail = context(domain="retail")
    slots = AppointmentSlotsTool(
        engine=seeded, context=retail, timezone=CLINIC, clock=lambda: monday
    )
    assert slots.run(who="dermatologista").startswith("Nenhum profissional ou especialidade")
    assert "Dermatologia" not in slots.run(who="Dra. Carla Mendes")
    book = booking(seeded, monday, retail)
    assert book.run(professional="Dra. Carla Mendes", starts_at="06/03/2026 10:00").startswith(
        "Nenhum profissional ou especialidade corresponde"
    )
    cancel = CancelAppointmentTool(
        engine=seeded, context=retail, timezone=CLINIC, clock=lambda: monday
    )
    assert cancel.run() == "Não há consultas marcadas nesta conversa para cancelar."
    assert [(row.domain, row.status) for row in appointments(seeded)] == [("health", BOOKED)]


def test_each_agenda_call_records_its_outcome_as_data_beside_its_text(
    seeded: Engine, monday: datetime, clinic_tz: ZoneInfo
) -> None:
    bound = context()
    slots = AppointmentSlotsTool(
        engine=seeded, context=bound, timezone=CLINIC, clock=lambda: monday
    )
    text = slots.run(who="Carla Mendes", when="sexta")
    (offered,) = bound.results
    assert (offered.tool, offered.kind, offered.text) == ("appointment_slots", "slots", text)
    assert isinstance(offered.data, SlotsData)
    assert offered.data.fits and offered.data.matched
    first = offered.data.slots[0]
    assert first.starts_at == datetime(2026, 3, 6, 8, 0, tzinfo=clinic_tz)
    assert (first.professional, first.specialty) == ("Dra. Carla Mendes", "Dermatologia")
    assert f"- {first.line}" in text

    booking(seeded, monday, bound).run(professional="Carla", starts_at="06/03/2026 08:00")
    booked = bound.results[-1].data
    assert isinstance(booked, BookingData)
    assert (booked.outcome, booked.professional, booked.patient) == (
        "booked",
        "Dra. Carla Mendes",
        "Joana Silva",
    )
    assert booked.starts_at == first.starts_at and booked.appointment_id is not None

    other = context(conversation=88)
    booking(seeded, monday, other).run(professional="Carla", starts_at="06/03/2026 08:00")
    taken = other.results[-1].data
    assert isinstance(taken, BookingData) and taken.outcome == "taken"
    assert "acabou de ser reservado" in taken.problem
    assert taken.alternatives and first.starts_at not in {s.starts_at for s in taken.alternatives}

    cancel = CancelAppointmentTool(
        engine=seeded, context=bound, timezone=CLINIC, clock=lambda: monday
    )
    cancel.run()
    cancelled = bound.results[-1].data
    assert isinstance(cancelled, CancellationData) and cancelled.outcome == "cancelled"
    assert cancelled.cancelled is not None and not cancelled.fee_applies
    assert cancelled.cancelled.starts_at == first.starts_at
    cancel.run()
    assert bound.results[-1].data == CancellationData("nothing")
    assert [result.tool for result in bound.results] == [
        "appointment_slots",
        "book_appointment",
        "cancel_appointment",
        "cancel_appointment",
    ]


def test_no_free_slot_on_the_day_asked_is_recorded_with_the_other_slots(
    seeded: Engine, monday: datetime
) -> None:
    bound = context()
    tool = AppointmentSlotsTool(engine=seeded, context=bound, timezone=CLINIC, clock=lambda: monday)
    tool.run(who="pediatra", when="sábado")
    tool.run(who="ninguém")
    elsewhere, nobody = (result.data for result in bound.results)
    assert isinstance(elsewhere, SlotsData) and isinstance(nobody, SlotsData)
    assert not elsewhere.fits and elsewhere.slots
    assert elsewhere.problem == "Não há horários livres para pediatra em sábado."
    assert not nobody.matched and nobody.slots == ()

"""Booking and cancelling, with the database refusing a double booking even under a race."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from hub.exceptions import CancellationRefusedError, SlotTakenError, SlotUnavailableError
from hub.store.appointments import book, cancel, upcoming
from hub.store.database import session_scope
from hub.store.models import BOOKED, Appointment
from hub.store.schedule import find_professional

pytestmark = pytest.mark.integration

CARLA = "Dra. Carla Mendes"


@pytest.fixture
def friday_nine(clinic_tz: ZoneInfo) -> datetime:
    """Carla Mendes's 09:00 slot on Friday 6 March 2026."""
    return datetime(2026, 3, 6, 9, 0, tzinfo=clinic_tz)


def book_carla(
    engine: Engine, starts_at: datetime, tz: ZoneInfo, now: datetime, **extra: Any
) -> Appointment:
    with session_scope(engine) as session:
        return book(
            session,
            "health",
            CARLA,
            starts_at,
            customer_name="Joana Silva",
            tz=tz,
            now=now,
            **extra,
        )


def active_bookings(engine: Engine) -> int:
    with session_scope(engine) as session:
        statement = (
            select(func.count()).select_from(Appointment).where(Appointment.status == BOOKED)
        )
        return session.scalars(statement).one()


def test_a_booking_is_stored_in_utc_and_read_back_as_the_same_instant(
    seeded: Engine, clinic_tz: ZoneInfo, monday: datetime, friday_nine: datetime
) -> None:
    appointment = book_carla(
        seeded, friday_nine, clinic_tz, monday, customer_phone="+5531999990000", conversation_id=77
    )
    with session_scope(seeded) as session:
        stored = session.get(Appointment, appointment.id)
        assert stored is not None
        assert stored.starts_at == friday_nine
        assert stored.starts_at.tzinfo == UTC
        assert stored.ends_at == friday_nine + timedelta(minutes=30)
        assert stored.created_at == monday
        assert stored.status == BOOKED
        assert stored.professional.name == CARLA
    with session_scope(seeded) as session:
        mine = upcoming(session, "health", account_id=None, now=monday, conversation_id=77)
    assert [a.id for a in mine] == [appointment.id]


@pytest.mark.parametrize(
    "when",
    [
        datetime(2026, 3, 5, 9, 0),  # a Thursday
        datetime(2026, 3, 6, 8, 15),  # between two slots
        datetime(2026, 3, 6, 12, 0),  # when the window closes
        datetime(2026, 3, 6, 7, 30),  # before it opens
    ],
)
def test_a_time_outside_the_weekly_slots_is_refused(
    seeded: Engine, clinic_tz: ZoneInfo, monday: datetime, when: datetime
) -> None:
    with pytest.raises(SlotUnavailableError, match="no slot"):
        book_carla(seeded, when.replace(tzinfo=clinic_tz), clinic_tz, monday)
    assert active_bookings(seeded) == 0


def test_a_past_slot_is_refused(seeded: Engine, clinic_tz: ZoneInfo, friday_nine: datetime) -> None:
    with pytest.raises(SlotUnavailableError, match="past"):
        book_carla(seeded, friday_nine, clinic_tz, now=friday_nine + timedelta(minutes=1))


def test_a_naive_time_is_refused(seeded: Engine, clinic_tz: ZoneInfo, monday: datetime) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        book_carla(seeded, datetime(2026, 3, 6, 9, 0), clinic_tz, monday)


def test_booking_a_taken_slot_is_refused_and_the_transaction_goes_on(
    seeded: Engine, clinic_tz: ZoneInfo, monday: datetime, friday_nine: datetime
) -> None:
    book_carla(seeded, friday_nine, clinic_tz, monday)
    with session_scope(seeded) as session:
        with pytest.raises(SlotTakenError, match="slot taken"):
            book(
                session,
                "health",
                CARLA,
                friday_nine,
                customer_name="Outra",
                tz=clinic_tz,
                now=monday,
            )
        later = friday_nine + timedelta(minutes=30)
        book(session, "health", CARLA, later, customer_name="Outra", tz=clinic_tz, now=monday)
    assert active_bookings(seeded) == 2


def test_the_database_itself_refuses_a_second_active_booking(
    seeded: Engine, clinic_tz: ZoneInfo, monday: datetime, friday_nine: datetime
) -> None:
    first = book_carla(seeded, friday_nine, clinic_tz, monday)
    with pytest.raises(IntegrityError), session_scope(seeded) as session:
        session.add(
            Appointment(
                domain="health",
                professional_id=first.professional_id,
                starts_at=friday_nine,
                ends_at=first.ends_at,
                customer_name="Sem checagem",
                status=BOOKED,
                created_at=monday,
            )
        )


def test_two_bookings_of_the_same_slot_at_once_make_exactly_one(
    seeded: Engine, clinic_tz: ZoneInfo, monday: datetime, friday_nine: datetime
) -> None:
    barrier = threading.Barrier(2, timeout=30)
    postgres = seeded.dialect.name == "postgresql"
    outcomes: list[str] = []

    def attempt(customer: str) -> None:
        try:
            if not postgres:
                barrier.wait()  # SQLite: BEGIN IMMEDIATE queues the second writer
            with session_scope(seeded) as session:
                if postgres:
                    # Both transactions have read the schedule; both now INSERT at once.
                    event.listen(session, "before_flush", lambda *_: barrier.wait(), once=True)
                book(
                    session,
                    "health",
                    CARLA,
                    friday_nine,
                    customer_name=customer,
                    tz=clinic_tz,
                    now=monday,
                )
            outcomes.append("booked")
        except SlotTakenError as error:
            outcomes.append("taken" if "slot taken" in str(error) else repr(error))
        except Exception as error:  # reported below rather than lost in the thread
            outcomes.append(repr(error))

    threads = [threading.Thread(target=attempt, args=(name,)) for name in ("Ana", "Bia")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["booked", "taken"]
    assert active_bookings(seeded) == 1


def test_cancelling_24_hours_or_more_before_is_free(
    seeded: Engine, clinic_tz: ZoneInfo, monday: datetime, friday_nine: datetime
) -> None:
    appointment = book_carla(seeded, friday_nine, clinic_tz, monday)
    with session_scope(seeded) as session:
        result = cancel(
            session,
            "health",
            appointment.id,
            account_id=None,
            now=friday_nine - timedelta(hours=24),
        )
    assert not result.fee_applies
    assert result.appointment.status == "cancelled"
    assert result.appointment.cancelled_at == friday_nine - timedelta(hours=24)


def test_cancelling_later_than_24_hours_before_carries_the_fee(
    seeded: Engine, clinic_tz: ZoneInfo, monday: datetime, friday_nine: datetime
) -> None:
    appointment = book_carla(seeded, friday_nine, clinic_tz, monday)
    with session_scope(seeded) as session:
        result = cancel(
            session,
            "health",
            appointment.id,
            account_id=None,
            now=friday_nine - timedelta(hours=23),
        )
    assert result.fee_applies


def test_the_free_cancellation_notice_is_a_parameter(
    seeded: Engine, clinic_tz: ZoneInfo, monday: datetime, friday_nine: datetime
) -> None:
    appointment = book_carla(seeded, friday_nine, clinic_tz, monday)
    with session_scope(seeded) as session:
        now = friday_nine - timedelta(hours=30)
        assert cancel(
            session, "health", appointment.id, account_id=None, now=now, free_until_hours=48
        ).fee_applies


def test_a_cancelled_slot_can_be_booked_again(
    seeded: Engine, clinic_tz: ZoneInfo, monday: datetime, friday_nine: datetime
) -> None:
    appointment = book_carla(seeded, friday_nine, clinic_tz, monday)
    with session_scope(seeded) as session:
        cancel(session, "health", appointment.id, account_id=None, now=monday)
    book_carla(seeded, friday_nine, clinic_tz, monday)
    assert active_bookings(seeded) == 1


def test_an_appointment_cannot_be_cancelled_twice_or_after_it_started(
    seeded: Engine, clinic_tz: ZoneInfo, monday: datetime, friday_nine: datetime
) -> None:
    first = book_carla(seeded, friday_nine, clinic_tz, monday)
    second = book_carla(seeded, friday_nine + timedelta(minutes=30), clinic_tz, monday)
    with session_scope(seeded) as session:
        cancel(session, "health", first.id, account_id=None, now=monday)
        with pytest.raises(CancellationRefusedError, match="already cancelled"):
            cancel(session, "health", first.id, account_id=None, now=monday)
        with pytest.raises(CancellationRefusedError, match="already started"):
            cancel(
                session, "health", second.id, account_id=None, now=friday_nine + timedelta(hours=1)
            )


def test_the_professional_lookup_ignores_accents_and_case(seeded: Engine) -> None:
    with session_scope(seeded) as session:
        assert find_professional(session, "health", "dra. carla mendes").name == CARLA

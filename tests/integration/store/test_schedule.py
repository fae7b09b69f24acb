"""Free slots: weekly windows in the clinic's time zone, minus bookings, after "now"."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine

from hub.store.appointments import book, cancel
from hub.store.database import session_scope
from hub.store.schedule import Slot, free_slots

pytestmark = pytest.mark.integration

CARLA = "Dra. Carla Mendes"
TWO_WEEKS = (date(2026, 3, 2), date(2026, 3, 15))


def slots(engine: Engine, tz: ZoneInfo, now: datetime, **query: str) -> list[Slot]:
    with session_scope(engine) as session:
        start, end = TWO_WEEKS
        return free_slots(session, "health", start=start, end=end, tz=tz, now=now, **query)


def test_carla_mendes_is_free_only_on_friday_mornings_in_30_minute_slots(
    seeded: Engine, clinic_tz: ZoneInfo, monday: datetime
) -> None:
    found = slots(seeded, clinic_tz, monday, professional=CARLA)
    assert len(found) == 16  # two Fridays, 08:00 to 12:00
    assert {slot.starts_at.date() for slot in found} == {date(2026, 3, 6), date(2026, 3, 13)}
    assert {slot.starts_at.strftime("%a") for slot in found} == {"Fri"}
    first_friday = [slot.starts_at.time() for slot in found[:8]]
    assert first_friday == [time(8 + m // 60, m % 60) for m in range(0, 240, 30)]
    assert all(slot.ends_at - slot.starts_at == timedelta(minutes=30) for slot in found)
    assert all(slot.starts_at.tzinfo == clinic_tz for slot in found)
    assert max(slot.ends_at.time() for slot in found) == time(12, 0)


def test_a_specialty_finds_its_professionals_without_accents(
    seeded: Engine, clinic_tz: ZoneInfo, monday: datetime
) -> None:
    by_specialty = slots(seeded, clinic_tz, monday, specialty="dermatologia")
    assert by_specialty == slots(seeded, clinic_tz, monday, professional=CARLA)
    assert {
        slot.professional for slot in slots(seeded, clinic_tz, monday, specialty="clinica")
    } == {"Dra. Ana Souza"}


def test_only_slots_after_now_are_offered(seeded: Engine, clinic_tz: ZoneInfo) -> None:
    friday_morning = datetime(2026, 3, 6, 10, 10, tzinfo=clinic_tz)
    found = slots(seeded, clinic_tz, friday_morning, professional=CARLA)
    assert found[0].starts_at == datetime(2026, 3, 6, 10, 30, tzinfo=clinic_tz)
    assert len(found) == 3 + 8


def test_a_booked_slot_is_not_offered_until_it_is_cancelled(
    seeded: Engine, clinic_tz: ZoneInfo, monday: datetime
) -> None:
    nine = datetime(2026, 3, 6, 9, 0, tzinfo=clinic_tz)
    with session_scope(seeded) as session:
        appointment = book(
            session, "health", CARLA, nine, customer_name="Joana", tz=clinic_tz, now=monday
        )
    assert nine not in {
        slot.starts_at for slot in slots(seeded, clinic_tz, monday, professional=CARLA)
    }
    with session_scope(seeded) as session:
        cancel(session, "health", appointment.id, account_id=None, now=monday)
    assert nine in {slot.starts_at for slot in slots(seeded, clinic_tz, monday, professional=CARLA)}


def test_slots_are_computed_in_the_time_zone_given(seeded: Engine, monday: datetime) -> None:
    lisbon = ZoneInfo("Europe/Lisbon")
    found = slots(seeded, lisbon, monday, professional=CARLA)
    assert found[0].starts_at == datetime(2026, 3, 6, 8, 0, tzinfo=lisbon)


def test_an_unknown_professional_has_no_slots(
    seeded: Engine, clinic_tz: ZoneInfo, monday: datetime
) -> None:
    assert slots(seeded, clinic_tz, monday, professional="Dr. Ninguém") == []

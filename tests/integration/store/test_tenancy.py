"""One business never sees another's data, whatever it asks for."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from hub.exceptions import RecordNotFoundError
from hub.store.appointments import book, cancel, upcoming
from hub.store.database import session_scope
from hub.store.models import Availability
from hub.store.orders import order_by_number
from hub.store.products import product_by_sku, search_products
from hub.store.schedule import find_professional, free_slots

pytestmark = pytest.mark.integration

CARLA = "Dra. Carla Mendes"


def test_a_cosmetics_word_searched_from_retail_finds_nothing(seeded: Engine) -> None:
    with session_scope(seeded) as session:
        assert search_products(session, "cosmetics", "protetor solar")
        assert search_products(session, "retail", "protetor solar") == []
        assert search_products(session, "retail", "sérum vitamina c") == []
        assert search_products(session, "cosmetics", "air fryer") == []


def test_a_sku_is_found_only_in_its_own_domain(seeded: Engine) -> None:
    with session_scope(seeded) as session:
        assert product_by_sku(session, "retail", "BP-002") is None
        assert product_by_sku(session, "health", "CC-101") is None


def test_a_retail_order_number_is_invisible_from_health(seeded: Engine) -> None:
    with session_scope(seeded) as session:
        assert order_by_number(session, "retail", "CC-2026-00020") is not None
        assert order_by_number(session, "health", "CC-2026-00020") is None
        assert order_by_number(session, "cosmetics", "CC-2026-00017") is None


def test_the_clinic_professionals_exist_only_for_the_clinic(
    seeded: Engine, clinic_tz: ZoneInfo, monday: datetime
) -> None:
    friday_nine = datetime(2026, 3, 6, 9, 0, tzinfo=clinic_tz)
    with session_scope(seeded) as session:
        start, end = date(2026, 3, 2), date(2026, 3, 8)
        for domain in ("retail", "cosmetics"):
            found = free_slots(session, domain, start=start, end=end, tz=clinic_tz, now=monday)
            assert found == []
        with pytest.raises(RecordNotFoundError, match="no professional"):
            find_professional(session, "retail", CARLA)
        with pytest.raises(RecordNotFoundError, match="no professional"):
            book(
                session,
                "cosmetics",
                CARLA,
                friday_nine,
                customer_name="X",
                tz=clinic_tz,
                now=monday,
            )


def test_an_appointment_cannot_be_seen_or_cancelled_from_another_domain(
    seeded: Engine, clinic_tz: ZoneInfo, monday: datetime
) -> None:
    friday_nine = datetime(2026, 3, 6, 9, 0, tzinfo=clinic_tz)
    with session_scope(seeded) as session:
        appointment = book(
            session, "health", CARLA, friday_nine, customer_name="Joana", conversation_id=5,
            tz=clinic_tz, now=monday,
        )  # fmt: skip
    with session_scope(seeded) as session:
        assert upcoming(session, "retail", account_id=None, now=monday, conversation_id=5) == []
        with pytest.raises(RecordNotFoundError, match="no appointment"):
            cancel(session, "retail", appointment.id, account_id=None, now=monday)
    with session_scope(seeded) as session:
        assert len(upcoming(session, "health", account_id=None, now=monday, conversation_id=5)) == 1


def test_the_database_refuses_a_row_whose_domain_differs_from_its_professional(
    seeded: Engine,
) -> None:
    with session_scope(seeded) as session:
        carla_id = find_professional(session, "health", CARLA).id
    with pytest.raises(IntegrityError), session_scope(seeded) as session:
        session.add(
            Availability(
                domain="retail", professional_id=carla_id, weekday=0, start_minute=0, end_minute=60
            )
        )


def test_two_accounts_with_the_same_conversation_id_never_see_each_other_s_appointments(
    seeded: Engine, clinic_tz: ZoneInfo, monday: datetime
) -> None:
    friday_nine = datetime(2026, 3, 6, 9, 0, tzinfo=clinic_tz)
    with session_scope(seeded) as session:
        patient = book(
            session, "health", CARLA, friday_nine, customer_name="Joana",
            customer_phone="+5531999990000", account_id=2, conversation_id=5,
            tz=clinic_tz, now=monday,
        )  # fmt: skip
    with session_scope(seeded) as session:
        assert upcoming(session, "health", account_id=9, now=monday, conversation_id=5) == []
        assert (
            upcoming(session, "health", account_id=9, now=monday, customer_phone="+5531999990000")
            == []
        )
        assert upcoming(session, "health", account_id=None, now=monday, conversation_id=5) == []
        with pytest.raises(RecordNotFoundError, match="no appointment"):
            cancel(session, "health", patient.id, account_id=9, now=monday)
    with session_scope(seeded) as session:
        mine = upcoming(session, "health", account_id=2, now=monday, conversation_id=5)
        assert [a.id for a in mine] == [patient.id]
        assert cancel(session, "health", patient.id, account_id=2, now=monday).appointment

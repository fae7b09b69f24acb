"""Orders by number: the sample statuses, and malformed numbers refused before a query."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from hub.exceptions import InvalidOrderNumberError
from hub.store.database import session_scope
from hub.store.orders import ORDER_NUMBER_PATTERN, normalize_order_number, order_by_number

pytestmark = pytest.mark.integration


def test_order_cc_2026_00020_is_cancelled_with_a_refund_note(seeded: Engine) -> None:
    with session_scope(seeded) as session:
        order = order_by_number(session, "retail", "CC-2026-00020")
    assert order is not None
    assert order.status == "cancelled"
    assert "reembolso" in order.note


def test_an_order_number_may_be_typed_in_lower_case(seeded: Engine) -> None:
    with session_scope(seeded) as session:
        order = order_by_number(session, "retail", " cc-2026-00017 ")
    assert order is not None
    assert order.status == "out_for_delivery"


def test_a_well_formed_unknown_number_is_none(seeded: Engine) -> None:
    with session_scope(seeded) as session:
        assert order_by_number(session, "retail", "CC-2026-99999") is None


@pytest.mark.parametrize("number", ["CC-2026-20", "2026-00020", "CC202600020", "CC-2026-00020x"])
def test_a_malformed_number_is_refused(seeded: Engine, number: str) -> None:
    with (
        session_scope(seeded) as session,
        pytest.raises(InvalidOrderNumberError, match="not an order"),
    ):
        order_by_number(session, "retail", number)


def test_the_order_number_pattern_lives_in_one_constant() -> None:
    assert ORDER_NUMBER_PATTERN.pattern == r"^[A-Z]{2}-\d{4}-\d{5}$"
    assert normalize_order_number("bp-2026-00001") == "BP-2026-00001"

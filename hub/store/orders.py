"""Orders of one domain, looked up by their number."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.exceptions import InvalidOrderNumberError
from hub.store.models import Order

ORDER_NUMBER_PATTERN = re.compile(r"^[A-Z]{2}-\d{4}-\d{5}$")
"""Order numbers of the sample businesses: prefix, year, sequence (CC-2026-00020)."""


def normalize_order_number(number: str, pattern: re.Pattern[str] = ORDER_NUMBER_PATTERN) -> str:
    """The number as stored (upper case, no surrounding spaces); raises if malformed.

    Checked before any query, so a customer's typo gets "that is not an order
    number" rather than "no such order".
    """
    candidate = number.strip().upper()
    if not pattern.fullmatch(candidate):
        raise InvalidOrderNumberError(
            f"{number!r} is not an order number (expected {pattern.pattern})"
        )
    return candidate


def order_by_number(
    session: Session, domain: str, number: str, *, pattern: re.Pattern[str] = ORDER_NUMBER_PATTERN
) -> Order | None:
    """The domain's order with this number, or None; raises if the number is malformed."""
    wanted = normalize_order_number(number, pattern)
    statement = select(Order).where(Order.domain == domain, Order.number == wanted)
    return session.scalars(statement).one_or_none()

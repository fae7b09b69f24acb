"""Booking and cancelling appointments; the database has the last word on conflicts.

`book` checks what only the application knows (the professional exists in the
domain, the slot is one of their weekly slots, it is in the future) and leaves
"is it still free?" to the partial unique index `uq_appointments_active_slot`:
whichever of two simultaneous bookings commits second gets an IntegrityError,
reported as "slot taken". Nothing reads-then-writes, so there is no race to lose.

An appointment made from a Chatwoot conversation carries its account, and the
lookups by conversation or phone (`upcoming`) and `cancel` take the account too:
conversation 5 of one account is not conversation 5 of another. `None` is the
account of bookings made outside Chatwoot (the terminal chat), and matches only them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.exceptions import (
    CancellationRefusedError,
    RecordNotFoundError,
    SlotTakenError,
    SlotUnavailableError,
)
from hub.store.models import BOOKED, CANCELLED, Appointment
from hub.store.schedule import find_professional, is_offered, zone

FREE_CANCELLATION_HOURS = 24.0
"""Default notice for a free cancellation (the sample clinic's rule)."""


@dataclass(frozen=True)
class Cancellation:
    """A cancelled appointment, and whether the late-cancellation fee applies to it."""

    appointment: Appointment
    fee_applies: bool


def book(
    session: Session,
    domain: str,
    professional: str,
    starts_at: datetime,
    *,
    customer_name: str,
    customer_phone: str | None = None,
    account_id: int | None = None,
    conversation_id: int | None = None,
    tz: ZoneInfo | str,
    now: datetime | None = None,
) -> Appointment:
    """Book one of the professional's free slots; raises if it is not offered or taken."""
    now = _aware(now or datetime.now(UTC), "now")
    starts_at = _aware(starts_at, "starts_at")
    person = find_professional(session, domain, professional)
    if not is_offered(person, starts_at, zone(tz)):
        raise SlotUnavailableError(
            f"{person.name} has no slot starting at {starts_at.astimezone(zone(tz)):%Y-%m-%d %H:%M}"
        )
    if starts_at <= now:
        raise SlotUnavailableError(f"the slot at {starts_at.isoformat()} is in the past")
    appointment = Appointment(
        domain=person.domain,
        professional_id=person.id,
        professional=person,
        starts_at=starts_at.astimezone(UTC),
        ends_at=(starts_at + timedelta(minutes=person.slot_minutes)).astimezone(UTC),
        customer_name=customer_name,
        customer_phone=customer_phone,
        account_id=account_id,
        conversation_id=conversation_id,
        status=BOOKED,
        created_at=now.astimezone(UTC),
    )
    try:
        with session.begin_nested():  # a savepoint: the caller's transaction survives
            session.add(appointment)
    except IntegrityError:
        raise SlotTakenError(
            f"slot taken: {person.name} is already booked at {starts_at.isoformat()}"
        ) from None
    return appointment


def cancel(
    session: Session,
    domain: str,
    appointment_id: int,
    *,
    account_id: int | None,
    now: datetime | None = None,
    free_until_hours: float = FREE_CANCELLATION_HOURS,
) -> Cancellation:
    """Cancel a future appointment of the account; the fee applies when less than the
    notice remains.

    Exactly `free_until_hours` before the start is still free. Which fee (the
    clinic charges 50% of a private consultation) is the caller's business.
    """
    now = _aware(now or datetime.now(UTC), "now")
    statement = select(Appointment).where(
        Appointment.domain == domain,
        _of_account(account_id),
        Appointment.id == appointment_id,
    )
    appointment = session.scalars(statement.with_for_update()).one_or_none()
    if appointment is None:
        raise RecordNotFoundError(
            f"no appointment {appointment_id} in domain {domain!r} for account {account_id}"
        )
    if appointment.status == CANCELLED:
        raise CancellationRefusedError(f"appointment {appointment_id} is already cancelled")
    if appointment.starts_at <= now:
        raise CancellationRefusedError(f"appointment {appointment_id} has already started")
    appointment.status = CANCELLED
    appointment.cancelled_at = now.astimezone(UTC)
    session.flush()
    notice = appointment.starts_at - now
    return Cancellation(appointment, fee_applies=notice < timedelta(hours=free_until_hours))


def upcoming(
    session: Session,
    domain: str,
    *,
    account_id: int | None,
    now: datetime,
    customer_phone: str | None = None,
    conversation_id: int | None = None,
) -> list[Appointment]:
    """The domain's booked appointments after `now` of a phone and/or a conversation
    of the account."""
    statement = select(Appointment).where(
        Appointment.domain == domain,
        _of_account(account_id),
        Appointment.status == BOOKED,
        Appointment.starts_at > _aware(now, "now"),
    )
    if customer_phone is None and conversation_id is None:
        return []
    if customer_phone is not None:
        statement = statement.where(Appointment.customer_phone == customer_phone)
    if conversation_id is not None:
        statement = statement.where(Appointment.conversation_id == conversation_id)
    return list(session.scalars(statement.order_by(Appointment.starts_at)))


def _of_account(account_id: int | None) -> ColumnElement[bool]:
    """Rows of the account; `None` matches only rows without one (never a Chatwoot one)."""
    if account_id is None:
        return Appointment.account_id.is_(None)
    return Appointment.account_id == account_id


def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {value!r}")
    return value

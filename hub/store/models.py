"""The business-data tables; every row belongs to one domain.

`domain` is the first column of every table's unique key (and so of an index),
and every query in `hub.store` filters on it. A row that holds a Chatwoot
conversation or contact (appointments, conversation messages) also carries its
`account_id`, and is only ever looked up with it: a conversation id is unique
within one Chatwoot account only. Availability and appointments
point at their professional by (domain, id), so the database itself refuses a
row whose domain differs from its professional's.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKeyConstraint,
    Index,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from hub.store.types import UTCDateTime

BOOKED = "booked"
CANCELLED = "cancelled"
ACTIVE_SLOT = text("status <> 'cancelled'")
"""Rows the double-booking index covers: every appointment that is not cancelled."""


class Base(DeclarativeBase):
    """Declarative base of the store; its metadata is what the migrations build."""

    metadata = MetaData()


class Product(Base):
    """A catalogue item; `search_text` is derived, kept up to date by `hub.store.products`."""

    __tablename__ = "products"
    __table_args__ = (
        UniqueConstraint("domain", "sku", name="uq_products_domain_sku"),
        CheckConstraint("price >= 0 AND stock >= 0", name="ck_products_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(64))
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    price: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    stock: Mapped[int]
    category: Mapped[str | None] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    restock_note: Mapped[str | None] = mapped_column(String(300))
    search_text: Mapped[str] = mapped_column(Text, default="")


class Order(Base):
    """A customer order, looked up by its number; its details are told only to the
    contact whose phone or e-mail is the order's (`hub.store.orders.belongs_to`)."""

    __tablename__ = "orders"
    __table_args__ = (UniqueConstraint("domain", "number", name="uq_orders_domain_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(64))
    number: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    customer_phone: Mapped[str | None] = mapped_column(String(32))
    customer_email: Mapped[str | None] = mapped_column(String(254))


class Professional(Base):
    """Someone customers book; `slot_minutes` is the length of one appointment."""

    __tablename__ = "professionals"
    __table_args__ = (
        UniqueConstraint("domain", "name", name="uq_professionals_domain_name"),
        UniqueConstraint("domain", "id", name="uq_professionals_domain_id"),
        CheckConstraint("slot_minutes > 0", name="ck_professionals_slot_minutes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(120))
    specialty: Mapped[str] = mapped_column(String(120))
    slot_minutes: Mapped[int]
    availability: Mapped[list[Availability]] = relationship(
        back_populates="professional", cascade="all, delete-orphan", order_by="Availability.id"
    )


class Availability(Base):
    """One weekly window: weekday 0 = Monday; minutes since local midnight, end exclusive."""

    __tablename__ = "availability"
    __table_args__ = (
        ForeignKeyConstraint(
            ["domain", "professional_id"],
            ["professionals.domain", "professionals.id"],
            name="fk_availability_professional",
            ondelete="CASCADE",
        ),
        UniqueConstraint(
            "domain", "professional_id", "weekday", "start_minute", name="uq_availability_window"
        ),
        CheckConstraint(
            "weekday BETWEEN 0 AND 6 AND start_minute >= 0 "
            "AND start_minute < end_minute AND end_minute <= 1440",
            name="ck_availability_window",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(64))
    professional_id: Mapped[int]
    weekday: Mapped[int] = mapped_column(SmallInteger)
    start_minute: Mapped[int] = mapped_column(SmallInteger)
    end_minute: Mapped[int] = mapped_column(SmallInteger)
    professional: Mapped[Professional] = relationship(back_populates="availability")


class Appointment(Base):
    """A booked (or cancelled) slot; times are aware datetimes stored as UTC.

    Double booking is impossible at the database level: the partial unique index
    `uq_appointments_active_slot` on (domain, professional_id, starts_at) covers
    only rows whose status is not 'cancelled' (PostgreSQL and SQLite both support
    partial indexes), so a second active booking of the same start fails with an
    IntegrityError however the requests interleave, while a cancelled slot can be
    booked again.
    """

    __tablename__ = "appointments"
    __table_args__ = (
        ForeignKeyConstraint(
            ["domain", "professional_id"],
            ["professionals.domain", "professionals.id"],
            name="fk_appointments_professional",
        ),
        CheckConstraint(f"status IN ('{BOOKED}', '{CANCELLED}')", name="ck_appointments_status"),
        CheckConstraint("ends_at > starts_at", name="ck_appointments_ends_after_start"),
        Index("ix_appointments_professional_time", "domain", "professional_id", "starts_at"),
        Index("ix_appointments_conversation", "domain", "account_id", "conversation_id"),
        Index(
            "uq_appointments_active_slot",
            "domain",
            "professional_id",
            "starts_at",
            unique=True,
            postgresql_where=ACTIVE_SLOT,
            sqlite_where=ACTIVE_SLOT,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(64))
    professional_id: Mapped[int]
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    customer_name: Mapped[str] = mapped_column(String(200))
    customer_phone: Mapped[str | None] = mapped_column(String(32))
    account_id: Mapped[int | None]
    """The Chatwoot account of `conversation_id` and of the customer; None for a booking
    made outside Chatwoot (the terminal chat), or an old row whose account was unknown."""
    conversation_id: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default=BOOKED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    professional: Mapped[Professional] = relationship()


class ConversationMessage(Base):
    """One message of a conversation, in (the customer's) or out (our reply or handoff).

    This is the crews' memory: Chatwoot bot tokens cannot read a conversation's
    history, so the last turns of the prompt come from here. `message_id` is the
    customer message a row belongs to (the reply of message 42 carries 42), which
    makes recording idempotent when a message is delivered twice.
    """

    __tablename__ = "conversation_messages"
    __table_args__ = (
        UniqueConstraint(
            "domain", "account_id", "message_id", "direction", name="uq_conversation_messages_once"
        ),
        CheckConstraint("direction IN ('in', 'out')", name="ck_conversation_messages_direction"),
        Index("ix_conversation_messages_thread", "domain", "account_id", "conversation_id", "id"),
        Index("ix_conversation_messages_recent", "domain", "direction", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int]
    conversation_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    direction: Mapped[str] = mapped_column(String(3))
    text: Mapped[str] = mapped_column(Text)
    route: Mapped[str | None] = mapped_column(String(64))
    latency_ms: Mapped[int | None]
    prompt_tokens: Mapped[int | None]
    completion_tokens: Mapped[int | None]
    cost_usd: Mapped[Decimal | None] = mapped_column(Numeric(12, 6))
    """What the turn's model calls cost, from the configured prices; None when unknown."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    trace: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The reply's turn trace (`hub.trace`); None on customer rows and older turns."""
    handoff_kind: Mapped[str | None] = mapped_column(String(20))
    """Why the turn handed off (`hub.turn.HandoffKind`); None for a plain reply."""
    failure: Mapped[str | None] = mapped_column(String(40))
    """The crew failure's label (`model_timeout`, `tool_error`…); None when none."""
    rejected: Mapped[bool | None] = mapped_column(Boolean)
    """The reply gate refused a reply of the turn."""

"""The business data: products, orders, professionals, availability, appointments.

Every table carries `domain` as the first column of its unique key. The partial
unique index `uq_appointments_active_slot` is the double-booking guarantee: one
non-cancelled appointment per (domain, professional, start), on PostgreSQL and
SQLite alike.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE_SLOT = sa.text("status <> 'cancelled'")
PROFESSIONAL = ["professionals.domain", "professionals.id"]


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("domain", sa.String(64), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("price", sa.Numeric(10, 2), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(120), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("restock_note", sa.String(300), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.CheckConstraint("price >= 0 AND stock >= 0", name="ck_products_not_negative"),
        sa.UniqueConstraint("domain", "sku", name="uq_products_domain_sku"),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("domain", sa.String(64), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("customer_phone", sa.String(32), nullable=True),
        sa.UniqueConstraint("domain", "number", name="uq_orders_domain_number"),
    )
    op.create_table(
        "professionals",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("domain", sa.String(64), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("specialty", sa.String(120), nullable=False),
        sa.Column("slot_minutes", sa.Integer(), nullable=False),
        sa.CheckConstraint("slot_minutes > 0", name="ck_professionals_slot_minutes"),
        sa.UniqueConstraint("domain", "id", name="uq_professionals_domain_id"),
        sa.UniqueConstraint("domain", "name", name="uq_professionals_domain_name"),
    )
    op.create_table(
        "availability",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("domain", sa.String(64), nullable=False),
        sa.Column("professional_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("start_minute", sa.SmallInteger(), nullable=False),
        sa.Column("end_minute", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint(
            "weekday BETWEEN 0 AND 6 AND start_minute >= 0 "
            "AND start_minute < end_minute AND end_minute <= 1440",
            name="ck_availability_window",
        ),
        sa.ForeignKeyConstraint(
            ["domain", "professional_id"],
            PROFESSIONAL,
            name="fk_availability_professional",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "domain", "professional_id", "weekday", "start_minute", name="uq_availability_window"
        ),
    )
    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("domain", sa.String(64), nullable=False),
        sa.Column("professional_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("customer_name", sa.String(200), nullable=False),
        sa.Column("customer_phone", sa.String(32), nullable=True),
        sa.Column("conversation_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('booked', 'cancelled')", name="ck_appointments_status"),
        sa.CheckConstraint("ends_at > starts_at", name="ck_appointments_ends_after_start"),
        sa.ForeignKeyConstraint(
            ["domain", "professional_id"], PROFESSIONAL, name="fk_appointments_professional"
        ),
    )
    op.create_index(
        "ix_appointments_professional_time",
        "appointments",
        ["domain", "professional_id", "starts_at"],
    )
    op.create_index(
        "uq_appointments_active_slot",
        "appointments",
        ["domain", "professional_id", "starts_at"],
        unique=True,
        postgresql_where=ACTIVE_SLOT,
        sqlite_where=ACTIVE_SLOT,
    )


def downgrade() -> None:
    op.drop_index("uq_appointments_active_slot", table_name="appointments")
    op.drop_index("ix_appointments_professional_time", table_name="appointments")
    op.drop_table("appointments")
    op.drop_table("availability")
    op.drop_table("professionals")
    op.drop_table("orders")
    op.drop_table("products")

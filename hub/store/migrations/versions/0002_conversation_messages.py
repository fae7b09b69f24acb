"""Conversation messages: the crews' memory and the record of every turn.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversation_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("domain", sa.String(64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("route", sa.String(64), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("completion_tokens", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint(
            "domain", "account_id", "message_id", "direction", name="uq_conversation_messages_once"
        ),
        sa.CheckConstraint("direction IN ('in', 'out')", name="ck_conversation_messages_direction"),
    )
    op.create_index(
        "ix_conversation_messages_thread",
        "conversation_messages",
        ["domain", "account_id", "conversation_id", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_conversation_messages_thread", table_name="conversation_messages")
    op.drop_table("conversation_messages")

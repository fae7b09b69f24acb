"""Each reply's turn trace, and the columns the console filters and counts on.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversation_messages") as batch:
        batch.add_column(sa.Column("trace", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("handoff_kind", sa.String(20), nullable=True))
        batch.add_column(sa.Column("failure", sa.String(40), nullable=True))
        batch.add_column(sa.Column("rejected", sa.Boolean(), nullable=True))
    op.create_index(
        "ix_conversation_messages_recent",
        "conversation_messages",
        ["domain", "direction", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_conversation_messages_recent", table_name="conversation_messages")
    with op.batch_alter_table("conversation_messages") as batch:
        batch.drop_column("rejected")
        batch.drop_column("failure")
        batch.drop_column("handoff_kind")
        batch.drop_column("trace")

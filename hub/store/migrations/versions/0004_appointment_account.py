"""Appointments carry their Chatwoot account, as conversation messages already do.

A conversation id is unique within one Chatwoot account only, so an appointment
found by (domain, conversation id) alone could belong to another account's
conversation of the same number. Existing rows are kept and their account filled
in, first from the domain's configured account (`chatwoot.account_id`, passed by
the caller as `config.attributes["accounts"]`, domain → account), else from the
conversation's own recorded messages when they name exactly one account. A row
neither source settles keeps a NULL account: no Chatwoot conversation sees it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_APPOINTMENTS = sa.table(
    "appointments",
    sa.column("domain", sa.String()),
    sa.column("account_id", sa.Integer()),
    sa.column("conversation_id", sa.BigInteger()),
)
_MESSAGES = sa.table(
    "conversation_messages",
    sa.column("domain", sa.String()),
    sa.column("account_id", sa.Integer()),
    sa.column("conversation_id", sa.BigInteger()),
)


def upgrade() -> None:
    with op.batch_alter_table("appointments") as batch:
        batch.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
    op.create_index(
        "ix_appointments_conversation",
        "appointments",
        ["domain", "account_id", "conversation_id"],
    )
    accounts: Mapping[str, int] = context.config.attributes.get("accounts") or {}
    for domain, account_id in sorted(accounts.items()):
        op.execute(
            _APPOINTMENTS.update()
            .where(_APPOINTMENTS.c.domain == domain, _APPOINTMENTS.c.account_id.is_(None))
            .values(account_id=account_id)
        )
    recorded = (
        sa.select(sa.func.min(_MESSAGES.c.account_id))
        .where(
            _MESSAGES.c.domain == _APPOINTMENTS.c.domain,
            _MESSAGES.c.conversation_id == _APPOINTMENTS.c.conversation_id,
        )
        .having(sa.func.count(sa.distinct(_MESSAGES.c.account_id)) == 1)
        .scalar_subquery()
    )
    op.execute(
        _APPOINTMENTS.update()
        .where(_APPOINTMENTS.c.account_id.is_(None), _APPOINTMENTS.c.conversation_id.isnot(None))
        .values(account_id=recorded)
    )


def downgrade() -> None:
    op.drop_index("ix_appointments_conversation", table_name="appointments")
    with op.batch_alter_table("appointments") as batch:
        batch.drop_column("account_id")

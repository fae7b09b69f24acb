"""The conversation store: every turn recorded, the last ones read back as memory.

Chatwoot bot tokens cannot read a conversation's history, so the prompt's
`{history}` comes from here. Recording is idempotent per (domain, account,
customer message, direction): a redelivered message never doubles a turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hub.store.models import ConversationMessage

ROLES = {"in": "customer", "out": "bot"}


@dataclass(frozen=True)
class TurnRecord:
    """One answered customer message and what it cost."""

    domain: str
    account_id: int
    conversation_id: int
    message_id: int
    customer_text: str
    reply_text: str
    route: str | None = None
    latency_ms: int | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: Decimal | None = None


def record_turn(session: Session, turn: TurnRecord, now: datetime | None = None) -> None:
    """Store the customer's message and our reply (each at most once)."""
    now = now or datetime.now(UTC)
    base = {
        "domain": turn.domain,
        "account_id": turn.account_id,
        "conversation_id": turn.conversation_id,
        "message_id": turn.message_id,
        "created_at": now,
    }
    rows = [
        {**base, "direction": "in", "text": turn.customer_text},
        {
            **base,
            "direction": "out",
            "text": turn.reply_text,
            "route": turn.route,
            "latency_ms": turn.latency_ms,
            "prompt_tokens": turn.prompt_tokens,
            "completion_tokens": turn.completion_tokens,
            "cost_usd": turn.cost_usd,
        },
    ]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    for row in rows:
        statement = dialect.insert(ConversationMessage).values(**row).on_conflict_do_nothing()
        session.execute(statement)


def history(
    session: Session, domain: str, account_id: int, conversation_id: int, *, turns: int
) -> list[tuple[str, str]]:
    """The last `turns` exchanges, oldest first, as (role, text) with role customer|bot."""
    return recent(session, domain, account_id, conversation_id, turns=turns)[0]


def recent(
    session: Session, domain: str, account_id: int, conversation_id: int, *, turns: int
) -> tuple[list[tuple[str, str]], str | None]:
    """`history`, and the route of the last bot turn (None after a handoff or if unknown):
    one query for both."""
    if turns <= 0:
        return [], None
    statement = (
        select(ConversationMessage)
        .where(
            ConversationMessage.domain == domain,
            ConversationMessage.account_id == account_id,
            ConversationMessage.conversation_id == conversation_id,
        )
        .order_by(ConversationMessage.id.desc())
        .limit(turns * 2)
    )
    rows = list(session.scalars(statement))
    last_route = next((row.route for row in rows if row.direction == "out"), None)
    return [(ROLES[row.direction], row.text) for row in reversed(rows)], last_route

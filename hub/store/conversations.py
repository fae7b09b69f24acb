"""The conversation store: every turn recorded, the last ones read back as memory.

Chatwoot bot tokens cannot read a conversation's history, so the prompt's
`{history}` comes from here. Recording is idempotent per (domain, account,
customer message, direction): a redelivered message never doubles a turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Insert, Table, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from hub.store.models import ConversationMessage

ROLES = {"in": "customer", "out": "bot"}


@dataclass(frozen=True)
class TurnRecord:
    """One answered customer message, what it cost and why it went so (its trace).

    Plain JSON-able fields (a Decimal cost aside), so a record can be kept elsewhere
    while the database is away and written later.
    """

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
    trace: dict[str, Any] | None = None
    """The turn's trace (`hub.trace.Trace.to_json`)."""
    handoff_kind: str | None = None
    failure: str | None = None
    rejected: bool = False
    """The reply gate refused a reply of the turn (`hub.turn.HubResult.rejections`)."""


def record_turn(
    executor: Connection | Session, turn: TurnRecord, now: datetime | None = None
) -> None:
    """Store the customer's message and our reply (each at most once), in one statement.

    Core, not the ORM: this runs once per answered message on the worker's hot path,
    where the ORM's unit of work costs more than the insert itself.
    """
    now = now or datetime.now(UTC)
    base = {
        "domain": turn.domain,
        "account_id": turn.account_id,
        "conversation_id": turn.conversation_id,
        "message_id": turn.message_id,
        "created_at": now,
    }
    rows = [
        {
            **base,
            "direction": "in",
            "text": turn.customer_text,
            "route": None,
            "latency_ms": None,
            "prompt_tokens": None,
            "completion_tokens": None,
            "cost_usd": None,
            "trace": None,
            "handoff_kind": None,
            "failure": None,
            "rejected": None,
        },
        {
            **base,
            "direction": "out",
            "text": turn.reply_text,
            "route": turn.route,
            "latency_ms": turn.latency_ms,
            "prompt_tokens": turn.prompt_tokens,
            "completion_tokens": turn.completion_tokens,
            "cost_usd": turn.cost_usd,
            "trace": turn.trace,
            "handoff_kind": turn.handoff_kind,
            "failure": turn.failure,
            "rejected": turn.rejected,
        },
    ]
    executor.execute(_insert_once(_dialect_name(executor)), rows)


def history(
    executor: Connection | Session,
    domain: str,
    account_id: int,
    conversation_id: int,
    *,
    turns: int,
) -> list[tuple[str, str]]:
    """The last `turns` exchanges, oldest first, as (role, text) with role customer|bot."""
    return recent(executor, domain, account_id, conversation_id, turns=turns)[0]


def recent(
    executor: Connection | Session,
    domain: str,
    account_id: int,
    conversation_id: int,
    *,
    turns: int,
) -> tuple[list[tuple[str, str]], str | None]:
    """`history`, and the route of the last bot turn (None after a handoff or if unknown):
    one query for both."""
    if turns <= 0:
        return [], None
    rows = executor.execute(
        _RECENT,
        {
            "domain": domain,
            "account_id": account_id,
            "conversation_id": conversation_id,
            "limit": turns * 2,
        },
    ).all()
    last_route = next((row.route for row in rows if row.direction == "out"), None)
    return [(ROLES[row.direction], row.text) for row in reversed(rows)], last_route


_TABLE = cast(Table, ConversationMessage.__table__)
_RECENT = (
    select(_TABLE.c.direction, _TABLE.c.text, _TABLE.c.route)
    .where(
        _TABLE.c.domain == bindparam("domain"),
        _TABLE.c.account_id == bindparam("account_id"),
        _TABLE.c.conversation_id == bindparam("conversation_id"),
    )
    .order_by(_TABLE.c.id.desc())
    .limit(bindparam("limit"))
)
"""Built once: the newest rows of one conversation (the thread index serves it)."""


def _dialect_name(executor: Connection | Session) -> str:
    bind = executor.get_bind() if isinstance(executor, Session) else executor
    return bind.dialect.name


@lru_cache(maxsize=4)
def _insert_once(dialect_name: str) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING for the dialect: a redelivered turn is a no-op."""
    if dialect_name == "postgresql":
        return postgresql.insert(_TABLE).on_conflict_do_nothing()
    return sqlite.insert(_TABLE).on_conflict_do_nothing()

"""The recorded turns read back for the operator console: recent ones with their trace,
filtered, and per-day counts per domain.

Every query filters on the domain first (the console checks the user may see it);
the reply rows (`direction = 'out'`) carry the trace and the columns filtered on,
the customer's text is their pair's `in` row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import Table, and_, case, func, select
from sqlalchemy.engine import Connection

from hub.store.models import ConversationMessage

HandoffFilter = Literal["any", "none"] | str
"""`any` handoff, `none` (plain replies), or one kind (`rule`, `crew`, `failure`…)."""


@dataclass(frozen=True)
class TurnFilter:
    """What to keep of the recent turns; None (or False) keeps everything."""

    handoff: HandoffFilter | None = None
    failure: bool = False
    route: str | None = None
    rejected: bool = False


@dataclass(frozen=True)
class RecordedTurn:
    """One recorded turn: the customer's text, the reply, and why (its trace)."""

    domain: str
    account_id: int
    conversation_id: int
    message_id: int
    customer_text: str
    reply_text: str
    route: str | None
    created_at: datetime
    handoff_kind: str | None
    failure: str | None
    rejected: bool
    cost_usd: float | None
    latency_ms: int | None
    trace: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        """The turn as JSON types (the console's API)."""
        return {
            "domain": self.domain,
            "account_id": self.account_id,
            "conversation_id": self.conversation_id,
            "message_id": self.message_id,
            "customer_text": self.customer_text,
            "reply_text": self.reply_text,
            "route": self.route,
            "created_at": self.created_at.isoformat(),
            "handoff_kind": self.handoff_kind,
            "failure": self.failure,
            "rejected": self.rejected,
            "cost_usd": self.cost_usd,
            "latency_ms": self.latency_ms,
            "trace": self.trace,
        }


@dataclass(frozen=True)
class DayStats:
    """One domain's day: customer messages, replies, handoffs by kind, failures,
    gate rejections and cost."""

    day: date
    messages: int = 0
    replies: int = 0
    handoffs: dict[str, int] = field(default_factory=dict)
    failures: int = 0
    rejections: int = 0
    cost_usd: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "messages": self.messages,
            "replies": self.replies,
            "handoffs": dict(self.handoffs),
            "failures": self.failures,
            "rejections": self.rejections,
            "cost_usd": round(self.cost_usd, 6),
        }


_TABLE = cast(Table, ConversationMessage.__table__)


def recent_turns(
    connection: Connection, domain: str, wanted: TurnFilter | None = None, *, limit: int = 50
) -> list[RecordedTurn]:
    """The domain's newest recorded turns that pass `wanted`, newest first."""
    wanted = wanted or TurnFilter()
    out = _TABLE.alias("reply")
    customer = _TABLE.alias("customer")
    query = (
        select(out, customer.c.text.label("customer_text"))
        .select_from(
            out.outerjoin(
                customer,
                and_(
                    customer.c.domain == out.c.domain,
                    customer.c.account_id == out.c.account_id,
                    customer.c.message_id == out.c.message_id,
                    customer.c.direction == "in",
                ),
            )
        )
        .where(out.c.domain == domain, out.c.direction == "out")
        .order_by(out.c.created_at.desc(), out.c.id.desc())
        .limit(max(1, min(limit, 500)))
    )
    if wanted.handoff == "any":
        query = query.where(out.c.handoff_kind.is_not(None))
    elif wanted.handoff == "none":
        query = query.where(out.c.handoff_kind.is_(None))
    elif wanted.handoff:
        query = query.where(out.c.handoff_kind == wanted.handoff)
    if wanted.failure:
        query = query.where(out.c.failure.is_not(None))
    if wanted.route:
        query = query.where(out.c.route == wanted.route)
    if wanted.rejected:
        query = query.where(out.c.rejected.is_(True))
    return [
        RecordedTurn(
            domain=row.domain,
            account_id=row.account_id,
            conversation_id=row.conversation_id,
            message_id=row.message_id,
            customer_text=row.customer_text or "",
            reply_text=row.text,
            route=row.route,
            created_at=_aware(row.created_at),
            handoff_kind=row.handoff_kind,
            failure=row.failure,
            rejected=bool(row.rejected),
            cost_usd=float(row.cost_usd) if row.cost_usd is not None else None,
            latency_ms=row.latency_ms,
            trace=row.trace,
        )
        for row in connection.execute(query)
    ]


def daily_stats(
    connection: Connection, domain: str, *, days: int = 14, now: datetime | None = None
) -> list[DayStats]:
    """The domain's last `days` days (UTC), oldest first, every day present (zeros
    where nothing was recorded)."""
    return daily_stats_of(connection, [domain], days=days, now=now)[domain]


def daily_stats_of(
    connection: Connection,
    domains: Sequence[str],
    *,
    days: int = 14,
    now: datetime | None = None,
) -> dict[str, list[DayStats]]:
    """`daily_stats` of each of `domains`, in one query."""
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    first = today - timedelta(days=max(days, 1) - 1)
    since = datetime(first.year, first.month, first.day, tzinfo=UTC)
    day = func.date(_TABLE.c.created_at).label("day")
    found: dict[str, dict[date, dict[str, Any]]] = {domain: {} for domain in domains}
    rows = (
        connection.execute(
            select(
                _TABLE.c.domain,
                day,
                _TABLE.c.direction,
                _TABLE.c.handoff_kind,
                func.count().label("count"),
                func.sum(case((_TABLE.c.failure.is_not(None), 1), else_=0)).label("failures"),
                func.sum(case((_TABLE.c.rejected.is_(True), 1), else_=0)).label("rejections"),
                func.sum(_TABLE.c.cost_usd).label("cost"),
            )
            .where(_TABLE.c.domain.in_(list(domains)), _TABLE.c.created_at >= since)
            .group_by(_TABLE.c.domain, day, _TABLE.c.direction, _TABLE.c.handoff_kind)
        ).all()
        if domains
        else []
    )
    for row in rows:
        key = row.day if isinstance(row.day, date) else date.fromisoformat(str(row.day))
        totals = found[row.domain].setdefault(
            key,
            {
                "messages": 0,
                "replies": 0,
                "handoffs": {},
                "failures": 0,
                "rejections": 0,
                "cost": 0.0,
            },
        )
        if row.direction == "in":
            totals["messages"] += row.count
            continue
        if row.handoff_kind is None:
            totals["replies"] += row.count
        else:
            kinds = totals["handoffs"]
            kinds[row.handoff_kind] = kinds.get(row.handoff_kind, 0) + row.count
        totals["failures"] += int(row.failures or 0)
        totals["rejections"] += int(row.rejections or 0)
        totals["cost"] += float(row.cost or 0)
    span = [first + timedelta(days=offset) for offset in range((today - first).days + 1)]
    return {
        domain: [_day(key, per_day.get(key)) for key in span] for domain, per_day in found.items()
    }


def _day(key: date, totals: dict[str, Any] | None) -> DayStats:
    if not totals:
        return DayStats(key)
    return DayStats(
        key,
        totals["messages"],
        totals["replies"],
        totals["handoffs"],
        totals["failures"],
        totals["rejections"],
        totals["cost"],
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)

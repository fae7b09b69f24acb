"""Recorded turns read back for the console: the trace kept, filters, per-day counts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.engine import Engine

from hub.store.conversations import TurnRecord, record_turn
from hub.store.database import connection_scope
from hub.store.traces import TurnFilter, daily_stats, recent_turns

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
TRACE = {
    "route": "scheduling",
    "routed_by": "classifier",
    "tools": [{"tool": "appointment_slots", "arguments": {"who": "dermatologista"}}],
    "passages": [{"source": "knowledge/clinica.md", "heading": "Endereço", "score": 3.2}],
    "gate": {"rejections": ["unsupported_fact"], "source": "retry"},
}


def turn(message_id: int, **fields: object) -> TurnRecord:
    values: dict[str, object] = {
        "domain": "health",
        "account_id": 2,
        "conversation_id": 100 + message_id,
        "message_id": message_id,
        "customer_text": f"pergunta {message_id}",
        "reply_text": f"resposta {message_id}",
        "route": "support",
    }
    values.update(fields)
    return TurnRecord(**values)  # type: ignore[arg-type]


@pytest.fixture
def recorded(engine: Engine) -> Engine:
    with connection_scope(engine) as connection:
        record_turn(
            connection,
            turn(1, trace=TRACE, route="scheduling", rejected=True, cost_usd=Decimal("0.0012")),
            now=NOW,
        )
        record_turn(connection, turn(2, route="handoff", handoff_kind="rule"), now=NOW)
        record_turn(
            connection,
            turn(3, route="handoff", handoff_kind="failure", failure="model_timeout"),
            now=NOW - timedelta(days=1),
        )
        record_turn(connection, turn(4), now=NOW - timedelta(days=30))
        record_turn(connection, turn(5, domain="retail", account_id=3), now=NOW)
    return engine


def test_a_recorded_turn_comes_back_with_its_trace_and_the_customer_text(recorded: Engine) -> None:
    with connection_scope(recorded, read_only=True) as connection:
        turns = recent_turns(connection, "health")
    assert [t.message_id for t in turns] == [2, 1, 3, 4]  # newest first; same second: id
    first = next(t for t in turns if t.message_id == 1)
    assert first.trace == TRACE
    assert first.customer_text == "pergunta 1"
    assert first.reply_text == "resposta 1"
    assert first.rejected is True
    assert first.cost_usd == pytest.approx(0.0012)
    assert first.to_json()["trace"]["tools"][0]["arguments"] == {"who": "dermatologista"}


def test_recent_turns_filter_by_handoff_failure_route_and_gate_rejection(recorded: Engine) -> None:
    def ids(wanted: TurnFilter) -> list[int]:
        with connection_scope(recorded, read_only=True) as connection:
            return sorted(t.message_id for t in recent_turns(connection, "health", wanted))

    assert ids(TurnFilter(handoff="any")) == [2, 3]
    assert ids(TurnFilter(handoff="none")) == [1, 4]
    assert ids(TurnFilter(handoff="rule")) == [2]
    assert ids(TurnFilter(failure=True)) == [3]
    assert ids(TurnFilter(route="scheduling")) == [1]
    assert ids(TurnFilter(rejected=True)) == [1]
    assert ids(TurnFilter(handoff="crew")) == []


def test_another_domains_turns_never_show(recorded: Engine) -> None:
    with connection_scope(recorded, read_only=True) as connection:
        assert [t.message_id for t in recent_turns(connection, "retail")] == [5]
        assert recent_turns(connection, "cosmetics") == []


def test_daily_stats_count_each_day_and_fill_the_quiet_ones(recorded: Engine) -> None:
    with connection_scope(recorded, read_only=True) as connection:
        days = daily_stats(connection, "health", days=3, now=NOW)
    assert [d.day for d in days] == [date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3)]
    quiet, yesterday, today = days
    assert quiet.messages == 0 and quiet.handoffs == {}
    assert yesterday.messages == 1
    assert yesterday.handoffs == {"failure": 1}
    assert yesterday.failures == 1
    assert today.messages == 2
    assert today.replies == 1
    assert today.handoffs == {"rule": 1}
    assert today.rejections == 1
    assert today.cost_usd == pytest.approx(0.0012)
    assert today.to_json()["day"] == "2026-12-03"

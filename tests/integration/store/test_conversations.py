"""The conversation store: every turn kept once, the last ones read back as memory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from hub.store.conversations import TurnRecord, history, record_turn
from hub.store.database import session_scope

pytestmark = pytest.mark.integration


def turn(message_id: int, question: str, answer: str, **changes: object) -> TurnRecord:
    fields: dict[str, object] = {
        "domain": "retail",
        "account_id": 3,
        "conversation_id": 7,
        "message_id": message_id,
        "customer_text": question,
        "reply_text": answer,
        "route": "support",
        "latency_ms": 120,
        "prompt_tokens": 50,
        "completion_tokens": 10,
    }
    fields.update(changes)
    return TurnRecord(**fields)  # type: ignore[arg-type]


def test_turns_come_back_oldest_first_as_customer_and_bot(engine: Engine) -> None:
    start = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    with session_scope(engine) as session:
        record_turn(session, turn(1, "Qual o horário?", "Das 10:00 às 22:00."), now=start)
        record_turn(
            session, turn(2, "E domingo?", "Das 14:00 às 20:00."), now=start + timedelta(minutes=1)
        )
    with session_scope(engine) as session:
        assert history(session, "retail", 3, 7, turns=10) == [
            ("customer", "Qual o horário?"),
            ("bot", "Das 10:00 às 22:00."),
            ("customer", "E domingo?"),
            ("bot", "Das 14:00 às 20:00."),
        ]
        assert history(session, "retail", 3, 7, turns=1) == [
            ("customer", "E domingo?"),
            ("bot", "Das 14:00 às 20:00."),
        ]
        assert history(session, "retail", 3, 7, turns=0) == []


def test_a_redelivered_message_is_recorded_once(engine: Engine) -> None:
    with session_scope(engine) as session:
        record_turn(session, turn(1, "oi", "Olá!"))
    with session_scope(engine) as session:
        record_turn(session, turn(1, "oi", "Olá de novo!"))
    with session_scope(engine) as session:
        assert history(session, "retail", 3, 7, turns=10) == [("customer", "oi"), ("bot", "Olá!")]


def test_memory_never_crosses_domains_accounts_or_conversations(engine: Engine) -> None:
    with session_scope(engine) as session:
        record_turn(session, turn(1, "retail question", "retail answer"))
        record_turn(session, turn(2, "clinic question", "clinic answer", domain="health"))
        record_turn(session, turn(3, "other account", "x", account_id=4))
        record_turn(session, turn(4, "other conversation", "y", conversation_id=8))
    with session_scope(engine) as session:
        assert history(session, "retail", 3, 7, turns=10) == [
            ("customer", "retail question"),
            ("bot", "retail answer"),
        ]


def test_a_turn_s_cost_is_kept_with_its_reply_to_the_millionth_of_a_dollar(engine: Engine) -> None:
    from decimal import Decimal

    from sqlalchemy import select

    from hub.store.models import ConversationMessage

    with session_scope(engine) as session:
        record_turn(session, turn(1, "oi", "Olá!", cost_usd=Decimal("0.000123")))
        record_turn(session, turn(2, "e aí", "Oi!", cost_usd=None))
    with session_scope(engine) as session:
        costs = session.execute(
            select(ConversationMessage.message_id, ConversationMessage.cost_usd).where(
                ConversationMessage.direction == "out"
            )
        ).all()
    assert sorted(costs) == [(1, Decimal("0.000123")), (2, None)]

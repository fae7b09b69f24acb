"""The turn spool: turns the database refused, kept in Redis and written back once."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import redis
from sqlalchemy import select
from sqlalchemy.engine import Engine

from hub.store.conversations import TurnRecord
from hub.store.database import connection_scope
from hub.store.models import ConversationMessage
from hub.store.spool import SPOOL_KEY, TurnSpool, dump, load

pytestmark = pytest.mark.integration

ANSWERED = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)


def turn(message_id: int, **changes: object) -> TurnRecord:
    base = TurnRecord(
        domain="retail",
        account_id=3,
        conversation_id=9000 + message_id,
        message_id=message_id,
        customer_text="Qual o horário?",
        reply_text="Das 9h às 18h.",
        route="support",
        latency_ms=1200,
        cost_usd=Decimal("0.000123"),
    )
    return dataclasses.replace(base, **changes)


def rows(engine: Engine) -> list[tuple[int, str, datetime]]:
    table = ConversationMessage.__table__
    with connection_scope(engine, read_only=True) as connection:
        found = connection.execute(
            select(table.c.message_id, table.c.direction, table.c.created_at).order_by(
                table.c.message_id, table.c.direction
            )
        ).all()
    return [(row[0], row[1], row[2]) for row in found]


def test_a_spooled_turn_survives_its_trip_with_every_field_and_its_answer_time() -> None:
    original = turn(1)
    back, answered_at = load(dump(original, ANSWERED))
    assert back == original and isinstance(back.cost_usd, Decimal)
    assert answered_at == ANSWERED


def test_an_entry_with_a_field_the_record_no_longer_has_still_loads() -> None:
    entry = json.loads(dump(turn(1), ANSWERED))
    entry["turn"]["a_field_of_a_newer_worker"] = 7
    back, _ = load(json.dumps(entry))
    assert back == turn(1)


def test_spooled_turns_are_written_once_with_the_time_they_were_answered(
    engine: Engine, redis_client: redis.Redis
) -> None:
    spool = TurnSpool(redis_client, batch=2)
    for n in range(1, 6):
        assert spool.add(turn(n), ANSWERED + timedelta(minutes=n))
    spool.add(turn(1), ANSWERED)  # a redelivered turn, spooled twice
    assert len(spool) == 6 and spool.pending
    assert spool.drain(engine) == 6
    assert len(spool) == 0 and not spool.pending
    written = rows(engine)
    assert [(m, d) for m, d, _ in written] == [(n, d) for n in range(1, 6) for d in ("in", "out")]
    first = written[0][2]
    assert (first if first.tzinfo else first.replace(tzinfo=UTC)) == ANSWERED + timedelta(minutes=1)


def test_a_drain_writes_as_many_batches_as_asked_and_leaves_the_rest(
    engine: Engine, redis_client: redis.Redis
) -> None:
    spool = TurnSpool(redis_client, batch=2)
    for n in range(1, 6):
        spool.add(turn(n), ANSWERED)
    assert spool.drain(engine, batches=1) == 2
    assert len(spool) == 3


def test_a_full_spool_refuses_a_turn_instead_of_growing(redis_client: redis.Redis) -> None:
    spool = TurnSpool(redis_client, capacity=2)
    assert spool.add(turn(1), ANSWERED) and spool.add(turn(2), ANSWERED)
    assert not spool.add(turn(3), ANSWERED)
    assert len(spool) == 2


def test_an_unreadable_entry_is_dropped_and_the_others_written(
    engine: Engine, redis_client: redis.Redis
) -> None:
    spool = TurnSpool(redis_client)
    redis_client.rpush(SPOOL_KEY, "not json at all")
    spool.add(turn(1), ANSWERED)
    assert spool.drain(engine) == 2
    assert len(spool) == 0 and len(rows(engine)) == 2


def test_a_second_drainer_leaves_the_spool_to_the_first(
    engine: Engine, redis_client: redis.Redis
) -> None:
    spool = TurnSpool(redis_client)
    spool.add(turn(1), ANSWERED)
    redis_client.set(f"{SPOOL_KEY}:draining", "another", px=30_000)
    assert spool.drain(engine) == 0
    assert len(spool) == 1

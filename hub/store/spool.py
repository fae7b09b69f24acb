"""Turn records the database refused, kept in Redis until it takes them.

A database outage must neither block a reply nor lose its record: the worker
posts the reply, and a turn it cannot write goes here, with the time it was
answered. The next turn that is recorded, and every worker's drainer thread,
write the spooled ones back (`record_turn` is idempotent, so a record written
twice is written once). One drainer at a time holds a short Redis lock, so two
never take the same entries. The spool is capped: past `capacity` entries, a new
one is refused and logged rather than let Redis grow without bound.

Entries are the `TurnRecord`'s fields by name (`dataclasses.fields`), so a field
added to it travels without a change here; a `Decimal` travels as its text.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import fields
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import redis
import structlog
from sqlalchemy.engine import Engine

from hub import defaults
from hub.store.conversations import TurnRecord, record_turn
from hub.store.database import connection_scope

log = structlog.get_logger(__name__)

SPOOL_KEY = defaults.TURN_SPOOL_KEY
DRAINING_KEY = f"{SPOOL_KEY}:draining"
DECIMAL = "__decimal__"


def dump(turn: TurnRecord, answered_at: datetime) -> str:
    """One spool entry: every field of `turn`, and when it was answered."""
    values: dict[str, Any] = {}
    for spec in fields(turn):
        value = getattr(turn, spec.name)
        values[spec.name] = {DECIMAL: str(value)} if isinstance(value, Decimal) else value
    return json.dumps({"turn": values, "answered_at": answered_at.isoformat()})


def load(entry: str | bytes) -> tuple[TurnRecord, datetime]:
    """The turn and its answer time back from `dump`'s text; fields the record no longer
    has are dropped, so an entry spooled by an older worker still loads."""
    data = json.loads(entry)
    known = {spec.name for spec in fields(TurnRecord)}
    values: dict[str, Any] = {
        name: Decimal(value[DECIMAL]) if isinstance(value, dict) and DECIMAL in value else value
        for name, value in data["turn"].items()
        if name in known
    }
    answered_at = datetime.fromisoformat(data["answered_at"])
    return TurnRecord(**values), answered_at.astimezone(UTC)


class TurnSpool:
    """The Redis list of turns waiting for the database."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        capacity: int = defaults.TURN_SPOOL_CAPACITY,
        batch: int = defaults.TURN_SPOOL_BATCH,
    ) -> None:
        self.redis = client
        self.capacity = capacity
        self.batch = batch
        self.pending = False
        """Whether this process added turns since its last drain that emptied the spool."""

    def add(self, turn: TurnRecord, answered_at: datetime) -> bool:
        """Keep `turn` for later; False (and an error logged) when the spool is full."""
        if int(self.redis.llen(SPOOL_KEY)) >= self.capacity:
            log.error("turn spool full: turn not recorded", capacity=self.capacity)
            return False
        self.redis.rpush(SPOOL_KEY, dump(turn, answered_at))
        self.pending = True
        return True

    def __len__(self) -> int:
        return int(self.redis.llen(SPOOL_KEY))

    def drain(self, engine: Engine, *, batches: int | None = None) -> int:
        """Write spooled turns to the database, oldest first, until the spool is empty
        (or `batches` batches are written) or the database refuses; how many were written.
        Raises what the database raised (the entries stay); returns 0 at once while
        another drainer works."""
        token = uuid.uuid4().hex
        lease_ms = int(defaults.TURN_SPOOL_LEASE_SECONDS * 1000)
        if not self.redis.set(DRAINING_KEY, token, nx=True, px=lease_ms):
            return 0
        written = 0
        try:
            while batches is None or written < batches * self.batch:
                entries = self.redis.lrange(SPOOL_KEY, 0, self.batch - 1)
                if not entries:
                    self.pending = False
                    return written
                with connection_scope(engine) as connection:
                    for entry in entries:
                        try:
                            turn, answered_at = load(entry)
                        except (ValueError, TypeError, KeyError) as error:
                            log.error("spooled turn unreadable: dropped", error=str(error))
                            continue
                        record_turn(connection, turn, now=answered_at)
                # Only this drainer takes entries off the head; others only append.
                self.redis.ltrim(SPOOL_KEY, len(entries), -1)
                self.redis.pexpire(DRAINING_KEY, lease_ms)
                written += len(entries)
            return written
        finally:
            if self.redis.get(DRAINING_KEY) in (token, token.encode()):
                self.redis.delete(DRAINING_KEY)


class SpoolDrainer:
    """A daemon thread that drains the spool every `interval` seconds."""

    def __init__(self, spool: TurnSpool, engine: Engine, interval: float) -> None:
        self.spool = spool
        self.engine = engine
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="chatwootai-turn-spool", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            drain_quietly(self.spool, self.engine)


def drain_quietly(spool: TurnSpool, engine: Engine, *, batches: int | None = None) -> int:
    """`spool.drain`, logging instead of raising: the database or Redis may still be away."""
    try:
        written = spool.drain(engine, batches=batches)
    except redis.RedisError as error:
        log.warning("turn spool unreachable", error=str(error)[:200])
        return 0
    except Exception as error:  # the database, still away: the entries wait
        log.info("turn spool waits for the database", error=str(error)[:200])
        return 0
    if written:
        log.info("spooled turns recorded", turns=written)
    return written

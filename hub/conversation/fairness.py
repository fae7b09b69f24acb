"""Fair claiming on a shared queue: one tenant's flood does not starve the others.

A shard queue (`hub.queue`) is shared by many tenants. The receiver does not put a
message's task on it: it appends the message to its tenant's line
(`…:pending:<tenant>`, urgent ones to `…:urgent:<tenant>`) and queues an
interchangeable token (`chatwootai.claim_turn`), in the same MULTI as the mailbox
push. A worker that takes a token claims, in one script, the next message by
per-tenant virtual time (start-time fair queueing): the tenant with the lowest
virtual time among those with work and under their concurrency cap gives its
oldest message, and its virtual time moves one on. A tenant with 1,000 messages
waiting and one with 1 are served in turn, and a tenant that was idle rejoins at
the shard's clock, so it saved up nothing. Tenants with urgent messages come
first, so urgent still overtakes a backlog.

The claim is recorded in flight under the token's task id. The token is
acknowledged only after its turn (`task_acks_late`), so a token whose worker
died is redelivered with the same id and resumes the same message: the reply
ledger keeps it to one reply. A claim holds one of its tenant's running slots
until it is released, or until its lease runs out (a token lost with its
Redis), so a lost worker cannot hold a slot for ever. A token that finds every
tenant with work at its cap is parked (counted, and acknowledged): the next
release queues a token again in its place, so a capped flood costs no polling.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, cast

import redis

from hub import defaults
from hub.conversation import scripts

Kind = Literal["claimed", "resumed", "capped", "empty"]

FAIR_PREFIX = f"{defaults.REDIS_KEY_PREFIX}:fair:"

INFLIGHT_TTL_SECONDS = 7 * 24 * 3600
"""A claim's in-flight record outlives its running slot's lease by far: a token whose
worker died comes back only when a worker restores it, however late that is."""


@dataclass(frozen=True)
class Claim:
    """What a token got: a message of `tenant` (claimed now, or resumed after a
    redelivery), or nothing: every tenant with work is at its cap, or none has any."""

    kind: Kind
    tenant: str | None = None
    payload: dict[str, Any] | None = None


@dataclass(frozen=True)
class Release:
    """What a release did: a claim was in flight (`released`), and a parked token is
    owed to the queue (`unparked`: the caller queues one)."""

    released: bool
    unparked: bool = False


@dataclass(frozen=True)
class ShardKeys:
    """The keys of one shared queue's fair state. The queue's name is their hash tag,
    so on a Redis cluster a shard's keys share one slot."""

    queue: str

    @property
    def prefix(self) -> str:
        return f"{FAIR_PREFIX}{{{self.queue}}}:"

    @property
    def ready(self) -> str:
        """Tenants with messages waiting, scored by virtual time."""
        return self.prefix + "ready"

    @property
    def urgent(self) -> str:
        """Tenants with urgent messages waiting, scored by virtual time."""
        return self.prefix + "urgent"

    @property
    def idle(self) -> str:
        """The virtual time each tenant left with, while it has nothing waiting."""
        return self.prefix + "idle"

    @property
    def clock(self) -> str:
        """The virtual time of the last claim: where an idle tenant rejoins."""
        return self.prefix + "clock"

    @property
    def caps(self) -> str:
        """Each tenant's concurrency cap, as its last message said."""
        return self.prefix + "caps"

    @property
    def parked(self) -> str:
        """Tokens that found every tenant with work at its cap, waiting for a release."""
        return self.prefix + "parked"

    def inflight(self, task_id: str) -> str:
        return f"{self.prefix}inflight:{task_id}"

    def pending(self, tenant: str) -> list[str]:
        """The tenant's lines, urgent first."""
        return [f"{self.prefix}urgent:{tenant}", f"{self.prefix}pending:{tenant}"]

    def running(self, tenant: str) -> str:
        return f"{self.prefix}running:{tenant}"


class FairShare:
    """The tenants' lines on the shared queues, and the claims of their tokens."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        lease_seconds: int = 2 * defaults.VISIBILITY_TIMEOUT_SECONDS,
        default_cap: int = defaults.TENANT_MAX_CONCURRENT,
        inflight_ttl_seconds: int = INFLIGHT_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.lease_seconds = lease_seconds
        self.inflight_ttl_seconds = inflight_ttl_seconds
        self.default_cap = default_cap
        self.clock = clock
        self._enqueue = scripts.register(client, "fair_enqueue")
        self._claim = scripts.register(client, "fair_claim")
        self._release = scripts.register(client, "fair_release")

    def enqueue(
        self,
        queue: str,
        tenant: str,
        payload: dict[str, Any],
        *,
        urgent: bool,
        cap: int | None = None,
        pipe: redis.client.Pipeline | None = None,
    ) -> Any:
        """Append a message to its tenant's line (on `pipe` when given: the caller's
        MULTI, which also queues the token)."""
        keys = ShardKeys(queue)
        message = _dumps(payload)
        flag, cap = 1 if urgent else 0, cap or self.default_cap
        if pipe is None:
            return self._enqueue(
                keys=[keys.ready, keys.urgent, keys.idle, keys.clock, keys.caps],
                args=[keys.prefix, tenant, message, flag, cap],
            )
        # In the caller's MULTI as EVAL of the source: redis-py runs a registered script
        # in a pipeline only after a SCRIPT EXISTS round trip of its own.
        return pipe.eval(
            scripts.load("fair_enqueue").source,
            5,
            *(keys.ready, keys.urgent, keys.idle, keys.clock, keys.caps),
            *(keys.prefix, tenant, message, flag, cap),
        )

    def withdraw(self, queue: str, tenant: str, payload: dict[str, Any]) -> int:
        """Take a message whose token could not be published back out of its line."""
        pipe = self.client.pipeline(transaction=True)
        for key in ShardKeys(queue).pending(tenant):
            pipe.lrem(key, 0, _dumps(payload))
        return sum(int(removed) for removed in pipe.execute())

    def claim(self, queue: str, task_id: str) -> Claim:
        """The message the token `task_id` answers, or why there is none."""
        keys = ShardKeys(queue)
        reply = cast(
            list[object],
            self._claim(
                keys=[
                    keys.ready,
                    keys.urgent,
                    keys.idle,
                    keys.clock,
                    keys.caps,
                    keys.inflight(task_id),
                    keys.parked,
                ],
                args=[
                    keys.prefix,
                    task_id,
                    self.clock(),
                    self.lease_seconds,
                    self.default_cap,
                    self.inflight_ttl_seconds,
                ],
            ),
        )
        kind = cast(Kind, _text(reply[0]))
        if kind in ("capped", "empty"):
            return Claim(kind)
        return Claim(kind, _text(reply[1]), json.loads(_text(reply[2])))

    def release(self, queue: str, task_id: str) -> Release:
        """Free the running slot and the in-flight record of a token's message; whether a
        parked token is to be queued again (`unparked`)."""
        keys = ShardKeys(queue)
        done = int(
            cast(
                int,
                self._release(
                    keys=[keys.inflight(task_id), keys.parked], args=[keys.prefix, task_id]
                ),
            )
        )
        return Release(released=done > 0, unparked=done == 2)

    def waiting(self, queue: str, tenant: str) -> list[dict[str, Any]]:
        """A tenant's messages waiting on a shared queue, urgent first (tests, the CLI)."""
        pipe = self.client.pipeline(transaction=False)
        for key in ShardKeys(queue).pending(tenant):
            pipe.lrange(key, 0, -1)
        return [json.loads(_text(raw)) for line in pipe.execute() for raw in line]

    def running(self, queue: str, tenant: str) -> int:
        """How many claims of a tenant are in flight (their leases not run out)."""
        key = ShardKeys(queue).running(tenant)
        return int(self.client.zcount(key, self.clock(), "+inf"))


def _dumps(payload: dict[str, Any]) -> str:
    """A message as its line holds it: the same text for the same message."""
    return json.dumps(payload, separators=(",", ":"))


def _text(value: object) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)

"""A circuit breaker per Chatwoot host, shared by every worker through Redis.

When Chatwoot is down (a deploy, a restart) every worker would otherwise keep
posting and retrying on its own: hundreds of refused POSTs, and a Chatwoot that
comes back to a stampede. Instead the workers count failed calls together:

    closed      calls go through; a failed one (5xx, 429, no answer) adds to the
                count, a successful one (in a process that saw a failure) clears it
    open        `failures` in a row opened it: calls are refused here, without
                a request, for the cooldown (doubled after each failed probe, capped)
    half-open   the cooldown is over: one call (the probe) goes through; the
                others are still refused until it has an answer
    draining    the probe succeeded: the circuit is closed again, and for one
                longest cooldown at most `drain_rate` calls a second go through, so
                the backlog is worked off at a bounded rate

Keys, under `chatwootai:breaker:<host>`: `failures` (the count), `open` (exists
while refusing), `opens` (opens in a row: exists from the first open until a
probe succeeds), `probe` (the half-open token), `draining` and `rate:<second>`.

A refusal raises ChatwootUnavailableError with `retry_in`; the caller (the task)
comes back then. Redis failures never stop a call: without its state the breaker
lets calls through, as if it were not there.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
import structlog

from hub import defaults
from hub.exceptions import ChatwootUnavailableError

log = structlog.get_logger(__name__)

FAILURE_MEMORY_SECONDS = 120
"""A failure count untouched this long is forgotten: failures spread over hours are
not an outage."""

PROBE_SECONDS = 30
"""The probe token's life: longer than a call with its timeout."""


@dataclass(frozen=True)
class BreakerSettings:
    """How soon the circuit opens, how long it stays open, how fast it drains."""

    failures: int = defaults.CHATWOOT_BREAKER_FAILURES
    cooldown_seconds: float = defaults.CHATWOOT_BREAKER_COOLDOWN_SECONDS
    max_cooldown_seconds: float = defaults.CHATWOOT_BREAKER_MAX_COOLDOWN_SECONDS
    drain_rate: float = defaults.CHATWOOT_DRAIN_RATE

    def cooldown(self, opens: int) -> float:
        """The cooldown of the `opens`-th open in a row: base, doubled each time, capped."""
        doubled = self.cooldown_seconds * 2.0 ** max(0, opens - 1)
        return min(self.max_cooldown_seconds, doubled)


class Breaker:
    """The shared circuit of one Chatwoot host; safe across threads and processes."""

    def __init__(
        self,
        client: redis.Redis,
        host: str,
        settings: BreakerSettings | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.redis = client
        self.host = host
        self.settings = settings or BreakerSettings()
        self.clock = clock
        self.prefix = f"{defaults.REDIS_KEY_PREFIX}:breaker:{host}"
        self._failed_here = False
        """This process saw a failure since its last success: only then does a success
        cost a round trip (healthy traffic pays for `admit` alone)."""

    def key(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    def admit(self, call: str) -> bool:
        """Let one call through, or raise ChatwootUnavailableError; True when the call
        is the half-open probe. One round trip while closed."""
        try:
            return self._admit(call)
        except redis.RedisError as error:
            log.warning("circuit state unreadable; calling chatwoot anyway", error=str(error))
            return False

    def _admit(self, call: str) -> bool:
        pipe = self.redis.pipeline(transaction=False)
        pipe.pttl(self.key("open"))
        pipe.exists(self.key("opens"))
        pipe.exists(self.key("draining"))
        open_ms, opened, draining = pipe.execute()
        if open_ms and open_ms > 0:
            raise ChatwootUnavailableError(
                f"{call}: chatwoot at {self.host} is down (circuit open)",
                retry_in=open_ms / 1000,
                call=call,
            )
        if opened:  # half-open: one probe at a time
            if self.redis.set(self.key("probe"), "1", nx=True, ex=PROBE_SECONDS):
                log.info("chatwoot circuit half-open: probing", host=self.host, call=call)
                return True
            raise ChatwootUnavailableError(
                f"{call}: chatwoot at {self.host} is being probed (circuit half-open)",
                retry_in=self.settings.cooldown_seconds,
                call=call,
            )
        if draining and self.settings.drain_rate > 0:
            second = math.floor(self.clock())
            rate_key = self.key(f"rate:{second}")
            pipe = self.redis.pipeline(transaction=False)
            pipe.incr(rate_key)
            pipe.expire(rate_key, 2)
            used = pipe.execute()[0]
            if used > self.settings.drain_rate:
                raise ChatwootUnavailableError(
                    f"{call}: chatwoot at {self.host} is draining its backlog",
                    retry_in=1.0,
                    call=call,
                )
        return False

    def succeeded(self, *, probe: bool) -> None:
        """Chatwoot answered (any status but 5xx and 429): clear the count; a probe's
        success closes the circuit and starts the draining window."""
        if not probe and not self._failed_here:
            return
        self._failed_here = False
        try:
            if probe or self.redis.exists(self.key("opens")):
                pipe = self.redis.pipeline(transaction=True)
                pipe.delete(self.key("opens"), self.key("open"), self.key("probe"))
                pipe.delete(self.key("failures"))
                pipe.set(
                    self.key("draining"), "1", ex=max(1, int(self.settings.max_cooldown_seconds))
                )
                closed = pipe.execute()[0]
                if closed:
                    log.warning("chatwoot is back: circuit closed, draining", host=self.host)
            else:
                self.redis.delete(self.key("failures"))
        except redis.RedisError as error:
            log.warning("circuit state not cleared", error=str(error))

    def failed(self, call: str, reason: str, *, probe: bool) -> None:
        """A call got 5xx, 429 or no answer: count it; open the circuit at the threshold
        (the worker that opens it logs it, once per outage) or again after a failed probe."""
        self._failed_here = True
        try:
            self._failed(call, reason, probe=probe)
        except redis.RedisError as error:
            log.warning("circuit state not updated", error=str(error))

    def _failed(self, call: str, reason: str, *, probe: bool) -> None:
        pipe = self.redis.pipeline(transaction=False)
        pipe.incr(self.key("failures"))
        pipe.expire(self.key("failures"), FAILURE_MEMORY_SECONDS)
        failures = pipe.execute()[0]
        if not probe and failures < self.settings.failures:
            return
        if probe:
            opens = int(self.redis.incr(self.key("opens")))
        elif self.redis.set(self.key("opens"), 1, nx=True):
            opens = 1
        else:
            return  # open already (a call that was under way when it opened)
        cooldown = self.settings.cooldown(opens)
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(self.key("open"), "1", px=max(1, int(cooldown * 1000)))
        pipe.delete(self.key("probe"), self.key("draining"))
        pipe.execute()
        if opens == 1:
            log.error(
                "chatwoot is down: circuit opened",
                host=self.host,
                failures=failures,
                call=call,
                reason=reason,
                retry_in=cooldown,
            )
        else:
            log.warning("chatwoot still down: probe failed", host=self.host, retry_in=cooldown)

    def unavailable_for(self) -> float:
        """Seconds the circuit stays open (0 when a call may be tried: closed, half-open)."""
        try:
            remaining = int(self.redis.pttl(self.key("open")))
        except redis.RedisError:
            return 0.0
        return remaining / 1000 if remaining > 0 else 0.0


__all__ = ["Breaker", "BreakerSettings"]

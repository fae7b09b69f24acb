"""Per-tenant limits: customer messages per minute and model tokens per day, in Redis.

A domain's `limits:` (`hub.domains.schema.Limits`) says what one tenant may use of a
shared deployment. Counts are fixed windows, shared by every worker:

    chatwootai:limit:{domain}:messages:{minute}   customer messages decided in that
                                                  UTC minute (kept two minutes)
    chatwootai:limit:{domain}:tokens:{day}        model tokens spent that UTC day
                                                  (kept two days)

`over` counts the turn's messages and reads the day's tokens in one transaction,
and names the limit the turn is over, if any; the decision then answers with the
domain's `messages.limit` and a handoff (`hub.conversation.decision`). A domain
without limits costs no round trip. A fixed window lets a burst of up to twice the
rate straddle two minutes; the bound is cheap and exact per window.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

import redis

from hub import defaults
from hub.domains.domain import Domain

LimitName = Literal["messages_per_minute", "tokens_per_day"]
"""Which limit a turn is over (the `limit` label of `chatwootai_tenant_limited_total`)."""

MINUTE_KEY_TTL_SECONDS = 120
DAY_KEY_TTL_SECONDS = 2 * 24 * 3600


class TenantLimits:
    """Counts what each domain uses and tells when it is over its `limits:`."""

    def __init__(self, client: redis.Redis, clock: Callable[[], float] = time.time) -> None:
        self.redis = client
        self._now = clock

    @staticmethod
    def messages_key(domain_id: str, now: float) -> str:
        return f"{defaults.REDIS_KEY_PREFIX}:limit:{domain_id}:messages:{int(now // 60)}"

    @staticmethod
    def tokens_key(domain_id: str, now: float) -> str:
        day = time.strftime("%Y-%m-%d", time.gmtime(now))
        return f"{defaults.REDIS_KEY_PREFIX}:limit:{domain_id}:tokens:{day}"

    def over(self, domain: Domain, messages: int, now: float | None = None) -> LimitName | None:
        """Count `messages` more for this minute; the limit the domain is now over, if any."""
        limits = domain.spec.limits
        if limits.messages_per_minute is None and limits.tokens_per_day is None:
            return None
        now = self._now() if now is None else now
        pipe = self.redis.pipeline(transaction=True)
        minute = self.messages_key(domain.id, now)
        pipe.incrby(minute, messages)
        pipe.expire(minute, MINUTE_KEY_TTL_SECONDS)
        pipe.get(self.tokens_key(domain.id, now))
        counted, _, spent = pipe.execute()
        if limits.messages_per_minute is not None and int(counted) > limits.messages_per_minute:
            return "messages_per_minute"
        if limits.tokens_per_day is not None and int(spent or 0) >= limits.tokens_per_day:
            return "tokens_per_day"
        return None

    def spend(self, domain: Domain, tokens: int, now: float | None = None) -> int:
        """Add a turn's model tokens to the domain's day (only for a domain with a
        `tokens_per_day`); the day's total, or 0 when not counted."""
        if domain.spec.limits.tokens_per_day is None or tokens <= 0:
            return 0
        key = self.tokens_key(domain.id, self._now() if now is None else now)
        pipe = self.redis.pipeline(transaction=True)
        pipe.incrby(key, tokens)
        pipe.expire(key, DAY_KEY_TTL_SECONDS)
        total, _ = pipe.execute()
        return int(total)

    def tokens_today(self, domain_id: str, now: float | None = None) -> int:
        """The model tokens the domain's counted turns spent this UTC day."""
        key = self.tokens_key(domain_id, self._now() if now is None else now)
        return int(self.redis.get(key) or 0)

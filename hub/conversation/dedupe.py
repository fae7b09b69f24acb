"""Deduplication of webhook deliveries.

Chatwoot delivers some `message_created` events twice (a known bug with fast
messages) and retries on 429/500 with the same `X-Chatwoot-Delivery` id. We
claim both the delivery id and (account, message id) with SET NX; the first
claim wins, later ones are answered 200 "duplicate" and never queued.
"""

from __future__ import annotations

from collections.abc import Sequence

import redis

from hub import defaults

SEEN_TTL_SECONDS = 24 * 3600
"""Chatwoot's retries end within seconds; a day also covers replays from its job queue."""


class Deduplicator:
    """Claims keys once; a claim can be released when the message could not be queued."""

    def __init__(self, client: redis.Redis, ttl_seconds: int = SEEN_TTL_SECONDS) -> None:
        self.redis = client
        self.ttl_seconds = ttl_seconds

    @staticmethod
    def message_key(account_id: int, message_id: int) -> str:
        return f"{defaults.REDIS_KEY_PREFIX}:seen:message:{account_id}:{message_id}"

    @staticmethod
    def delivery_key(delivery_id: str) -> str:
        return f"{defaults.REDIS_KEY_PREFIX}:seen:delivery:{delivery_id}"

    def claim(self, keys: Sequence[str]) -> bool:
        """True if none of `keys` was seen before (and now all are); one round trip."""
        pipe = self.redis.pipeline(transaction=True)
        for key in keys:
            pipe.set(key, "1", nx=True, ex=self.ttl_seconds)
        results = pipe.execute()
        if all(results):
            return True
        # Roll back the keys this call did set, so a partial claim leaves no trace.
        fresh = [key for key, result in zip(keys, results, strict=True) if result]
        if fresh:
            self.redis.delete(*fresh)
        return False

    def release(self, keys: Sequence[str]) -> None:
        """Forget a claim (the message could not be queued; Chatwoot will retry)."""
        if keys:
            self.redis.delete(*keys)

"""Deduplication of webhook deliveries.

Chatwoot delivers some `message_created` events twice (a known bug with fast
messages) and retries on 429/500 with the same `X-Chatwoot-Delivery` id. We
claim both the delivery id and (account, message id) with SET NX, all or none, in
the receiver's arrival script (`hub.conversation.intake`); the first claim wins,
later ones are answered 200 "duplicate" and never queued.
"""

from __future__ import annotations

from collections.abc import Sequence

import redis

from hub import defaults

SEEN_TTL_SECONDS = 24 * 3600
"""Chatwoot's retries end within seconds; a day also covers replays from its job queue."""


class Deduplicator:
    """The dedupe keys, and the release of a claim whose message could not be queued."""

    def __init__(self, client: redis.Redis, ttl_seconds: int = SEEN_TTL_SECONDS) -> None:
        self.redis = client
        self.ttl_seconds = ttl_seconds

    @staticmethod
    def message_key(account_id: int, message_id: int) -> str:
        return f"{defaults.REDIS_KEY_PREFIX}:seen:message:{account_id}:{message_id}"

    @staticmethod
    def delivery_key(delivery_id: str) -> str:
        return f"{defaults.REDIS_KEY_PREFIX}:seen:delivery:{delivery_id}"

    def release(self, keys: Sequence[str]) -> None:
        """Forget a claim (the message could not be queued; Chatwoot will retry)."""
        if keys:
            self.redis.delete(*keys)

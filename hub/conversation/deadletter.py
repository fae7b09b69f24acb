"""Dead letters: messages that could not be answered after every retry.

Nothing is dropped silently: each final failure is logged and kept in a capped
Redis list (`chatwootai:deadletter`, newest last) with the ids, the domain and
the reason, for an operator to inspect or replay.
"""

from __future__ import annotations

import json
import time
from typing import Any

import redis

from hub import defaults

KEY = f"{defaults.REDIS_KEY_PREFIX}:deadletter"
LIMIT = 10_000


class DeadLetters:
    """Append-only record of final failures."""

    def __init__(self, client: redis.Redis, limit: int = LIMIT) -> None:
        self.redis = client
        self.limit = limit

    def add(self, message: dict[str, Any], reason: str, error: str) -> None:
        entry = {"message": message, "reason": reason, "error": error[:2000], "at": time.time()}
        pipe = self.redis.pipeline(transaction=False)
        pipe.rpush(KEY, json.dumps(entry, ensure_ascii=False))
        pipe.ltrim(KEY, -self.limit, -1)
        pipe.execute()

    def all(self) -> list[dict[str, Any]]:
        return [json.loads(item) for item in self.redis.lrange(KEY, 0, -1)]

"""Dead letters: messages that could not be answered after every retry.

Nothing is dropped silently: each final failure is logged and kept in a capped
Redis list (`chatwootai:deadletter`, newest last). An entry keeps the queued
message, why it died (`reason`, the error's text) and when (`at`, Unix time),
under an `id` an operator names it by (`chatwootai deadletter show|replay`).
Taking an entry out (`take`) is one LREM of its exact text: of two operators
replaying the same letter at once, only one gets it.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import redis

from hub import defaults

KEY = f"{defaults.REDIS_KEY_PREFIX}:deadletter"
LIMIT = 10_000


class DeadLetters:
    """Record of final failures, listed, read and taken out by id."""

    def __init__(self, client: redis.Redis, limit: int = LIMIT) -> None:
        self.redis = client
        self.limit = limit

    def add(self, message: dict[str, Any], reason: str, error: str) -> dict[str, Any]:
        """Keep a message that could not be answered; returns the entry (with its id)."""
        entry = {
            "id": uuid.uuid4().hex[:12],
            "message": message,
            "domain": str(message.get("domain", "unknown")),
            "reason": reason,
            "error": error[:2000],
            "at": time.time(),
        }
        pipe = self.redis.pipeline(transaction=False)
        pipe.rpush(KEY, json.dumps(entry, ensure_ascii=False))
        pipe.ltrim(KEY, -self.limit, -1)
        pipe.execute()
        return entry

    def all(self, domain: str | None = None) -> list[dict[str, Any]]:
        """Every entry, oldest first; only `domain`'s when given."""
        entries = [_parse(raw) for raw in self.redis.lrange(KEY, 0, -1)]
        return [e for e in entries if domain is None or _domain(e) == domain]

    def get(self, letter_id: str) -> dict[str, Any] | None:
        """The entry with this id (or the only one whose id starts with it)."""
        found = self._find(letter_id)
        return found[1] if found else None

    def take(self, letter_id: str) -> dict[str, Any] | None:
        """Remove the entry and return it; None when it is not there (taken already)."""
        found = self._find(letter_id)
        if found is None:
            return None
        raw, entry = found
        return entry if self.redis.lrem(KEY, 1, raw) else None

    def put_back(self, entry: dict[str, Any]) -> None:
        """Return a taken entry to the list (its replay could not be queued)."""
        self.redis.rpush(KEY, json.dumps(entry, ensure_ascii=False))

    def _find(self, letter_id: str) -> tuple[str, dict[str, Any]] | None:
        matches = [
            (str(raw), entry)
            for raw in self.redis.lrange(KEY, 0, -1)
            if str((entry := _parse(raw)).get("id", "")).startswith(letter_id)
        ]
        exact = [m for m in matches if m[1].get("id") == letter_id]
        if exact:
            return exact[0]
        return matches[0] if len(matches) == 1 and letter_id else None


def _parse(raw: object) -> dict[str, Any]:
    entry: dict[str, Any] = json.loads(str(raw))
    entry.setdefault("id", "")
    return entry


def _domain(entry: dict[str, Any]) -> str:
    message = entry.get("message")
    fallback = message.get("domain", "unknown") if isinstance(message, dict) else "unknown"
    return str(entry.get("domain", fallback))

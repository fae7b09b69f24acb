"""Turns in a row the bot could not answer: after `handoff.max_failures`, a person takes over.

A turn is unanswered when the reply is the domain's `messages.unknown` (the
offline model says exactly that when its documents do not answer, and that text
offers a person). The first miss offers a human; a customer's short yes takes
it (`hub.conversation.handoff.accepts_offer`); a second miss in a row hands the
conversation over without asking again. Any answered turn resets the count.

Key: `chatwootai:misses:{account_id}:{conversation_id}`, an integer with a
one-day TTL (a customer back tomorrow starts afresh).
"""

from __future__ import annotations

import redis

from hub import defaults

MISSES_TTL_SECONDS = 24 * 3600


class Misses:
    """Counts a conversation's unanswered turns in a row."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    @staticmethod
    def key(account_id: int, conversation_id: int) -> str:
        return f"{defaults.REDIS_KEY_PREFIX}:misses:{account_id}:{conversation_id}"

    def count(self, account_id: int, conversation_id: int) -> int:
        """Unanswered turns in a row so far."""
        return int(self.redis.get(self.key(account_id, conversation_id)) or 0)

    def add(self, account_id: int, conversation_id: int) -> int:
        """One more unanswered turn; returns the new count."""
        key = self.key(account_id, conversation_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, MISSES_TTL_SECONDS)
        count, _ = pipe.execute()
        return int(count)

    def clear(self, account_id: int, conversation_id: int) -> None:
        """The bot answered: the count starts again."""
        self.redis.delete(self.key(account_id, conversation_id))

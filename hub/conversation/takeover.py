"""Human takeover: once a human agent writes in a conversation, the bot stays silent.

The receiver marks the conversation when a human agent's (non-private) message
arrives, and clears the mark when Chatwoot hands the conversation back to the
bot (its status becomes `pending` again). Workers check the mark before posting,
so a reply generated while the human stepped in is not sent.

Key: `chatwootai:takeover:{account_id}:{conversation_id}`, value: who/why, TTL
30 days like the conversation's domain.
"""

from __future__ import annotations

import redis

from hub import defaults


class Takeover:
    """Reads and writes the human-takeover mark of conversations."""

    def __init__(
        self, client: redis.Redis, ttl_seconds: int = defaults.CONVERSATION_TTL_SECONDS
    ) -> None:
        self.redis = client
        self.ttl_seconds = ttl_seconds

    @staticmethod
    def key(account_id: int, conversation_id: int) -> str:
        return f"{defaults.REDIS_KEY_PREFIX}:takeover:{account_id}:{conversation_id}"

    def mark(self, account_id: int, conversation_id: int, reason: str) -> None:
        """The bot must stay silent in this conversation until it is pending again."""
        self.redis.set(self.key(account_id, conversation_id), reason, ex=self.ttl_seconds)

    def clear(self, account_id: int, conversation_id: int) -> bool:
        """The conversation was given back to the bot; True if there was a mark."""
        return bool(self.redis.delete(self.key(account_id, conversation_id)))

    def active(self, account_id: int, conversation_id: int) -> bool:
        """True while a human owns the conversation."""
        return bool(self.redis.exists(self.key(account_id, conversation_id)))

"""Human takeover: once a human agent writes in a conversation, the bot stays silent.

The receiver marks the conversation when a human agent's (non-private) message
arrives, and clears the mark when Chatwoot hands the conversation back to the
bot (its status becomes `pending` again). Workers check the mark before posting,
so a reply generated while the human stepped in is not sent.

Agent bots often get conversation events without an account, so the status
seen on later messages also counts: once a taken-over conversation has been
seen `open`/`resolved`/`snoozed`, a message in it that is `pending` again means
Chatwoot gave it back (`observe`). That rule is `lua/takeover_holds.lua`, which
the receiver's arrival script (`hub.conversation.intake`) runs too.

Key: `chatwootai:takeover:{account_id}:{conversation_id}`, a hash with `reason`
and `left_pending`; TTL 30 days like the conversation's domain.
"""

from __future__ import annotations

from typing import cast

import redis

from hub import defaults
from hub.conversation import scripts


class Takeover:
    """Reads and writes the human-takeover mark of conversations."""

    def __init__(
        self, client: redis.Redis, ttl_seconds: int = defaults.CONVERSATION_TTL_SECONDS
    ) -> None:
        self.redis = client
        self.ttl_seconds = ttl_seconds
        self._observe = scripts.register(client, "takeover_observe")

    @staticmethod
    def key(account_id: int, conversation_id: int) -> str:
        return f"{defaults.REDIS_KEY_PREFIX}:takeover:{account_id}:{conversation_id}"

    def mark(self, account_id: int, conversation_id: int, reason: str) -> None:
        """The bot must stay silent in this conversation until it is pending again."""
        key = self.key(account_id, conversation_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(key)
        pipe.hset(key, mapping={"reason": reason, "left_pending": "0"})
        pipe.expire(key, self.ttl_seconds)
        pipe.execute()

    def observe(self, account_id: int, conversation_id: int, status: str) -> bool:
        """Note the status a message carried; True while the takeover still holds.

        A conversation seen outside `pending` after the takeover and `pending`
        again has been given back to the bot: the mark is cleared. One atomic script.
        """
        taken = self._observe(keys=[self.key(account_id, conversation_id)], args=[status])
        return bool(int(cast(int, taken)))

    def clear(self, account_id: int, conversation_id: int) -> bool:
        """The conversation was given back to the bot; True if there was a mark."""
        return bool(self.redis.delete(self.key(account_id, conversation_id)))

    def active(self, account_id: int, conversation_id: int) -> bool:
        """True while a human owns the conversation."""
        return bool(self.redis.exists(self.key(account_id, conversation_id)))

"""The recent messages of a conversation by Chatwoot id, so a quoted one can be read.

A customer who swipes to reply on WhatsApp (or quotes in any channel) sends
`content_attributes.in_reply_to`, a message id and nothing else: a bot token
cannot read messages back from Chatwoot. The receiver files the text of every
message it sees in the conversation, the customer's when it queues them and the
bot's own when Chatwoot echoes them, and the worker reads the quoted one back
for the prompt.

Key: `chatwootai:quotes:{account}:{conversation}`, a hash of message id → who
wrote it and the text (cut to `QUOTE_CHARS`), kept `QUOTES_TTL_SECONDS` after
the conversation's last message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

import redis

from hub import defaults

QUOTE_CHARS = 500
"""The start of a quoted message is enough to know which one it was."""
QUOTES_TTL_SECONDS = 7 * 24 * 3600
"""Customers quote messages of the last days, rarely older ones."""

Author = Literal["customer", "bot"]


@dataclass(frozen=True)
class Quote:
    """A quoted message: who wrote it and what it said."""

    author: Author
    text: str


class Quotes:
    """Files and finds the texts of a conversation's messages by id."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    @staticmethod
    def key(account_id: int, conversation_id: int) -> str:
        return f"{defaults.REDIS_KEY_PREFIX}:quotes:{account_id}:{conversation_id}"

    def file(
        self,
        account_id: int,
        conversation_id: int,
        message_id: int,
        author: Author,
        text: str,
        *,
        pipe: redis.client.Pipeline | None = None,
    ) -> None:
        """Remember a message's text; queued on `pipe` when given (sent by the caller)."""
        if not text.strip():
            return
        key = self.key(account_id, conversation_id)
        writes = pipe if pipe is not None else self.redis.pipeline(transaction=False)
        writes.hset(key, str(message_id), f"{author}:{text.strip()[:QUOTE_CHARS]}")
        writes.expire(key, QUOTES_TTL_SECONDS)
        if pipe is None:
            writes.execute()

    def find(self, account_id: int, conversation_id: int, message_id: int) -> Quote | None:
        """The message with that id, if this conversation's recent messages have it."""
        raw = cast(str | None, self.redis.hget(self.key(account_id, conversation_id), message_id))
        if raw is None:
            return None
        author, _, text = raw.partition(":")
        return Quote("bot" if author == "bot" else "customer", text)

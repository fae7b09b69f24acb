"""What Chatwoot stored of the bot's own messages, as its webhooks tell the receiver.

Chatwoot sends an agent bot every message of its inboxes, the bot's own replies
and notes included (`message_created`, sender of type `agent_bot`), once the
message is stored, whatever became of the API call that created it. That copy
is the one way a bot can learn whether a post it never heard back about reached
Chatwoot: a bot token may create messages but not list them.

The receiver files each copy under its conversation and text (`heard`). A worker
asks, before posting a reply and again after an attempt that may have reached
Chatwoot unheard, whether a bot message with that text already follows the
customer message it answers (`followed`, `wait`). Chatwoot's message ids grow
with every message stored, so "follows" is "has a greater id": an earlier
reply with the same words, sent before the customer wrote, does not count.

Key: `chatwootai:echo:{account}:{conversation}:{digest of the text}`, a sorted
set of Chatwoot message ids, each its own score.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

import redis

from hub import defaults

ECHO_TTL_SECONDS = 24 * 3600
"""Longer than a post's retries last (a task retries for a few minutes at most)."""

WAIT_SECONDS = 10.0
"""How long a worker waits for the copy of a post it did not hear back about before
sending it again: Chatwoot queues its webhooks, and a Chatwoot too slow to answer
the post may be slow to send them too. Past it, a second copy beats silence."""

POLL_SECONDS = 0.1
"""How often `wait` looks."""


class Echoes:
    """The bot's own messages as Chatwoot stored them, by conversation and text."""

    def __init__(
        self,
        client: redis.Redis,
        wait_seconds: float = WAIT_SECONDS,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.redis = client
        self.wait_seconds = wait_seconds
        self.sleep = sleep

    @staticmethod
    def key(account_id: int, conversation_id: int, text: str) -> str:
        digest = hashlib.sha256(text.strip().encode()).hexdigest()[:32]
        return f"{defaults.REDIS_KEY_PREFIX}:echo:{account_id}:{conversation_id}:{digest}"

    def heard(self, account_id: int, conversation_id: int, message_id: int, text: str) -> None:
        """Chatwoot sent the bot a copy of message `message_id` (receiver); one round trip."""
        key = self.key(account_id, conversation_id, text)
        pipe = self.redis.pipeline(transaction=False)
        pipe.zadd(key, {str(message_id): message_id})
        pipe.expire(key, ECHO_TTL_SECONDS)
        pipe.execute()

    def followed(self, account_id: int, conversation_id: int, text: str, *, after: int) -> bool:
        """Whether Chatwoot stored a bot message with `text` after message `after`."""
        key = self.key(account_id, conversation_id, text)
        return bool(self.redis.zrangebyscore(key, f"({after}", "+inf", start=0, num=1))

    def wait(self, account_id: int, conversation_id: int, text: str, *, after: int) -> bool:
        """`followed`, looked at until it is true or `wait_seconds` have passed."""
        deadline = time.monotonic() + self.wait_seconds
        while not self.followed(account_id, conversation_id, text, after=after):
            if time.monotonic() >= deadline:
                return False
            self.sleep(POLL_SECONDS)
        return True

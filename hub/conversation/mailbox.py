"""A conversation's mailbox: the customer messages accepted and not yet answered.

Customers type in bursts ("oi" … "queria saber" … "o preço do kit"). The
receiver appends every accepted message to its conversation's mailbox (a Redis
list, in arrival order) before it queues the task, so whichever worker holds the
conversation's lock (`hub.conversation.lock`) sees every message of the burst,
even those whose own tasks are still waiting in the queue. The holder answers
the messages at the head of the mailbox as one turn and then removes them; only
the holder removes, and only the receiver appends, so `LTRIM` from the head is
safe.

`quiet_in` is the burst rule: wait until the customer has been quiet for the
domain's window (default 3 s), but never past the cap (20 s after the first
message, or 20 messages), and never for an urgent message.

Key: `chatwootai:mailbox:{account_id}:{conversation_id}`, TTL 7 days (longer
than any message can wait in a queue).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import cast

import redis

from hub import defaults
from hub.conversation.inbound import InboundMessage

MAILBOX_TTL_SECONDS = 7 * 24 * 3600
"""Longer than a message can sit in a queue while a domain's workers are down."""

READ_LIMIT = 200
"""Most messages read at once; a mailbox never legitimately grows this long."""

REPLACE_ATTEMPTS = 3
"""Tries of `replace` while the lock holder keeps changing the mailbox under it."""


class Mailbox:
    """Appends, reads and removes the pending messages of conversations."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    @staticmethod
    def key(account_id: int, conversation_id: int) -> str:
        return f"{defaults.REDIS_KEY_PREFIX}:mailbox:{account_id}:{conversation_id}"

    @staticmethod
    def entry(message: InboundMessage) -> str:
        """How a message is stored: its JSON (the exact bytes `withdraw` removes)."""
        return message.model_dump_json()

    def push(self, message: InboundMessage, pipe: redis.client.Pipeline | None = None) -> None:
        """Append an accepted message (receiver); one round trip, or queued on `pipe`
        for the caller to send with its own writes."""
        key = self.key(message.account_id, message.conversation_id)
        writes = pipe if pipe is not None else self.redis.pipeline(transaction=True)
        writes.rpush(key, self.entry(message))
        writes.expire(key, MAILBOX_TTL_SECONDS)
        if pipe is None:
            writes.execute()

    def withdraw(self, message: InboundMessage) -> None:
        """Take back a message whose task could not be queued (Chatwoot will resend it)."""
        self.redis.lrem(
            self.key(message.account_id, message.conversation_id), 1, self.entry(message)
        )

    def replace(
        self,
        account_id: int,
        conversation_id: int,
        message_id: int,
        update: Callable[[InboundMessage], InboundMessage],
    ) -> InboundMessage | None:
        """Rewrite a waiting message in its place (a voice note that got its words);
        None when it is not waiting: answered already, or not arrived yet.

        Optimistic (WATCH): if the lock holder trims the mailbox meanwhile, look again;
        the message it took is then answered as it was, once.
        """
        key = self.key(account_id, conversation_id)
        for _ in range(REPLACE_ATTEMPTS):
            with self.redis.pipeline(transaction=True) as pipe:
                try:
                    pipe.watch(key)  # type: ignore[no-untyped-call]
                    raw = cast(list[str], pipe.lrange(key, 0, READ_LIMIT - 1))
                    found = [
                        (index, message)
                        for index, item in enumerate(raw)
                        if (message := InboundMessage.model_validate_json(item)).message_id
                        == message_id
                    ]
                    if not found:
                        pipe.unwatch()
                        return None
                    index, message = found[0]
                    updated = update(message)
                    pipe.multi()
                    pipe.lset(key, index, self.entry(updated))
                    pipe.execute()
                    return updated
                except redis.WatchError:
                    continue
        return None

    def pending(self, account_id: int, conversation_id: int) -> list[InboundMessage]:
        """The waiting messages, oldest first."""
        raw = cast(
            list[str], self.redis.lrange(self.key(account_id, conversation_id), 0, READ_LIMIT - 1)
        )
        return [InboundMessage.model_validate_json(item) for item in raw]

    def size(self, account_id: int, conversation_id: int) -> int:
        return int(self.redis.llen(self.key(account_id, conversation_id)))

    def remove(self, account_id: int, conversation_id: int, count: int) -> None:
        """Drop the `count` oldest messages: they were answered (lock holder only)."""
        if count > 0:
            self.redis.ltrim(self.key(account_id, conversation_id), count, -1)


def quiet_in(
    batch: Sequence[InboundMessage],
    now: float,
    *,
    window: float,
    cap_seconds: float,
    max_messages: int,
) -> float:
    """Seconds to wait before answering `batch`; 0 means answer now.

    The customer is done when nothing arrived for `window` seconds; a burst that
    keeps going is answered `cap_seconds` after its first message, or at once
    when it reached `max_messages`. An urgent message never waits.
    """
    if window <= 0 or not batch or len(batch) >= max_messages:
        return 0.0
    if any(message.urgent for message in batch):
        return 0.0
    quiet_at = batch[-1].received_at + window
    deadline = batch[0].received_at + cap_seconds
    return max(0.0, min(quiet_at, deadline) - now)


def listening_for(batch: Sequence[InboundMessage], now: float, *, seconds: float) -> float:
    """Seconds to wait for Chatwoot's transcription of the batch's voice notes (their
    `message_updated`); 0 when none is unheard, or each waited `seconds` already."""
    if seconds <= 0:
        return 0.0
    waiting = [message.received_at + seconds for message in batch if message.unheard_audio]
    return max(0.0, max(waiting) - now) if waiting else 0.0

"""The checks around a turn, each one atomic round trip to Redis.

A turn reads and writes five keys of its conversation: the reply record and its
draft (`hub.conversation.replies`), the lock (`hub.conversation.lock`), the
mailbox (`hub.conversation.mailbox`) and the takeover mark
(`hub.conversation.takeover`). Asked one by one that was eight round trips
before a reply could be posted; each costs a network hop, two system calls and
a wait for the interpreter lock while other turns run. The gate asks them
together, in three Lua scripts:

- `open`: was this message answered already? If not, take the conversation's
  lock and, holding it, read the mailbox and the takeover mark.
- `before_post`: is the lock still ours, did the customer write while the crew
  ran, did a human take over? If none of these, claim the reply record
  (the rule in `lua/claim_reply.lua`, run inside the same script).
- `close`: the burst is answered. Its reply records say `posted`, the mailbox
  drops it, and the lock goes if the mailbox is now empty (`lua/release_if_drained.lua`).

Being scripts, they are also atomic: no other worker, receiver or agent event
can slip between the checks and the claim, or between the answer being recorded
and the lock being let go. They are `lua/gate_open.lua`, `lua/gate_before_post.lua`
and `lua/gate_close.lua`, loaded by `hub.conversation.scripts`.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Literal, cast

import redis

from hub.conversation import scripts
from hub.conversation.inbound import InboundMessage
from hub.conversation.lock import ConversationLock, ConversationLocks
from hub.conversation.mailbox import READ_LIMIT, Mailbox
from hub.conversation.misses import Misses
from hub.conversation.replies import (
    RECORD_TTL_SECONDS,
    STALE_POSTING_SECONDS,
    ReplyLedger,
    parse_draft,
)
from hub.conversation.takeover import Takeover
from hub.turn import Draft

Passage = Literal["claimed", "posted", "in_progress", "lost", "newer", "taken_over"]
"""What `before_post` found: go ahead and post (`claimed`); already `posted`; another
worker is posting (`in_progress`); the lock was `lost`; the customer wrote `newer`
messages; a human has `taken_over`."""


@dataclass(frozen=True)
class Opening:
    """What a task found when it opened its message's conversation."""

    posted: bool
    """The message's reply is already in Chatwoot: nothing to do."""
    draft: Draft | None = None
    """The turn's saved decision, when an earlier attempt failed after deciding."""
    lock: ConversationLock | None = None
    """Ours now; None when another worker holds the conversation (or it was posted)."""
    pending: tuple[InboundMessage, ...] = ()
    """The mailbox, read while holding the lock."""
    taken_over: bool = False
    """A human owned the conversation when the lock was taken."""
    misses: int = 0
    """The conversation's unanswered turns in a row when the lock was taken."""


class TurnGate:
    """Opens a conversation for a turn and lets a reply through to Chatwoot."""

    def __init__(self, client: redis.Redis, locks: ConversationLocks) -> None:
        self.locks = locks
        self._open = scripts.register(client, "gate_open")
        self._before_post = scripts.register(client, "gate_before_post")
        self._close = scripts.register(client, "gate_close")

    def open(self, message: InboundMessage) -> Opening:
        """Take the conversation for `message`, unless its reply was already posted."""
        account, conversation = message.account_id, message.conversation_id
        record = ReplyLedger.key(account, message.message_id)
        lock_key = ConversationLocks.key(account, conversation)
        token = uuid.uuid4().hex
        reply = cast(
            list[object],
            self._open(
                keys=[
                    record,
                    ReplyLedger.draft_key(account, message.message_id),
                    lock_key,
                    Mailbox.key(account, conversation),
                    Takeover.key(account, conversation),
                    Misses.key(account, conversation),
                ],
                args=[token, self.locks.ttl_ms, READ_LIMIT],
            ),
        )
        if int(cast(int, reply[0])):
            return Opening(posted=True)
        draft = parse_draft(reply[1])
        if not int(cast(int, reply[2])):
            return Opening(posted=False, draft=draft)
        raw = cast(list[str], reply[4])
        return Opening(
            posted=False,
            draft=draft,
            lock=self.locks.adopt(lock_key, token),
            pending=tuple(InboundMessage.model_validate_json(item) for item in raw),
            taken_over=bool(int(cast(int, reply[3]))),
            misses=int(cast(str, reply[5] or 0)),
        )

    def before_post(
        self, lock: ConversationLock, last: InboundMessage, *, fold_above: int | None
    ) -> Passage:
        """The last checks before posting the reply to `last`'s turn, and its claim.

        `fold_above`: the burst's size when a newer message should send the turn back
        to the crew (the mailbox holds more than that), None when it should not.
        """
        account, conversation = last.account_id, last.conversation_id
        if lock.lost or lock.released:
            return "lost"
        passage = str(
            self._before_post(
                keys=[
                    lock.key,
                    Mailbox.key(account, conversation),
                    Takeover.key(account, conversation),
                    ReplyLedger.key(account, last.message_id),
                ],
                args=[
                    lock.token,
                    -1 if fold_above is None else fold_above,
                    time.time(),
                    STALE_POSTING_SECONDS,
                    RECORD_TTL_SECONDS,
                ],
            )
        )
        if passage == "lost":
            lock.lost = True
        return cast(Passage, passage)

    def close(
        self,
        lock: ConversationLock,
        burst: list[InboundMessage],
        *,
        trim: int,
        forget: list[str] | None = None,
    ) -> bool:
        """The burst is answered (or needs no answer): each of its messages is done, the
        `trim` oldest mailbox entries (the burst) go, `forget` keys (a reset count) go,
        and the lock is released if the mailbox is now empty. True when the lock is no
        longer ours; False when more messages wait, for the next burst.

        The answer is recorded whether or not the lock is still ours: it was posted.
        """
        last = burst[-1]
        account, conversation = last.account_id, last.conversation_id
        records = [ReplyLedger.key(account, m.message_id) for m in burst]
        result = self._close(
            keys=[lock.key, Mailbox.key(account, conversation), *records, *(forget or [])],
            args=[lock.token, trim, len(records), RECORD_TTL_SECONDS],
        )
        return lock.settle(int(cast(int, result)))

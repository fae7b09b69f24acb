"""One turn at a time per conversation, across every worker process and host.

A conversation's messages must be answered in order, and a burst must get one
reply, so only one worker may work on a conversation at a time. The lock is a
Redis key holding a random token:

- `acquire`: `SET key token NX PX ttl`; whoever does not get it leaves the
  message in the conversation's mailbox for the holder (`hub.conversation.mailbox`).
- The holder's process renews every lock it holds from one background thread
  (every `ttl / 3`), so the lock outlives the slowest turn (two model timeouts
  and more) while a dead worker's lock expires `ttl` after its last renewal.
- `release_if_drained`: the holder gives the lock up only when the mailbox is
  empty, in one Lua script (the rule in `lua/release_if_drained.lua`), so a
  message pushed while the holder was finishing is either seen by the holder or
  finds the lock free. That atomic check is what lets a worker that finds the
  lock taken simply leave.
- A holder that loses its lock (a renewal found another token: the process was
  frozen longer than the TTL) stops before posting; the new holder answers.

Key: `chatwootai:lock:{account_id}:{conversation_id}`.
"""

from __future__ import annotations

import threading
import uuid
import weakref
from typing import cast

import redis
import structlog

from hub import defaults
from hub.conversation import scripts

log = structlog.get_logger(__name__)

LOCK_TTL_SECONDS = 30.0
"""A held lock lives this long past its last renewal: how soon a dead worker's
conversation is free again. Renewals every third of it survive a missed beat."""


class ConversationLock:
    """A held lock on one conversation; `held` turns False if it was lost."""

    def __init__(self, locks: ConversationLocks, key: str, token: str) -> None:
        self._locks = locks
        self.key = key
        self.token = token
        self.lost = False
        self.released = False

    @property
    def held(self) -> bool:
        """Still ours: checked right before anything is posted."""
        if self.lost or self.released:
            return False
        value = self._locks.redis.get(self.key)
        if value != self.token:
            self.lost = True
        return not self.lost

    def release_if_drained(self, mailbox_key: str) -> bool:
        """Release only if the mailbox is empty; False means more messages are waiting.

        A lock found lost counts as released: its new holder drains the mailbox.
        """
        result = self._locks.release_drained(keys=[self.key, mailbox_key], args=[self.token])
        return self.settle(int(cast(int, result)))

    def settle(self, result: int) -> bool:
        """Take in what the rule in `lua/release_if_drained.lua` answered, wherever it
        ran: True when the lock is no longer ours (released, or found lost)."""
        if result == 0:
            return False
        self._done(lost=result < 0)
        return True

    def release(self) -> None:
        """Give the lock up whatever the mailbox holds (after a failure: a retry follows)."""
        if self.released:
            return
        try:
            self._locks.release_script(keys=[self.key], args=[self.token])
        finally:
            self._done(lost=False)

    def _done(self, *, lost: bool) -> None:
        self.released = True
        self.lost = self.lost or lost
        self._locks.forget(self)


class ConversationLocks:
    """Acquires conversation locks and keeps the held ones alive."""

    def __init__(self, client: redis.Redis, ttl_seconds: float = LOCK_TTL_SECONDS) -> None:
        self.redis = client
        self.ttl_ms = int(ttl_seconds * 1000)
        self.renew_script = scripts.register(client, "lock_renew")
        self.release_drained = scripts.register(client, "lock_release_if_drained")
        self.release_script = scripts.register(client, "lock_release")
        self._held: weakref.WeakSet[ConversationLock] = weakref.WeakSet()
        self._guard = threading.Lock()
        self._wake = threading.Event()
        self._keeper: threading.Thread | None = None

    @staticmethod
    def key(account_id: int, conversation_id: int) -> str:
        return f"{defaults.REDIS_KEY_PREFIX}:lock:{account_id}:{conversation_id}"

    def acquire(self, account_id: int, conversation_id: int) -> ConversationLock | None:
        """The conversation's lock, or None when another worker holds it."""
        key = self.key(account_id, conversation_id)
        token = uuid.uuid4().hex
        if not self.redis.set(key, token, nx=True, px=self.ttl_ms):
            return None
        return self.adopt(key, token)

    def expires_in(self, account_id: int, conversation_id: int) -> float:
        """Seconds until the conversation's lock expires unless renewed (0: not held)."""
        remaining = int(self.redis.pttl(self.key(account_id, conversation_id)))
        return max(0.0, remaining / 1000)

    def adopt(self, key: str, token: str) -> ConversationLock:
        """A lock taken with `token` elsewhere (`hub.conversation.gate`), kept alive here."""
        lock = ConversationLock(self, key, token)
        with self._guard:
            self._held.add(lock)
            self._start_keeper()
        return lock

    def holder(self, account_id: int, conversation_id: int) -> str | None:
        """The token holding the conversation, if any (for tests and operators)."""
        value = self.redis.get(self.key(account_id, conversation_id))
        return None if value is None else str(value)

    def forget(self, lock: ConversationLock) -> None:
        with self._guard:
            self._held.discard(lock)

    def renew(self) -> None:
        """Extend every lock this process holds; mark the ones found lost."""
        with self._guard:
            locks = [lock for lock in self._held if not lock.released]
        for lock in locks:
            try:
                renewed = self.renew_script(keys=[lock.key], args=[lock.token, self.ttl_ms])
                if int(cast(int, renewed)) < 0:
                    lock.lost = True
                    log.warning("conversation lock lost", key=lock.key)
            except redis.RedisError as error:  # the next beat tries again
                log.warning("conversation lock renewal failed", key=lock.key, error=str(error))

    def _start_keeper(self) -> None:
        if self._keeper is not None and self._keeper.is_alive():
            return
        self._keeper = threading.Thread(
            target=self._keep, name="conversation-lock-keeper", daemon=True
        )
        self._keeper.start()

    def _keep(self) -> None:
        interval = self.ttl_ms / 3000
        while not self._wake.wait(interval):
            self.renew()

    def stop(self) -> None:
        """Stop renewing (tests; a process that exits stops anyway)."""
        self._wake.set()

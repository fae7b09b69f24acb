"""The reply record that makes replies exactly-once on top of at-least-once delivery.

A message can be delivered to a worker more than once (a crashed worker's
message is redelivered; a task retries after a Chatwoot error). Before posting,
the worker claims `chatwootai:reply:{account}:{message}` as `posting`; after the
post succeeds it becomes `posted`. A redelivered message whose reply is
`posted` is acknowledged without a second reply. One whose record says
`posting` for longer than the post timeout belongs to a worker that died between
claim and post: we cannot know whether Chatwoot got it, and we post again,
preferring a rare duplicate to silence.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Literal

import redis

from hub import defaults

RECORD_TTL_SECONDS = 7 * 24 * 3600
"""Longer than any redelivery or retry window."""

STALE_POSTING_SECONDS = 60
"""A `posting` claim older than this belongs to a worker that died mid-post."""

DRAFT_TTL_SECONDS = 3600
"""Drafts only need to outlive the task's retries."""


@dataclass(frozen=True)
class Draft:
    """What a turn decided: the text for the customer, and a handoff reason if any."""

    text: str
    handoff_reason: str | None = None
    urgent: bool = False
    kind: str | None = None
    """Why a handoff happens, as metrics label it (rule, customer_asked, crew, plugin,
    failure, unanswered); None for a plain reply."""


Claim = Literal["claimed", "posted", "in_progress"]


class ReplyLedger:
    """Claims, confirms and releases reply records in Redis."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    @staticmethod
    def key(account_id: int, message_id: int) -> str:
        return f"{defaults.REDIS_KEY_PREFIX}:reply:{account_id}:{message_id}"

    def claim(self, account_id: int, message_id: int) -> Claim:
        """`claimed` (go ahead and post), `posted` (already done) or `in_progress`."""
        key = self.key(account_id, message_id)
        now = time.time()
        if self.redis.set(key, f"posting:{now}", nx=True, ex=RECORD_TTL_SECONDS):
            return "claimed"
        value = str(self.redis.get(key) or "")
        if value == "posted":
            return "posted"
        started = float(value.split(":", 1)[1]) if value.startswith("posting:") else 0.0
        if now - started > STALE_POSTING_SECONDS:
            self.redis.set(key, f"posting:{now}", ex=RECORD_TTL_SECONDS)
            return "claimed"
        return "in_progress"

    def confirm(self, account_id: int, message_id: int) -> None:
        """The reply reached Chatwoot."""
        self.redis.set(self.key(account_id, message_id), "posted", ex=RECORD_TTL_SECONDS)

    def answered(
        self,
        account_id: int,
        message_ids: list[int],
        *,
        mailbox_key: str,
        trim: int,
        forget: list[str] | None = None,
    ) -> None:
        """A burst was answered: each of its messages is done, and the `trim` oldest
        mailbox entries (the burst) go, in one MULTI so neither happens without the other.
        `forget`: keys the turn made obsolete (a reset count), in the same round trip."""
        pipe = self.redis.pipeline(transaction=True)
        for message_id in message_ids:
            pipe.set(self.key(account_id, message_id), "posted", ex=RECORD_TTL_SECONDS)
        if trim > 0:
            pipe.ltrim(mailbox_key, trim, -1)
        if forget:
            pipe.delete(*forget)
        pipe.execute()

    def release(self, account_id: int, message_id: int) -> None:
        """The post failed; a retry may claim again."""
        self.redis.delete(self.key(account_id, message_id))

    def state(self, account_id: int, message_id: int) -> tuple[bool, Draft | None]:
        """Whether the reply was posted, and the saved draft: one round trip."""
        key = self.key(account_id, message_id)
        record, raw = self.redis.mget([key, f"{key}:draft"])
        return record == "posted", _draft(raw)

    def save_draft(self, account_id: int, message_id: int, draft: Draft) -> None:
        """Keep what the turn decided so a retry carries it out without running the crew again."""
        self.redis.set(
            f"{self.key(account_id, message_id)}:draft",
            json.dumps(
                {
                    "text": draft.text,
                    "handoff": draft.handoff_reason,
                    "urgent": draft.urgent,
                    "kind": draft.kind,
                },
                ensure_ascii=False,
            ),
            ex=DRAFT_TTL_SECONDS,
        )

    def step_done(self, account_id: int, message_id: int, step: str) -> bool:
        """Whether one step of a multi-call action (a handoff) already reached Chatwoot."""
        return bool(self.redis.sismember(f"{self.key(account_id, message_id)}:steps", step))

    def mark_step(self, account_id: int, message_id: int, step: str) -> None:
        key = f"{self.key(account_id, message_id)}:steps"
        pipe = self.redis.pipeline(transaction=False)
        pipe.sadd(key, step)
        pipe.expire(key, RECORD_TTL_SECONDS)
        pipe.execute()


def _draft(raw: object) -> Draft | None:
    if raw is None:
        return None
    data = json.loads(str(raw))
    return Draft(
        text=data["text"],
        handoff_reason=data.get("handoff"),
        urgent=bool(data.get("urgent")),
        kind=data.get("kind"),
    )

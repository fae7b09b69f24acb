"""The reply record that makes replies exactly-once on top of at-least-once delivery.

A message can be delivered to a worker more than once (a crashed worker's
message is redelivered; a task retries after a Chatwoot error). Before posting,
the worker claims `chatwootai:reply:{account}:{message}` as `posting`; after the
post succeeds it becomes `posted`. A redelivered message whose reply is
`posted` is acknowledged without a second reply. One whose record says
`posting` for longer than the post timeout belongs to a worker that died between
claim and post (or before it could confirm): the new attempt posts again,
preferring a rare duplicate to silence.

Whether Chatwoot has a message is known only from the copy it sends the bot
(`hub.conversation.echoes`), so every reply goes through `ReplyLedger.send`: it
is not sent when a bot message with the same text already follows the customer's
(an earlier attempt got through), and a post that may have reached Chatwoot
unheard (a timeout, a dropped connection) is sent again only if that copy does not
come.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, get_args

import redis
import structlog

from hub import defaults
from hub.conversation.echoes import Echoes
from hub.conversation.inbound import InboundMessage
from hub.turn import Draft, HandoffKind

if TYPE_CHECKING:  # the client installs its header parser on import: workers only
    from hub.chatwoot.client import ChatwootClient

log = structlog.get_logger(__name__)

RECORD_TTL_SECONDS = 7 * 24 * 3600
"""Longer than any redelivery or retry window."""

STALE_POSTING_SECONDS = 60
"""A `posting` claim older than this belongs to a worker that died mid-post."""

DRAFT_TTL_SECONDS = 3600
"""Drafts only need to outlive the task's retries."""

Step = tuple[str, Callable[[], object]]
"""One call of a multi-call action, by the name it is recorded under."""


class ReplyLedger:
    """Reply records and drafts in Redis: released after a failed post, read by retries.

    Claims and confirmations run in `hub.conversation.gate`'s scripts; the claim rule
    is `lua/claim_reply.lua`."""

    def __init__(self, client: redis.Redis, echoes: Echoes | None = None) -> None:
        self.redis = client
        self.echoes = echoes or Echoes(client)

    @staticmethod
    def key(account_id: int, message_id: int) -> str:
        return f"{defaults.REDIS_KEY_PREFIX}:reply:{account_id}:{message_id}"

    @classmethod
    def draft_key(cls, account_id: int, message_id: int) -> str:
        return f"{cls.key(account_id, message_id)}:draft"

    def release(self, account_id: int, message_id: int) -> None:
        """The post failed; a retry may claim again."""
        self.redis.delete(self.key(account_id, message_id))

    def state(self, account_id: int, message_id: int) -> tuple[bool, Draft | None]:
        """Whether the reply was posted, and the saved draft: one round trip."""
        record, raw = self.redis.mget(
            [self.key(account_id, message_id), self.draft_key(account_id, message_id)]
        )
        return record == "posted", parse_draft(raw)

    def save_draft(self, account_id: int, message_id: int, draft: Draft) -> None:
        """Keep what the turn decided so a retry carries it out without running the crew again."""
        self.redis.set(
            self.draft_key(account_id, message_id),
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

    def carry_out(self, account_id: int, message_id: int, steps: Sequence[Step]) -> list[str]:
        """Run the steps of a multi-call action (a reply in parts, a handoff) in order,
        each once: a step is recorded when Chatwoot took it, so a retry after a failure
        resumes at the first step not done. Returns the names of the steps run now;
        a step's exception (ChatwootAPIError) propagates and stops the rest."""
        ran: list[str] = []
        for name, call in steps:
            if not self.step_done(account_id, message_id, name):
                call()
                self.mark_step(account_id, message_id, name)
                ran.append(name)
        return ran

    def step_done(self, account_id: int, message_id: int, step: str) -> bool:
        """Whether one step of a multi-call action (a handoff) already reached Chatwoot."""
        return bool(self.redis.sismember(f"{self.key(account_id, message_id)}:steps", step))

    def mark_step(self, account_id: int, message_id: int, step: str) -> None:
        key = f"{self.key(account_id, message_id)}:steps"
        pipe = self.redis.pipeline(transaction=False)
        pipe.sadd(key, step)
        pipe.expire(key, RECORD_TTL_SECONDS)
        pipe.execute()

    def send(
        self,
        chatwoot: ChatwootClient,
        answering: InboundMessage,
        text: str,
        *,
        token: str | None,
        private: bool = False,
    ) -> dict[str, Any]:
        """Post `text` (a reply, a part of one, or with `private` a note) in the
        conversation of `answering`, the customer message it answers, at most once.

        Not sent when Chatwoot already has a bot message with this text after
        `answering` (an earlier attempt reached it: a task retried after a timeout, a
        claim taken over); {} is returned then, as when an attempt Chatwoot received
        unheard is not repeated. Raises ChatwootAPIError like the client.
        """
        account, conversation = answering.account_id, answering.conversation_id
        after = answering.message_id
        if self.echoes.followed(account, conversation, text, after=after):
            log.warning("chatwoot has this message from an earlier attempt; not sent again")
            return {}
        return chatwoot.send_message(
            account,
            conversation,
            text,
            token=token,
            private=private,
            already_sent=lambda: self.echoes.wait(account, conversation, text, after=after),
        )


def parse_draft(raw: object) -> Draft | None:
    """A saved draft as Redis returns it (JSON, or None when there is none)."""
    if raw is None:
        return None
    data = json.loads(str(raw))
    return Draft(
        text=data["text"],
        handoff_reason=data.get("handoff"),
        urgent=bool(data.get("urgent")),
        kind=data["kind"] if data.get("kind") in get_args(HandoffKind) else None,
    )

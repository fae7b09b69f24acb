"""A customer message's arrival at the receiver, checked in one atomic round trip.

Before it can queue a message, the receiver must know three things that live in
Redis: whether a human has taken the conversation over
(`hub.conversation.takeover`), whether this message or delivery was already
accepted (`hub.conversation.dedupe`), and which domain the conversation belongs
to (`hub.domains.manager`). Asked one by one, those were three round trips on
the path Chatwoot waits on (a busy receiver spends most of a webhook waiting for
Redis); one script (`lua/intake_arrive.lua`) asks them at once, with the takeover
rule (`lua/takeover_holds.lua`, shared with `Takeover.observe`) and the
all-or-nothing claim run inside Redis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, cast

import redis

from hub.conversation import scripts
from hub.conversation.dedupe import SEEN_TTL_SECONDS
from hub.conversation.takeover import Takeover

Kind = Literal["new", "taken_over", "duplicate"]


@dataclass(frozen=True)
class Arrival:
    """What Redis knew about an arriving message."""

    kind: Kind
    """`new`: claimed now, to be queued; `taken_over`: a human owns the conversation;
    `duplicate`: accepted before (nothing was claimed)."""
    stored: dict[str, str] = field(default_factory=dict)
    """The conversation's domain record (`new` only), for `DomainManager.resolve`."""


class Intake:
    """Checks an arriving message against the takeover mark and the dedupe keys."""

    def __init__(self, client: redis.Redis, ttl_seconds: int = SEEN_TTL_SECONDS) -> None:
        self.ttl_seconds = ttl_seconds
        self._arrive = scripts.register(client, "intake_arrive")

    def arrive(
        self,
        account_id: int,
        conversation_id: int,
        *,
        status: str,
        dedupe_keys: Sequence[str],
        domain_record: str,
    ) -> Arrival:
        """Note the conversation's status, claim every dedupe key (all or none) and read
        the conversation's domain record, unless a human owns it."""
        reply = cast(
            list[object],
            self._arrive(
                keys=[Takeover.key(account_id, conversation_id), domain_record, *dedupe_keys],
                args=[status, self.ttl_seconds],
            ),
        )
        kind = cast(Kind, str(reply[0]))
        if kind != "new":
            return Arrival(kind)
        flat = [str(item) for item in cast(list[object], reply[1])]
        return Arrival("new", dict(zip(flat[::2], flat[1::2], strict=True)))

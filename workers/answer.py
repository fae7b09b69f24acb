"""One burst's turn in a worker: the I/O around one decision.

    human took over?                 → stay silent
    a saved draft?                   → a retry: carry it out, the crew does not run again
                                       (unless the customer wrote since: then it does)
    late?                            → past the domain's age: the apology, then the
                                       answer (or a handoff) (`hub.conversation.lateness`)
    voice notes, quotes, pictures    → made usable first (`workers.media`)
    decide (hub.conversation.decision) from the burst, the history and the miss count
    the customer wrote while it ran? → run again with the newer messages (at most twice)
    a handoff                        → its calls, step by step; the bot goes silent
    a reply                          → last checks and the reply record's claim (one round
                                       trip), post, record the turn, close it

What the turn decided is saved as a draft (keyed by the burst's last message)
when Chatwoot fails, and before a handoff's several calls, so a retry carries
out the same decision.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import structlog

from hub.conversation.decision import decide, is_miss
from hub.conversation.inbound import InboundMessage
from hub.conversation.lateness import late_draft
from hub.conversation.lock import ConversationLock
from hub.domains.domain import Domain
from hub.exceptions import ChatwootAPIError, ConfigurationError, DomainNotFoundError
from hub.turn import Decision, Draft, HubResult, Turn
from workers.delivery import hand_off, post_reply
from workers.history import read_history, record
from workers.media import heard, prompt, turn_media
from workers.runtime import WorkerRuntime
from workers.typing_indicator import TypingIndicator

log = structlog.get_logger(__name__)

Status = Literal["replied", "handed_off", "duplicate", "silent", "busy", "deferred"]

MAX_FOLDS = 2
"""Times a turn is run again because the customer wrote while it ran; after that the
reply is posted and the newer messages get their own turn (a reply, late, beats none)."""


@dataclass(frozen=True)
class Handled:
    """What became of one message (or of the burst it was answered with)."""

    status: Status
    route: str | None = None
    reason: str = ""
    messages: int = 1
    """How many customer messages the turn answered."""
    recheck: InboundMessage | None = None
    delay: float = 0.0
    """`deferred`: the customer is still typing; `recheck` comes back in `delay` seconds."""


@dataclass(frozen=True)
class Burst:
    """The messages one turn answers, and what the worker knows of them already."""

    messages: Sequence[InboundMessage]
    from_mailbox: bool
    """False for a message answered on its own (not found in the mailbox)."""
    taken_over: bool
    draft: Draft | None
    """The draft saved for the last message by an earlier attempt."""
    misses: int | None = None
    """The conversation's unanswered turns in a row, when read with the lock."""

    @property
    def last(self) -> InboundMessage:
        return self.messages[-1]

    @property
    def text(self) -> str:
        """The customer's messages as one prompt."""
        return "\n".join(m.prompt_text for m in self.messages if m.text)


Ending = Handled | Literal["folded", "lost"]
"""A turn's end: what became of the burst; or `folded`, the customer wrote while the
crew ran (run the turn again with the newer messages); or `lost`, another worker owns
the conversation now and answers what is left."""


def answer(runtime: WorkerRuntime, burst: Burst, lock: ConversationLock, *, folds: int) -> Ending:
    """One turn for a burst: decide, deliver, and take the burst out of the mailbox.

    "typing…" shows while the crew composes and goes when the turn ends, posted or not.
    """
    last = burst.last
    token = runtime.registry.chatwoot_token(last.account_id, runtime.settings)
    typing = TypingIndicator(runtime.chatwoot, last.account_id, last.conversation_id, token)
    try:
        return _turn(runtime, burst, lock, folds=folds, typing=typing)
    finally:
        typing.off()


def _turn(
    runtime: WorkerRuntime,
    burst: Burst,
    lock: ConversationLock,
    *,
    folds: int,
    typing: TypingIndicator,
) -> Ending:
    last, size = burst.last, len(burst.messages)
    domain = domain_of(runtime, last)
    if burst.taken_over:
        close(runtime, burst, lock)
        return Handled("silent", reason="a human agent has taken over", messages=size)
    draft, decision, fold_above = burst.draft, None, None
    if draft is None:  # the first attempt: a retry carries out a saved draft
        runtime.middleware.turn_started(domain, burst.messages)
        burst = replace(burst, messages=heard(runtime, domain, burst.messages))
        decision = _decide(runtime, domain, burst, typing)
        runtime.middleware.decided(domain, last, decision)
        if decision.foldable and _may_fold(domain, burst, folds):
            if not decision.miss:  # looked at with the claim, in the same round trip
                fold_above = size
            elif runtime.mailbox.size(last.account_id, last.conversation_id) > size:
                return _folded()  # looked at now: a turn answered again is no miss
        if decision.miss:
            runtime.misses.add(last.account_id, last.conversation_id)
        draft = decision.draft
        if draft.hands_off:  # several calls to come: keep the decision
            runtime.replies.save_draft(last.account_id, last.message_id, draft)
    elif _may_fold(domain, burst, folds):
        # A retry's draft was composed before the wait: if the customer wrote since,
        # the turn runs again with the newer messages instead (looked at with the claim).
        fold_above = size
    draft = _on_time(runtime, domain, last, draft)
    route = decision.recorded_route if decision is not None else None
    usage = decision.usage if decision is not None else {}
    trace = decision.trace if decision is not None else None
    if draft.hands_off:
        if not lock.held:
            return "lost"
        hand_off(runtime, domain, last, draft)
        record(runtime, domain, burst.messages, draft, "handoff", usage, trace)
        close(runtime, burst, lock)
        return Handled("handed_off", reason=draft.handoff_reason or "", messages=size)
    passage = runtime.gate.before_post(lock, last, fold_above=fold_above)
    if passage == "newer":
        return _folded()
    if passage in ("lost", "in_progress"):  # or a worker that died mid-post < 60 s ago
        return "lost"
    if passage == "posted":
        close(runtime, burst, lock)
        return Handled("duplicate", reason="reply already posted", messages=size)
    if passage == "taken_over":
        close(runtime, burst, lock)
        return Handled("silent", reason="a human agent took over while the crew ran", messages=size)
    try:
        post_reply(runtime, domain, last, draft)
    except ChatwootAPIError:
        # The retry posts this same text instead of running the crew again.
        runtime.replies.save_draft(last.account_id, last.message_id, draft)
        runtime.replies.release(last.account_id, last.message_id)
        raise
    runtime.middleware.replied(domain, last, "answer")
    record(runtime, domain, burst.messages, draft, route, usage, trace)
    close(runtime, burst, lock, reset_misses=not is_miss(domain, draft.text))
    return Handled("replied", route=route, messages=size)


def _decide(
    runtime: WorkerRuntime, domain: Domain, burst: Burst, typing: TypingIndicator
) -> Decision:
    """The decision for the burst, from the history in the store and the miss count;
    the typing indicator goes on when the crew starts (a rule's reply needs none)."""
    last = burst.last
    history, previous_route = read_history(runtime, domain, last)
    turn = Turn(
        message=prompt(runtime, burst.messages),
        history=history,
        previous_route=previous_route,
        customer_name=last.contact_name or "",
        contact_phone=last.contact_phone or "",
        contact_email=last.contact_email or "",
        channel=last.channel or "",
        account_id=last.account_id,
        conversation_id=last.conversation_id,
        **turn_media(runtime, domain, burst.messages),
    )
    misses = burst.misses
    if misses is None:
        misses = runtime.misses.count(last.account_id, last.conversation_id)
    limited = runtime.limits.over(domain, len(burst.messages))

    def compose(turn: Turn) -> HubResult:
        typing.on()  # the kit is prepared here at the domain's first message
        return runtime.factory.hub(domain.id).run(turn)

    decision = decide(domain, turn, compose, misses=misses, limited=limited)
    usage = decision.usage
    runtime.limits.spend(
        domain, int(usage.get("prompt_tokens") or 0) + int(usage.get("completion_tokens") or 0)
    )
    return decision


def _on_time(runtime: WorkerRuntime, domain: Domain, last: InboundMessage, draft: Draft) -> Draft:
    """The draft as the late-reply rule makes it now; a changed one is saved, so a retry
    posts the same text."""
    age = time.time() - last.received_at
    late = late_draft(draft, age, domain.spec.conversation)
    if late != draft:
        log.warning(
            "reply is late: apologizing",
            age_seconds=round(age),
            late_reply=domain.spec.conversation.late_reply,
            handoff=late.hands_off,
        )
        runtime.replies.save_draft(last.account_id, last.message_id, late)
    return late


def _may_fold(domain: Domain, burst: Burst, folds: int) -> bool:
    """Whether newer messages may still join this burst: it came from the mailbox, has
    room for more, and was not sent back to the crew too often already."""
    return (
        burst.from_mailbox
        and folds < MAX_FOLDS
        and len(burst.messages) < domain.spec.conversation.max_burst_messages
    )


def _folded() -> Literal["folded"]:
    log.info("customer wrote while the crew ran; answering again with the new messages")
    return "folded"


def close(
    runtime: WorkerRuntime, burst: Burst, lock: ConversationLock, *, reset_misses: bool = False
) -> None:
    """The burst is answered: every message's reply record says so; the mailbox drops it
    (and, for a real answer, the conversation's count of misses); the lock goes if
    nothing else waits. One round trip, the turn's last: its record is in the store
    already, so the next turn, whoever takes it, has it in its history."""
    last = burst.last
    runtime.gate.close(
        lock,
        list(burst.messages),
        trim=len(burst.messages) if burst.from_mailbox else 0,
        forget=[runtime.misses.key(last.account_id, last.conversation_id)] if reset_misses else [],
    )


def domain_of(runtime: WorkerRuntime, message: InboundMessage) -> Domain:
    """The message's domain (a tenant added since the last look included); the default
    one when it is gone since the message was queued.

    A domain this worker does not know yet is looked for again at once: the receiver
    queued it, so the folder changed, and this worker's reload interval may simply not
    have passed (a tenant added while both run). Only when the folder really lacks it
    is the default used; a deployment without a default domain gets the original
    error, which names the missing domain, and the message is dead-lettered."""
    runtime.registry.maybe_reload()
    try:
        return runtime.registry.get(message.domain)
    except DomainNotFoundError as missing:
        try:
            runtime.registry.reload()
        except ConfigurationError as error:
            log.error("domains folder unreadable; serving the last good domains", error=str(error))
        if message.domain in runtime.registry.domains:
            return runtime.registry.get(message.domain)
        log.warning("domain gone since queued; using the default", domain=message.domain)
        if "default" not in runtime.registry.domains:
            raise missing
        return runtime.registry.get("default")

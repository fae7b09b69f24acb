"""One customer message, from the queue to Chatwoot: the loop over the conversation's bursts.

    reply already posted?              → done (a redelivery, or answered with its burst)
    conversation lock taken?           → leave it: the holder answers it (task re-checks later)
    holding the lock, until the mailbox is empty:
        burst not over yet?            → let go; the newest message's task comes back when
                                         it may be (quiet for the domain's window, capped;
                                         urgent: no wait); no thread sleeps meanwhile
        a voice note not heard yet?    → the same, until Chatwoot's transcription arrives or
                                         the domain's transcription wait is over
        answer the burst               → `workers.answer`: one decision, its delivery
        the customer wrote meanwhile?  → answer again with the newer messages
        lock lost?                     → the new holder answers what is left

The checks before the first burst (posted? lock, mailbox, takeover, draft) are
one Redis round trip (`hub.conversation.gate`).

A turn answers a *burst*: the messages at the head of the conversation's mailbox
(`hub.conversation.mailbox`), in order, as one prompt. Only the holder of the
conversation's lock (`hub.conversation.lock`) works on it, so a conversation's
messages are answered one turn at a time and in order, whichever worker took
their tasks.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import redis
import structlog

from hub.conversation.gate import Opening
from hub.conversation.inbound import InboundMessage
from hub.conversation.lock import ConversationLock
from hub.conversation.mailbox import listening_for, quiet_in
from hub.exceptions import ChatwootAPIError
from workers.answer import Burst, Handled, answer, domain_of
from workers.runtime import WorkerRuntime

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Typing:
    """The burst is not over: its newest message comes back in `delay` seconds."""

    newest: InboundMessage
    delay: float


def handle(runtime: WorkerRuntime, message: InboundMessage) -> Handled:
    """Answer one message; raises ChatwootAPIError when Chatwoot could not be reached."""
    try:
        return _handle(runtime, message)
    except ChatwootAPIError:
        runtime.middleware.failed(message.domain, "chatwoot_error")
        raise
    except redis.RedisError:
        runtime.middleware.failed(message.domain, "redis_error")
        raise


def _handle(runtime: WorkerRuntime, message: InboundMessage) -> Handled:
    opening = runtime.gate.open(message)
    if opening.posted:
        return Handled("duplicate", reason="reply already posted")
    lock = opening.lock
    if lock is None:
        return Handled("busy", reason="another worker is answering this conversation")
    try:
        return _drain(runtime, message, lock, opening)
    except BaseException:
        lock.release()  # a retry (or another task) takes the conversation up again
        raise


def _drain(
    runtime: WorkerRuntime, message: InboundMessage, lock: ConversationLock, opening: Opening
) -> Handled:
    """Answer the conversation's mailbox, burst by burst, until it is empty.

    `opening` is what the task read when it took the lock: the first burst is made
    of it instead of asking Redis again.
    """
    mailbox_key = runtime.mailbox.key(message.account_id, message.conversation_id)
    mine: Handled | None = None
    folds = 0
    first: Opening | None = opening
    while True:
        burst = _next_burst(runtime, message, include_own=mine is None, opening=first)
        first = None
        if isinstance(burst, Typing):
            # Let go and come back: the newest message's task answers the whole burst.
            lock.release()
            return Handled(
                "deferred",
                reason="the customer is still typing",
                recheck=burst.newest,
                delay=burst.delay,
            )
        if burst is not None:
            ending = answer(runtime, burst, lock, folds=folds)
            if ending == "folded":
                folds += 1
                continue
            if ending == "lost":
                log.warning("conversation taken over or mid-post elsewhere; rechecked later")
                lock.release()  # a no-op when the lock is another worker's now
                return mine or Handled("busy", reason="the conversation lock was lost")
            folds = 0
            if any(m.message_id == message.message_id for m in burst.messages):
                mine = ending
        # Normally the turn's closing round trip let go already (the mailbox was empty).
        if lock.released or lock.release_if_drained(mailbox_key):
            break
    return mine or Handled("duplicate", reason="answered with its burst by an earlier turn")


def _next_burst(
    runtime: WorkerRuntime,
    message: InboundMessage,
    *,
    include_own: bool,
    opening: Opening | None,
) -> Burst | Typing | None:
    """The next burst to answer; None when the mailbox is empty; Typing while the
    customer may still be typing.

    `opening`: what was read with the lock (the first burst). A message missing from
    the mailbox (queued by an older receiver, or a mailbox lost with Redis) is
    answered on its own.
    """
    account, conversation = message.account_id, message.conversation_id
    pending = runtime.mailbox.pending(account, conversation) if opening is None else opening.pending
    if include_own and not any(m.message_id == message.message_id for m in pending):
        if opening is not None:
            return Burst([message], False, opening.taken_over, opening.draft, opening.misses)
        if not runtime.replies.state(account, message.message_id)[0]:
            return _burst(runtime, [message], False, None)
    if not pending:
        return None
    settings = domain_of(runtime, pending[0]).spec.conversation
    messages = _leading(pending, settings.max_burst_messages)
    window = runtime.settings.burst_window_seconds
    now = time.time()
    wait = quiet_in(
        messages,
        now,
        window=settings.burst_window_seconds if window is None else window,
        cap_seconds=settings.max_burst_seconds,
        max_messages=settings.max_burst_messages,
    )
    wait = max(wait, listening_for(messages, now, seconds=_transcription_wait(runtime, pending[0])))
    if wait > 0:
        return Typing(messages[-1], wait)
    if opening is not None and messages[-1].message_id == message.message_id:
        return Burst(messages, True, opening.taken_over, opening.draft, opening.misses)
    return _burst(runtime, messages, True, opening)


def _transcription_wait(runtime: WorkerRuntime, message: InboundMessage) -> float:
    """How long a voice note waits for Chatwoot's transcription: not at all when one of
    the domain's plugins transcribes it, else the domain's (or CHATWOOTAI_…) setting."""
    domain = domain_of(runtime, message)
    if runtime.factory.plugins.transcribes(domain):
        return 0.0
    wait = runtime.settings.transcription_wait_seconds
    return domain.spec.conversation.transcription_wait_seconds if wait is None else wait


def _burst(
    runtime: WorkerRuntime,
    messages: list[InboundMessage],
    from_mailbox: bool,
    opening: Opening | None,
) -> Burst:
    """A burst whose takeover mark and misses (unless read with the lock) and draft are
    read now."""
    last = messages[-1]
    if opening is not None:
        taken_over, misses = opening.taken_over, opening.misses
    else:
        taken_over = runtime.takeover.active(last.account_id, last.conversation_id)
        misses = None
    draft = None if taken_over else runtime.replies.state(last.account_id, last.message_id)[1]
    return Burst(messages, from_mailbox, taken_over, draft, misses)


def _leading(pending: Sequence[InboundMessage], limit: int) -> list[InboundMessage]:
    """The oldest messages of one domain, at most `limit`: after a domain switch the
    burst stops where the new domain's messages start."""
    burst: list[InboundMessage] = []
    for message in pending[:limit]:
        if message.domain != pending[0].domain:
            break
        burst.append(message)
    return burst

"""One customer message, from the queue to Chatwoot: the worker's whole job.

    reply already posted?              → done (a redelivery, or answered with its burst)
    conversation lock taken?           → leave it: the holder answers it (task re-checks later)
    holding the lock, until the mailbox is empty:
        burst not over yet?            → let go; the newest message's task comes back when
                                         it may be (quiet for the domain's window, capped;
                                         urgent: no wait); no thread sleeps meanwhile
        human took over?               → stay silent
        domain rule / asks for a person → handoff, no model call
        HubCrew(domain).run            → reply, route (or the crew asks for a human)
           fails                       → the domain's fallback message + handoff to a human
        lock lost? new messages while it ran (→ run again with them, at most twice)?
        human took over meanwhile?     → no stale reply, no reply over a human's
        claim the reply record → post → record the turn (SQL) →
        confirm; the burst leaves the mailbox; the lock goes if the mailbox is empty

The checks before the crew (posted? lock, mailbox, takeover) are one Redis round
trip, the checks before the post with the claim are one, and so is the close:
confirm, drop the burst and release the lock (`hub.conversation.gate`). Each
round trip is a wait on the network and on the interpreter lock while other
turns run.

A turn answers a *burst*: the messages at the head of the conversation's mailbox
(`hub.conversation.mailbox`), in order, as one prompt. Only the holder of the
conversation's lock (`hub.conversation.lock`) works on it, so a conversation's
messages are answered one turn at a time and in order, whichever worker took
their tasks.

What the turn decided is saved as a draft (keyed by the burst's last message)
when Chatwoot fails (and before a handoff's several calls), so a retry carries
out the same decision without running the crew again. A handoff is several
calls (reply, private note, status, labels); each is recorded when done, so a
retry resumes where it stopped instead of repeating the customer-facing message.

Metrics (`hub.telemetry`) are recorded where each thing happens, summed in the
process and sent to Redis every second: replies and handoffs once, when Chatwoot
took them; failures per attempt, by reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

import redis
import structlog
from sqlalchemy.exc import SQLAlchemyError

from hub.conversation.gate import Opening
from hub.conversation.handoff import accepts_offer, decide, handoff_message
from hub.conversation.inbound import InboundMessage
from hub.conversation.lock import ConversationLock
from hub.conversation.mailbox import quiet_in
from hub.conversation.replies import Draft
from hub.crews.hub_crew import Turn
from hub.crews.llm import turn_cost
from hub.domains.domain import Domain
from hub.exceptions import (
    ChatwootAIError,
    ChatwootAPIError,
    DomainNotFoundError,
    ModelError,
    ModelTimeoutError,
)
from hub.store.conversations import TurnRecord, recent, record_turn
from hub.store.database import connection_scope
from workers.runtime import WorkerRuntime

log = structlog.get_logger(__name__)

Status = Literal["replied", "handed_off", "duplicate", "silent", "busy", "deferred"]

FAILURE_REASON = "falha ao gerar resposta"
"""How a handoff caused by a crew failure starts its reason."""
UNANSWERED_REASON = "o bot não soube responder"
"""How a handoff after repeated misses starts its reason."""
HANDOFF_KINDS = (
    ("regra ", "rule"),  # hub.conversation.handoff.decide: a domain rule
    ("o cliente pediu atendimento humano", "customer_asked"),  # ...: a handoff keyword
    (FAILURE_REASON, "failure"),
    (UNANSWERED_REASON, "unanswered"),
)
"""Reason prefixes → the `reason` label of `chatwootai_handoffs_total`, for drafts saved
before drafts carried their `kind`; any other is `crew`."""

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


class _Typing(Exception):
    """The burst is not over: come back when it may be (no thread waits meanwhile)."""

    def __init__(self, newest: InboundMessage, delay: float) -> None:
        super().__init__(f"customer typing; back in {delay:.1f} s")
        self.newest = newest
        self.delay = delay


class _Folded(Exception):
    """The customer wrote while the crew ran: answer again with the newer messages."""


class _LockLost(Exception):
    """Another worker owns the conversation now; it answers what is left."""


def handle(runtime: WorkerRuntime, message: InboundMessage) -> Handled:
    """Answer one message; raises ChatwootAPIError when Chatwoot could not be reached."""
    try:
        return _handle(runtime, message)
    except ChatwootAPIError:
        runtime.telemetry.count("failures", message.domain, "chatwoot_error")
        raise
    except redis.RedisError:
        runtime.telemetry.count("failures", message.domain, "redis_error")
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

    `opening` is what the task read when it took the lock (its message's draft, the
    mailbox, the takeover mark): the first burst uses it instead of asking again.
    """
    account, conversation = message.account_id, message.conversation_id
    mailbox_key = runtime.mailbox.key(account, conversation)
    mine: Handled | None = None
    folds = 0
    first: Opening | None = opening
    while True:
        try:
            batch, from_mailbox = _next_burst(
                runtime, message, mine is None, opened=None if first is None else first.pending
            )
        except _Typing as typing:
            # Let go and come back: the newest message's task answers the whole burst.
            lock.release()
            return Handled(
                "deferred",
                reason="the customer is still typing",
                recheck=typing.newest,
                delay=typing.delay,
            )
        taken_over, first = (None if first is None else first.taken_over), None
        if batch:
            own = batch[-1].message_id == message.message_id
            try:
                handled = _answer(
                    runtime,
                    batch,
                    lock,
                    from_mailbox=from_mailbox,
                    folds=folds,
                    draft=opening.draft if own else None,
                    draft_read=own,
                    taken_over=taken_over,
                )
            except _Folded:
                folds += 1
                continue
            except _LockLost:
                log.warning("conversation taken over or mid-post elsewhere; rechecked later")
                lock.release()  # a no-op when the lock is another worker's now
                return mine or Handled("busy", reason="the conversation lock was lost")
            folds = 0
            if any(m.message_id == message.message_id for m in batch):
                mine = handled
        # Normally the turn's closing round trip let go already (the mailbox was empty).
        if lock.released or lock.release_if_drained(mailbox_key):
            break
    return mine or Handled("duplicate", reason="answered with its burst by an earlier turn")


def _next_burst(
    runtime: WorkerRuntime,
    message: InboundMessage,
    include_own: bool,
    *,
    opened: Sequence[InboundMessage] | None = None,
) -> tuple[list[InboundMessage], bool]:
    """The messages to answer in one turn and whether they came from the mailbox; no
    messages when it is empty. Raises _Typing while the customer may still be typing.

    `opened`: the mailbox as read when the lock was taken (the first burst), whose
    script also found the task's own reply not posted.

    A message missing from the mailbox (queued by an older receiver, or a mailbox
    lost with Redis) is answered on its own, as before mailboxes existed.
    """
    account, conversation = message.account_id, message.conversation_id
    pending = runtime.mailbox.pending(account, conversation) if opened is None else list(opened)
    if include_own and not any(m.message_id == message.message_id for m in pending):
        posted = opened is None and runtime.replies.state(account, message.message_id)[0]
        if not posted:
            return [message], False
    if not pending:
        return [], True
    domain = _domain(runtime, pending[0])
    settings = domain.spec.conversation
    burst = _leading(pending, settings.max_burst_messages)
    window = runtime.settings.burst_window_seconds
    wait = quiet_in(
        burst,
        time.time(),
        window=settings.burst_window_seconds if window is None else window,
        cap_seconds=settings.max_burst_seconds,
        max_messages=settings.max_burst_messages,
    )
    if wait > 0:
        raise _Typing(burst[-1], wait)
    return burst, True


def _leading(pending: list[InboundMessage], limit: int) -> list[InboundMessage]:
    """The oldest messages of one domain, at most `limit`: after a domain switch the
    burst stops where the new domain's messages start."""
    burst: list[InboundMessage] = []
    for message in pending[:limit]:
        if message.domain != pending[0].domain:
            break
        burst.append(message)
    return burst


def _answer(
    runtime: WorkerRuntime,
    burst: list[InboundMessage],
    lock: ConversationLock,
    *,
    from_mailbox: bool,
    folds: int,
    draft: Draft | None = None,
    draft_read: bool = False,
    taken_over: bool | None = None,
) -> Handled:
    """One turn for a burst: decide, post, and take the burst out of the mailbox.

    `draft`: the burst's saved draft, when the caller already read it (`draft_read`);
    `taken_over`: the takeover mark, when the caller read it with the lock.
    """
    last = burst[-1]
    account, conversation = last.account_id, last.conversation_id
    domain = _domain(runtime, last)
    if taken_over is None:
        taken_over = runtime.takeover.active(account, conversation)
    if taken_over:
        _done(runtime, burst, from_mailbox, lock)
        return Handled("silent", reason="a human agent has taken over", messages=len(burst))
    text = "\n".join(m.text for m in burst if m.text)
    route: str | None = None
    usage: dict[str, Any] = {}
    fold_above: int | None = None
    if not draft_read:
        _posted, draft = runtime.replies.state(account, last.message_id)
    if draft is None:  # the first attempt: a retry carries out a saved draft
        now = time.time()
        for message in burst:
            runtime.telemetry.observe(
                "queue_wait_seconds", domain.id, max(0.0, now - message.received_at)
            )
        # Only a short yes can accept the bot's offer of a person: read the count then.
        offered = accepts_offer(text) and runtime.misses.count(account, conversation) > 0
        decision = decide(domain, text, human_offered=offered)
        if decision is not None:
            draft = Draft(
                decision.reply,
                handoff_reason=decision.reason,
                urgent=decision.urgent,
                kind=decision.kind,
            )
        else:
            draft, route, usage = _run_turn(runtime, domain, burst, text)
            if from_mailbox and folds < MAX_FOLDS and _may_fold(domain, burst, draft):
                if _is_miss(domain, draft):  # look now: a turn answered again is no miss
                    _fold_if_newer(runtime, burst)
                else:  # looked at with the claim, in the same round trip
                    fold_above = len(burst)
            draft = _after_a_miss(runtime, domain, last, draft)
        if draft.handoff_reason is not None:  # several calls to come: keep the decision
            runtime.replies.save_draft(account, last.message_id, draft)
    if draft.handoff_reason is not None:
        if not lock.held:
            raise _LockLost
        handled = hand_off(runtime, domain, last, draft)
        _record(runtime, domain, burst, draft, route, usage)
        _done(runtime, burst, from_mailbox, lock)
        return Handled(handled.status, reason=handled.reason, messages=len(burst))
    passage = runtime.gate.before_post(lock, last, fold_above=fold_above)
    if passage == "newer":
        raise _folded()
    if passage in ("lost", "in_progress"):  # or a worker that died mid-post < 60 s ago
        raise _LockLost
    if passage == "posted":
        _done(runtime, burst, from_mailbox, lock)
        return Handled("duplicate", reason="reply already posted", messages=len(burst))
    if passage == "taken_over":
        _done(runtime, burst, from_mailbox, lock)
        return Handled(
            "silent", reason="a human agent took over while the crew ran", messages=len(burst)
        )
    try:
        _post(runtime, domain, last, draft)
    except ChatwootAPIError:
        # The retry posts this same text instead of running the crew again.
        runtime.replies.save_draft(account, last.message_id, draft)
        runtime.replies.release(account, last.message_id)
        raise
    _replied(runtime, domain, last, "answer")
    _record(runtime, domain, burst, draft, route, usage)
    _done(
        runtime,
        burst,
        from_mailbox,
        lock,
        reset_misses=draft.text.strip() != domain.spec.messages.unknown,
    )
    return Handled("replied", route=route, messages=len(burst))


def _post(runtime: WorkerRuntime, domain: Domain, last: InboundMessage, draft: Draft) -> None:
    """Post the reply, in the parts the domain's plugins cut it into (WhatsApp length).

    Parts already posted are recorded one by one, so a retry after a Chatwoot failure
    posts the rest, never a part twice (the draft, hence the cut, is the same).
    """
    account, conversation = last.account_id, last.conversation_id
    token = domain.chatwoot_token(runtime.settings)
    parts = runtime.factory.plugins.reply_parts(domain, draft.text, channel=last.channel)
    if len(parts) == 1 and not draft.urgent:
        runtime.replies.send(runtime.chatwoot, last, parts[0], token=token)
        return
    steps: list[tuple[str, Callable[[], Any]]] = [
        (
            f"part-{number}-of-{len(parts)}",
            partial(runtime.replies.send, runtime.chatwoot, last, part, token=token),
        )
        for number, part in enumerate(parts, start=1)
    ]
    if draft.urgent:  # a plugin flagged it (very negative sentiment): humans should see it
        steps.append(
            (
                "priority",
                lambda: runtime.chatwoot.toggle_priority(
                    account, conversation, "urgent", token=token
                ),
            )
        )
    for step, call in steps:
        if not runtime.replies.step_done(account, last.message_id, step):
            call()
            runtime.replies.mark_step(account, last.message_id, step)


def _may_fold(domain: Domain, burst: list[InboundMessage], draft: Draft) -> bool:
    """Whether newer messages would send this turn back to the crew: a reply (a handoff
    goes ahead) of a burst with room for more."""
    return draft.handoff_reason is None and len(burst) < domain.spec.conversation.max_burst_messages


def _fold_if_newer(runtime: WorkerRuntime, burst: list[InboundMessage]) -> None:
    """Raise _Folded when the customer wrote while the crew ran."""
    last = burst[-1]
    if runtime.mailbox.size(last.account_id, last.conversation_id) <= len(burst):
        return
    raise _folded()


def _folded() -> _Folded:
    log.info("customer wrote while the crew ran; answering again with the new messages")
    return _Folded()


def _is_miss(domain: Domain, draft: Draft) -> bool:
    """The reply is the domain's "I don't know"."""
    return draft.handoff_reason is None and draft.text.strip() == domain.spec.messages.unknown


def _after_a_miss(
    runtime: WorkerRuntime, domain: Domain, last: InboundMessage, draft: Draft
) -> Draft:
    """Count a reply that is the domain's "I don't know"; at `handoff.max_failures`
    in a row, a person takes over instead of the bot saying it once more."""
    if not _is_miss(domain, draft):
        return draft
    misses = runtime.misses.add(last.account_id, last.conversation_id)
    if misses < domain.spec.handoff.max_failures:
        return draft
    return Draft(
        handoff_message(domain),
        handoff_reason=f"{UNANSWERED_REASON} {misses} vezes seguidas",
        kind="unanswered",
    )


def _done(
    runtime: WorkerRuntime,
    burst: list[InboundMessage],
    from_mailbox: bool,
    lock: ConversationLock,
    *,
    reset_misses: bool = False,
) -> None:
    """The burst is answered: every message's reply record says so; the mailbox drops it
    (and, for a real answer, the conversation's count of misses); the lock goes if
    nothing else waits. One round trip, the turn's last: its record is in the store
    already, so the next turn, whoever takes it, has it in its history."""
    last = burst[-1]
    runtime.gate.close(
        lock,
        burst,
        trim=len(burst) if from_mailbox else 0,
        forget=[runtime.misses.key(last.account_id, last.conversation_id)] if reset_misses else [],
    )


def _replied(runtime: WorkerRuntime, domain: Domain, message: InboundMessage, kind: str) -> None:
    """Count a customer-facing message that reached Chatwoot, and how long it took."""
    runtime.telemetry.count("replies", domain.id, kind)
    runtime.telemetry.observe(
        "reply_seconds", domain.id, max(0.0, time.time() - message.received_at)
    )


def handoff_kind(reason: str) -> str:
    """The `reason` label of a handoff: rule, customer_asked, failure or crew."""
    return next((kind for prefix, kind in HANDOFF_KINDS if reason.startswith(prefix)), "crew")


def failure_kind(error: BaseException) -> str:
    """The `reason` label of a crew failure: model_timeout, model_error or crew_error.

    CrewAI wraps provider errors (openai.APITimeoutError inside a ConnectionError,
    httpx.ReadTimeout under that), so the whole cause chain is searched for a timeout.
    """
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        if isinstance(link, TimeoutError | ModelTimeoutError) or "Timeout" in type(link).__name__:
            return "model_timeout"
        link = link.__cause__ or link.__context__
    if isinstance(error, ChatwootAIError) and not isinstance(error, ModelError):
        return "crew_error"
    return "model_error"


def _domain(runtime: WorkerRuntime, message: InboundMessage) -> Domain:
    try:
        return runtime.registry.get(message.domain)
    except DomainNotFoundError:
        log.warning("domain gone since queued; using the default", domain=message.domain)
        return runtime.registry.get("default")


def _history(
    runtime: WorkerRuntime, domain: Domain, message: InboundMessage
) -> tuple[tuple[tuple[str, str], ...], str | None]:
    """The conversation's last turns for the prompt and the last turn's route; none if
    the store is unavailable."""
    try:
        with connection_scope(runtime.factory.engine, read_only=True) as connection:
            turns, route = recent(
                connection,
                domain.id,
                message.account_id,
                message.conversation_id,
                turns=domain.spec.conversation.history_turns,
            )
            return tuple(turns), route
    except SQLAlchemyError as error:
        log.warning("conversation history unavailable", error=str(error)[:200])
        return (), None


def _record(
    runtime: WorkerRuntime,
    domain: Domain,
    burst: list[InboundMessage],
    draft: Draft,
    route: str | None,
    usage: dict[str, Any],
) -> None:
    """Keep the turn for the next prompt's history; a store outage never blocks a reply.

    A burst is one turn, filed under its last message, with the customer's texts joined.
    It runs after the post and before the turn is closed (confirmed, out of the
    mailbox): whatever goes wrong here is logged, never raised, or the posted reply
    would stay unconfirmed and its burst be answered again.
    """
    try:
        last = burst[-1]
        record = TurnRecord(
            domain=domain.id,
            account_id=last.account_id,
            conversation_id=last.conversation_id,
            message_id=last.message_id,
            customer_text="\n".join(m.text for m in burst),
            reply_text=draft.text,
            route=route if draft.handoff_reason is None else "handoff",
            latency_ms=int((time.time() - last.received_at) * 1000),
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            cost_usd=turn_cost(domain, runtime.settings, usage) if usage else None,
        )
        with connection_scope(runtime.factory.engine) as connection:
            record_turn(connection, record)
    except SQLAlchemyError as error:
        log.warning("turn not recorded", error=str(error)[:200])
    except Exception:
        log.exception("turn not recorded")


def _run_turn(
    runtime: WorkerRuntime, domain: Domain, burst: list[InboundMessage], text: str
) -> tuple[Draft, str | None, dict[str, Any]]:
    """The crew's decision; any failure of model, tool or CrewAI becomes a handoff."""
    message = burst[-1]
    history, previous_route = _history(runtime, domain, message)
    turn = Turn(
        message=text,
        history=history,
        previous_route=previous_route,
        customer_name=message.contact_name or "",
        channel=message.channel or "",
        account_id=message.account_id,
        conversation_id=message.conversation_id,
    )
    try:
        result = runtime.factory.hub(domain.id).run(turn)
    except Exception as error:  # the crew's boundary: model, tool and CrewAI errors
        log.exception("crew failed; handing off", domain=domain.id)
        runtime.telemetry.count("failures", domain.id, failure_kind(error))
        reason = f"{FAILURE_REASON}: {type(error).__name__}: {str(error)[:300]}"
        fallback = Draft(domain.spec.messages.fallback, handoff_reason=reason, kind="failure")
        return fallback, None, {}
    runtime.telemetry.observe("crew_seconds", domain.id, result.crew_seconds)
    if result.tool_failures:  # the reply may lack (or invent) what the tool could not get
        log.error("tool failed; handing off", failures=list(result.tool_failures))
        runtime.telemetry.count("failures", domain.id, "tool_error")
        reason = f"{FAILURE_REASON}: ferramenta indisponível: {'; '.join(result.tool_failures)}"
        fallback = Draft(domain.spec.messages.fallback, handoff_reason=reason, kind="failure")
        return fallback, result.route, result.usage
    for kind in ("prompt", "completion"):
        tokens = int(result.usage.get(f"{kind}_tokens") or 0)
        if tokens:
            runtime.telemetry.count("model_tokens", domain.id, kind, tokens)
    log.info(
        "crew answered",
        route=result.route,
        routed_by=result.routed_by,
        crew_seconds=round(result.crew_seconds, 3),
        queue_seconds=round(time.time() - message.received_at, 3),
        tools=list(result.tool_calls),
        tokens=result.usage.get("total_tokens"),
    )
    draft = Draft(
        result.reply,
        handoff_reason=result.handoff_reason,
        urgent=result.urgent,
        kind=None
        if result.handoff_reason is None
        else ("plugin" if result.routed_by == "plugin" else "crew"),
    )
    return draft, result.route, result.usage


def hand_off(
    runtime: WorkerRuntime, domain: Domain, message: InboundMessage, draft: Draft
) -> Handled:
    """Tell the customer, leave a private note with the reason, open the conversation."""
    account, conversation = message.account_id, message.conversation_id
    token = domain.chatwoot_token(runtime.settings)
    client = runtime.chatwoot
    reason = draft.handoff_reason or ""
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("reply", lambda: runtime.replies.send(client, message, draft.text, token=token)),
        (
            "note",
            lambda: runtime.replies.send(
                client,
                message,
                f"ChatwootAI transferiu a conversa para a equipe. Motivo: {reason}",
                token=token,
                private=True,
            ),
        ),
        ("open", lambda: client.toggle_status(account, conversation, "open", token=token)),
    ]
    if draft.urgent:
        steps.append(
            (
                "priority",
                lambda: client.toggle_priority(account, conversation, "urgent", token=token),
            )
        )
    handoff = domain.spec.handoff
    if handoff.assignee_id or handoff.team_id:
        steps.append(
            (
                "assign",
                lambda: client.assign(
                    account,
                    conversation,
                    token=token,
                    assignee_id=handoff.assignee_id,
                    team_id=handoff.team_id,
                ),
            )
        )
    if handoff.labels:
        steps.append(
            (
                "labels",
                lambda: client.add_labels(account, conversation, handoff.labels, token=token),
            )
        )
    for name, call in steps:
        if not runtime.replies.step_done(account, message.message_id, name):
            call()  # ChatwootAPIError propagates: the task retries from this step
            runtime.replies.mark_step(account, message.message_id, name)
            if name == "reply":
                _replied(runtime, domain, message, "handoff")
    runtime.takeover.mark(account, conversation, reason)
    runtime.telemetry.count("handoffs", domain.id, draft.kind or handoff_kind(reason))
    runtime.factory.plugins.handed_off(
        domain, account_id=account, conversation_id=conversation, reason=reason
    )
    return Handled("handed_off", reason=reason)

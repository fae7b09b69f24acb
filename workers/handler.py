"""One customer message, from the queue to Chatwoot: the worker's whole job.

    reply already posted? → done (a redelivery)
    human took over?      → stay silent
    domain rule / asks for a person → handoff, no model call
    HubCrew(domain).run   → reply, route (or the crew asks for a human)
       fails              → the domain's fallback message + handoff to a human
    claim the reply record → post → confirm the record

What the turn decided is saved as a draft when Chatwoot fails (and before a
handoff's several calls), so a retry carries out the same decision without
running the crew again. A handoff is several calls (reply, private note, status, labels);
each is recorded when done, so a retry resumes where it stopped instead of
repeating the customer-facing message.

Metrics (`hub.telemetry`) are recorded where each thing happens and reach Redis
in the task's one batched round trip: replies and handoffs once, when Chatwoot
took them; failures per attempt, by reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import redis
import structlog
from sqlalchemy.exc import SQLAlchemyError

from hub.conversation.handoff import decide
from hub.conversation.inbound import InboundMessage
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
from hub.store.conversations import TurnRecord, history, record_turn
from hub.store.database import session_scope
from workers.runtime import WorkerRuntime

log = structlog.get_logger(__name__)

Status = Literal["replied", "handed_off", "duplicate", "silent", "in_progress"]

FAILURE_REASON = "falha ao gerar resposta"
"""How a handoff caused by a crew failure starts its reason (and how metrics know it)."""
HANDOFF_KINDS = (
    ("regra ", "rule"),  # hub.conversation.handoff.decide: a domain rule
    ("o cliente pediu atendimento humano", "customer_asked"),  # ...: a handoff keyword
    (FAILURE_REASON, "failure"),
)
"""Reason prefixes → the `reason` label of `chatwootai_handoffs_total`; any other is `crew`.
The reason is all a saved draft keeps, so a retried handoff is counted by it too."""


@dataclass(frozen=True)
class Handled:
    """What became of one message."""

    status: Status
    route: str | None = None
    reason: str = ""


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
    account, conversation = message.account_id, message.conversation_id
    posted, draft = runtime.replies.state(account, message.message_id)
    if posted:
        return Handled("duplicate", reason="reply already posted")
    if runtime.takeover.active(account, conversation):
        return Handled("silent", reason="a human agent has taken over")
    domain = _domain(runtime, message)
    route: str | None = None
    usage: dict[str, Any] = {}
    if draft is None:  # the first attempt: a retry carries out a saved draft
        runtime.telemetry.observe(
            "queue_wait_seconds", domain.id, max(0.0, time.time() - message.received_at)
        )
        decision = decide(domain, message.text)
        if decision is not None:
            draft = Draft(decision.reply, handoff_reason=decision.reason, urgent=decision.urgent)
        else:
            draft, route, usage = _run_turn(runtime, domain, message)
        if draft.handoff_reason is not None:  # several calls to come: keep the decision
            runtime.replies.save_draft(account, message.message_id, draft)
    if draft.handoff_reason is not None:
        handled = hand_off(runtime, domain, message, draft)
        _record(runtime, domain, message, draft, route, usage)
        return handled
    claim = runtime.replies.claim(account, message.message_id)
    if claim == "posted":
        return Handled("duplicate", reason="reply already posted")
    if claim == "in_progress":
        return Handled("in_progress", reason="another worker is posting this reply")
    if runtime.takeover.active(account, conversation):
        runtime.replies.release(account, message.message_id)
        return Handled("silent", reason="a human agent took over while the crew ran")
    try:
        runtime.chatwoot.send_message(
            account, conversation, draft.text, token=domain.chatwoot_token(runtime.settings)
        )
    except ChatwootAPIError:
        # The retry posts this same text instead of running the crew again.
        runtime.replies.save_draft(account, message.message_id, draft)
        runtime.replies.release(account, message.message_id)
        raise
    runtime.replies.confirm(account, message.message_id)
    _replied(runtime, domain, message, "answer")
    _record(runtime, domain, message, draft, route, usage)
    return Handled("replied", route=route)


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
) -> tuple[tuple[str, str], ...]:
    """The conversation's last turns for the prompt; none if the store is unavailable."""
    try:
        with session_scope(runtime.factory.engine) as session:
            return tuple(
                history(
                    session,
                    domain.id,
                    message.account_id,
                    message.conversation_id,
                    turns=domain.spec.conversation.history_turns,
                )
            )
    except SQLAlchemyError as error:
        log.warning("conversation history unavailable", error=str(error)[:200])
        return ()


def _record(
    runtime: WorkerRuntime,
    domain: Domain,
    message: InboundMessage,
    draft: Draft,
    route: str | None,
    usage: dict[str, Any],
) -> None:
    """Keep the turn for the next prompt's history; a store outage never blocks a reply."""
    record = TurnRecord(
        domain=domain.id,
        account_id=message.account_id,
        conversation_id=message.conversation_id,
        message_id=message.message_id,
        customer_text=message.text,
        reply_text=draft.text,
        route=route if draft.handoff_reason is None else "handoff",
        latency_ms=int((time.time() - message.received_at) * 1000),
        prompt_tokens=usage.get("prompt_tokens"),
        completion_tokens=usage.get("completion_tokens"),
        cost_usd=turn_cost(domain, runtime.settings, usage) if usage else None,
    )
    try:
        with session_scope(runtime.factory.engine) as session:
            record_turn(session, record)
    except SQLAlchemyError as error:
        log.warning("turn not recorded", error=str(error)[:200])


def _run_turn(
    runtime: WorkerRuntime, domain: Domain, message: InboundMessage
) -> tuple[Draft, str | None, dict[str, Any]]:
    """The crew's decision; any failure of model, tool or CrewAI becomes a handoff."""
    turn = Turn(
        message=message.text,
        history=_history(runtime, domain, message),
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
        return Draft(domain.spec.messages.fallback, handoff_reason=reason), None, {}
    runtime.telemetry.observe("crew_seconds", domain.id, result.crew_seconds)
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
    return Draft(result.reply, handoff_reason=result.handoff_reason), result.route, result.usage


def hand_off(
    runtime: WorkerRuntime, domain: Domain, message: InboundMessage, draft: Draft
) -> Handled:
    """Tell the customer, leave a private note with the reason, open the conversation."""
    account, conversation = message.account_id, message.conversation_id
    token = domain.chatwoot_token(runtime.settings)
    client = runtime.chatwoot
    reason = draft.handoff_reason or ""
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("reply", lambda: client.send_message(account, conversation, draft.text, token=token)),
        (
            "note",
            lambda: client.send_message(
                account,
                conversation,
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
    runtime.replies.confirm(account, message.message_id)
    runtime.takeover.mark(account, conversation, reason)
    runtime.telemetry.count("handoffs", domain.id, handoff_kind(reason))
    return Handled("handed_off", reason=reason)

"""One customer message, from the queue to Chatwoot: the worker's whole job.

    reply already posted? → done (a redelivery)
    human took over?      → stay silent
    HubCrew(domain).run   → reply, route
       fails              → the domain's fallback message + handoff to a human
    claim the reply record → post the reply → confirm the record

Chatwoot errors propagate as ChatwootAPIError for the task to retry; the crew's
reply is kept as a draft so a retry posts the same text without running the
crew again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import structlog

from hub.conversation.inbound import InboundMessage
from hub.crews.hub_crew import HubResult, Turn
from hub.exceptions import ChatwootAPIError, DomainNotFoundError
from workers.runtime import WorkerRuntime

log = structlog.get_logger(__name__)

Status = Literal["replied", "handed_off", "duplicate", "silent", "in_progress"]


@dataclass(frozen=True)
class Handled:
    """What became of one message."""

    status: Status
    route: str | None = None
    reason: str = ""


def handle(runtime: WorkerRuntime, message: InboundMessage) -> Handled:
    """Answer one message; raises ChatwootAPIError when Chatwoot could not be reached."""
    account, conversation = message.account_id, message.conversation_id
    if runtime.replies.posted(account, message.message_id):
        return Handled("duplicate", reason="reply already posted")
    if runtime.takeover.active(account, conversation):
        return Handled("silent", reason="a human agent has taken over")
    try:
        domain = runtime.registry.get(message.domain)
    except DomainNotFoundError:
        log.warning("domain gone since queued; using the default", domain=message.domain)
        domain = runtime.registry.get("default")
    draft = runtime.replies.draft(account, message.message_id)
    result: HubResult | None = None
    if draft is None:
        try:
            result = runtime.factory.hub(domain.id).run(
                Turn(
                    message=message.text,
                    customer_name=message.contact_name or "",
                    channel=message.channel or "",
                    account_id=account,
                    conversation_id=conversation,
                )
            )
        except Exception as error:  # the crew's boundary: model, tool and CrewAI errors
            log.exception("crew failed; handing off", domain=domain.id)
            return hand_off(
                runtime,
                message,
                domain.spec.messages.fallback,
                reason=f"falha ao gerar resposta: {type(error).__name__}: {error}",
            )
        if result.handoff_reason:
            return hand_off(runtime, message, result.reply, reason=result.handoff_reason)
        draft = result.reply
        runtime.replies.save_draft(account, message.message_id, draft)
        log.info(
            "crew answered",
            route=result.route,
            routed_by=result.routed_by,
            crew_seconds=round(result.crew_seconds, 3),
            queue_seconds=round(time.time() - message.received_at, 3),
        )
    claim = runtime.replies.claim(account, message.message_id)
    if claim == "posted":
        return Handled("duplicate", reason="reply already posted")
    if claim == "in_progress":
        return Handled("in_progress", reason="another worker is posting this reply")
    if runtime.takeover.active(account, conversation):
        runtime.replies.release(account, message.message_id)
        return Handled("silent", reason="a human agent took over while the crew ran")
    token = domain.chatwoot_token(runtime.settings)
    try:
        runtime.chatwoot.send_message(account, conversation, draft, token=token)
    except ChatwootAPIError:
        runtime.replies.release(account, message.message_id)
        raise
    runtime.replies.confirm(account, message.message_id)
    return Handled("replied", route=result.route if result else None)


def hand_off(
    runtime: WorkerRuntime, message: InboundMessage, customer_text: str, *, reason: str
) -> Handled:
    """Tell the customer, leave a private note with the reason, open the conversation."""
    account, conversation = message.account_id, message.conversation_id
    domain = runtime.registry.domains.get(message.domain) or runtime.registry.get("default")
    token = domain.chatwoot_token(runtime.settings)
    claim = runtime.replies.claim(account, message.message_id)
    if claim == "posted":
        return Handled("duplicate", reason="reply already posted")
    try:
        runtime.chatwoot.send_message(account, conversation, customer_text, token=token)
        runtime.chatwoot.send_message(
            account,
            conversation,
            f"ChatwootAI transferiu a conversa para a equipe. Motivo: {reason}",
            token=token,
            private=True,
        )
        runtime.chatwoot.toggle_status(account, conversation, "open", token=token)
        labels = domain.spec.handoff.labels
        if labels:
            runtime.chatwoot.add_labels(account, conversation, labels, token=token)
    except ChatwootAPIError:
        runtime.replies.release(account, message.message_id)
        raise
    runtime.replies.confirm(account, message.message_id)
    runtime.takeover.mark(account, conversation, reason)
    return Handled("handed_off", reason=reason)

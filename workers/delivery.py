"""What Chatwoot is asked to do for a decision: a reply (in parts), or a handoff's calls.

Each customer-facing action of several calls runs through the reply ledger's
steps (`ReplyLedger.carry_out`): a call is recorded when Chatwoot took it, so a
retry after a Chatwoot failure resumes where it stopped instead of repeating
what the customer already read.

Every call carries the token of the conversation's Chatwoot account
(`DomainRegistry.chatwoot_token`), whichever domain answers: a bot token works
only in its own account. A handoff's extras (priority, assignment, labels) that
Chatwoot refuses for good are reported (an ERROR line and a private note) and do
not stop the handoff (the conversation is open to humans all the same), nor
does an urgent reply's priority call undo the reply the customer has read.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import structlog

from hub.conversation.inbound import InboundMessage
from hub.conversation.replies import Step
from hub.domains.domain import Domain
from hub.exceptions import ChatwootAPIError
from hub.turn import Draft
from workers.runtime import WorkerRuntime

log = structlog.get_logger(__name__)

HANDOFF_NOTE = "ChatwootAI transferiu a conversa para a equipe. Motivo: {reason}"
"""The private note a handoff leaves for the team."""

REFUSED_NOTE = "ChatwootAI não conseguiu {what}: o Chatwoot respondeu HTTP {status}."
"""The private note left when Chatwoot refuses a handoff's extra call."""

LABELS_UNKNOWN_NOTE = (
    "ChatwootAI não aplicou as etiquetas {labels}: as etiquetas atuais da conversa não "
    "eram conhecidas e gravá-las apagaria as outras. Adicione-as manualmente."
)
"""The private note left when the conversation's labels were not in the webhook."""

REFUSAL_HINTS = {
    401: "the token is not a bot token of this Chatwoot account",
    403: "the token may not call this endpoint",
    404: "Chatwoot has no such conversation, agent or team in this account",
}
"""What a final refusal most likely means, for the operator's log line."""


def post_reply(runtime: WorkerRuntime, domain: Domain, last: InboundMessage, draft: Draft) -> None:
    """Post the reply, in the parts the domain's plugins cut it into (WhatsApp length).

    A reply of one part is one call, covered by the reply record's claim; parts and
    the urgent flag are steps (the draft, hence the cut, is the same on a retry).
    """
    account, conversation = last.account_id, last.conversation_id
    token = runtime.registry.chatwoot_token(account, runtime.settings)
    client = runtime.chatwoot
    parts = runtime.factory.plugins.reply_parts(domain, draft.text, channel=last.channel)
    if len(parts) == 1 and not draft.urgent:
        runtime.replies.send(client, last, parts[0], token=token)
        return
    steps: list[Step] = [
        (
            f"part-{number}-of-{len(parts)}",
            partial(runtime.replies.send, client, last, part, token=token),
        )
        for number, part in enumerate(parts, start=1)
    ]
    if draft.urgent:  # a plugin flagged it (very negative sentiment): humans should see it
        steps.append(
            (
                "priority",
                _extra(
                    runtime,
                    last,
                    token,
                    "marcar a conversa como urgente",
                    partial(client.toggle_priority, account, conversation, "urgent", token=token),
                ),
            )
        )
    runtime.replies.carry_out(account, last.message_id, steps)


def hand_off(runtime: WorkerRuntime, domain: Domain, message: InboundMessage, draft: Draft) -> None:
    """Tell the customer, leave a private note with the reason, open the conversation
    (raise its priority, assign it, label it, as the domain says), then mark it taken
    over: the bot stays silent from now on."""
    account, conversation = message.account_id, message.conversation_id
    token = runtime.registry.chatwoot_token(account, runtime.settings)
    client = runtime.chatwoot
    reason = draft.handoff_reason or ""
    note = HANDOFF_NOTE.format(reason=reason)
    steps: list[Step] = [
        ("reply", partial(runtime.replies.send, client, message, draft.text, token=token)),
        ("note", partial(runtime.replies.send, client, message, note, token=token, private=True)),
        ("open", partial(client.toggle_status, account, conversation, "open", token=token)),
    ]
    extra = partial(_extra, runtime, message, token)
    if draft.urgent:
        steps.append(
            (
                "priority",
                extra(
                    "marcar a conversa como urgente",
                    partial(client.toggle_priority, account, conversation, "urgent", token=token),
                ),
            )
        )
    handoff = domain.spec.handoff
    home = domain.spec.chatwoot.account_id
    if (handoff.assignee_id or handoff.team_id) and home not in (None, account):
        # Agent and team ids are an account's own: a domain switched into a conversation
        # of another account cannot assign its people there.
        log.warning(
            "handoff assignment skipped: the domain's agent/team belong to another account",
            domain=domain.id,
            domain_account_id=home,
            account_id=account,
            conversation_id=conversation,
        )
    elif handoff.assignee_id or handoff.team_id:
        steps.append(
            (
                "assign",
                extra(
                    "atribuir a conversa",
                    partial(
                        client.assign,
                        account,
                        conversation,
                        token=token,
                        assignee_id=handoff.assignee_id,
                        team_id=handoff.team_id,
                    ),
                ),
            )
        )
    if handoff.labels:
        steps.append(("labels", _labels_step(runtime, message, handoff.labels, token, extra)))
    # The notice counts as delivered once Chatwoot took it, whatever a later step does.
    if runtime.replies.carry_out(account, message.message_id, steps[:1]):
        runtime.middleware.replied(domain, message, "handoff")
    runtime.replies.carry_out(account, message.message_id, steps[1:])
    runtime.takeover.mark(account, conversation, reason)
    runtime.middleware.handed_off(domain, message, draft)


def _labels_step(
    runtime: WorkerRuntime,
    message: InboundMessage,
    labels: list[str],
    token: str | None,
    extra: Callable[[str, Callable[[], object]], Callable[[], None]],
) -> Callable[[], object]:
    """Add the handoff's labels to the conversation's: Chatwoot's labels endpoint
    replaces the whole list, so the labels the webhook carried are sent too. A bot
    token cannot read a conversation, so when the webhook did not carry them nothing
    is written (it would wipe the others) and a private note names the labels."""
    account, conversation = message.account_id, message.conversation_id
    if message.labels is None:
        text = LABELS_UNKNOWN_NOTE.format(labels=", ".join(labels))
        log.warning(
            "handoff labels not written: the conversation's labels are unknown",
            account_id=account,
            conversation_id=conversation,
        )
        return partial(
            runtime.replies.send, runtime.chatwoot, message, text, token=token, private=True
        )
    merged = list(dict.fromkeys([*message.labels, *labels]))
    return extra(
        "etiquetar a conversa",
        partial(runtime.chatwoot.add_labels, account, conversation, merged, token=token),
    )


def _extra(
    runtime: WorkerRuntime,
    message: InboundMessage,
    token: str | None,
    what: str,
    call: Callable[[], object],
) -> Callable[[], None]:
    """A handoff call the handoff does not depend on: a final refusal is reported (log
    and private note) instead of stopping the handoff; transient failures propagate
    (the task's retry resumes at this step)."""

    def run() -> None:
        try:
            call()
        except ChatwootAPIError as error:
            if error.retryable:
                raise
            report_refusal(message, error)
            text = REFUSED_NOTE.format(what=what, status=error.status or "?")
            try:
                runtime.replies.send(runtime.chatwoot, message, text, token=token, private=True)
            except ChatwootAPIError as failure:
                log.error("could not leave the private note", error=str(failure))

    return run


def report_refusal(message: InboundMessage, error: ChatwootAPIError) -> None:
    """The operator's line for a call Chatwoot refused for good: ERROR, with the ids,
    the call, the status and what it most likely means; never the token."""
    log.error(
        "chatwoot refused the bot's call",
        domain=message.domain,
        account_id=message.account_id,
        conversation_id=message.conversation_id,
        message_id=message.message_id,
        call=error.call,
        status=error.status,
        hint=REFUSAL_HINTS.get(error.status or 0, "a final client error"),
        error=str(error),
    )

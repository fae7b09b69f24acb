"""What Chatwoot is asked to do for a decision: a reply (in parts), or a handoff's calls.

Each customer-facing action of several calls runs through the reply ledger's
steps (`ReplyLedger.carry_out`): a call is recorded when Chatwoot took it, so a
retry after a Chatwoot failure resumes where it stopped instead of repeating
what the customer already read.
"""

from __future__ import annotations

from functools import partial

from hub.conversation.inbound import InboundMessage
from hub.conversation.replies import Step
from hub.domains.domain import Domain
from hub.turn import Draft
from workers.runtime import WorkerRuntime

HANDOFF_NOTE = "ChatwootAI transferiu a conversa para a equipe. Motivo: {reason}"
"""The private note a handoff leaves for the team."""


def post_reply(runtime: WorkerRuntime, domain: Domain, last: InboundMessage, draft: Draft) -> None:
    """Post the reply, in the parts the domain's plugins cut it into (WhatsApp length).

    A reply of one part is one call, covered by the reply record's claim; parts and
    the urgent flag are steps (the draft, hence the cut, is the same on a retry).
    """
    account, conversation = last.account_id, last.conversation_id
    token = domain.chatwoot_token(runtime.settings)
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
                partial(client.toggle_priority, account, conversation, "urgent", token=token),
            )
        )
    runtime.replies.carry_out(account, last.message_id, steps)


def hand_off(runtime: WorkerRuntime, domain: Domain, message: InboundMessage, draft: Draft) -> None:
    """Tell the customer, leave a private note with the reason, open the conversation
    (raise its priority, assign it, label it, as the domain says), then mark it taken
    over: the bot stays silent from now on."""
    account, conversation = message.account_id, message.conversation_id
    token = domain.chatwoot_token(runtime.settings)
    client = runtime.chatwoot
    reason = draft.handoff_reason or ""
    note = HANDOFF_NOTE.format(reason=reason)
    steps: list[Step] = [
        ("reply", partial(runtime.replies.send, client, message, draft.text, token=token)),
        ("note", partial(runtime.replies.send, client, message, note, token=token, private=True)),
        ("open", partial(client.toggle_status, account, conversation, "open", token=token)),
    ]
    if draft.urgent:
        steps.append(
            (
                "priority",
                partial(client.toggle_priority, account, conversation, "urgent", token=token),
            )
        )
    handoff = domain.spec.handoff
    if handoff.assignee_id or handoff.team_id:
        steps.append(
            (
                "assign",
                partial(
                    client.assign,
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
                partial(client.add_labels, account, conversation, handoff.labels, token=token),
            )
        )
    # The notice counts as delivered once Chatwoot took it, whatever a later step does.
    if runtime.replies.carry_out(account, message.message_id, steps[:1]):
        runtime.middleware.replied(domain, message, "handoff")
    runtime.replies.carry_out(account, message.message_id, steps[1:])
    runtime.takeover.mark(account, conversation, reason)
    runtime.middleware.handed_off(domain, message, draft)

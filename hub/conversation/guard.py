"""Which webhook events deserve an answer, and which change who owns a conversation.

Only a `message_created` that is incoming, public, from a contact, in a
`pending` conversation (or an `open` one Chatwoot assigned to the agent bot) is
answered: the bot owns pending conversations, humans own open ones, and an agent
bot also receives its own replies and private notes (answering those would loop
forever). The one `message_updated` that matters is Chatwoot's transcription of
a customer's voice note: the message waiting for it is answered with the words.
A human's public message means a human took over, as in Chatwoot's
`Message#human_response?`: an agent's, or one typed on the business phone's own
app (WhatsApp Business, Instagram, Facebook), which arrives outgoing with no
sender and `content_attributes.external_echo`. The conversation becoming
`pending` again (or being resolved, after which the next customer message starts
afresh) gives it back to the bot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hub.chatwoot.events import ConversationEvent, MessageEvent, WebhookEvent
from hub.conversation.media import has_transcript

Action = Literal["answer", "transcribed", "ignore", "human_took_over", "given_back"]


@dataclass(frozen=True)
class Verdict:
    """What to do with an event, why, and for which (account, conversation)."""

    action: Action
    reason: str
    conversation: tuple[int, int] | None = None


def judge(event: WebhookEvent) -> Verdict:
    """The receiver's filter, as one pure function."""
    if isinstance(event, MessageEvent):
        return _judge_message(event)
    if isinstance(event, ConversationEvent):
        return _judge_conversation(event)
    return Verdict("ignore", f"{event.event} events are not answered")


def _judge_message(event: MessageEvent) -> Verdict:
    conversation = (event.account_id, event.conversation_id)
    if event.event != "message_created":
        if _is_transcription(event):
            return Verdict("transcribed", "Chatwoot transcribed a voice note", conversation)
        return Verdict("ignore", f"{event.event} is never answered")
    if event.message_type != "incoming":
        if event.sender_kind == "user" and not event.private and not _automated(event):
            return Verdict(
                "human_took_over", "a human agent wrote in the conversation", conversation
            )
        if _external_echo(event):
            return Verdict(
                "human_took_over", "a human replied from the business phone's app", conversation
            )
        return Verdict("ignore", f"{event.message_type} message, not from the customer")
    if event.private:
        return Verdict("ignore", "private note")
    if event.sender_kind != "contact":
        return Verdict("ignore", f"sent by {event.sender_kind}, not by a contact")
    if event.conversation_status != "pending" and not _given_to_bot(event):
        return Verdict("ignore", f"conversation is {event.conversation_status}: a human owns it")
    if not (event.text or event.attachment_summary):
        return Verdict("ignore", "empty message")
    if event.conversation_status != "pending":
        return Verdict(
            "answer", "customer message in a conversation assigned to the bot", conversation
        )
    return Verdict("answer", "customer message in a pending conversation", conversation)


def _is_transcription(event: MessageEvent) -> bool:
    """A customer's voice note, now with Chatwoot's text, in a conversation the bot owns."""
    return (
        event.event == "message_updated"
        and event.message_type == "incoming"
        and not event.private
        and event.sender_kind == "contact"
        and (event.conversation_status == "pending" or _given_to_bot(event))
        and has_transcript(event)
    )


def _external_echo(event: MessageEvent) -> bool:
    """An outgoing message typed outside Chatwoot, on the WhatsApp Business (or
    Instagram, Facebook) app: no sender, `content_attributes.external_echo` set."""
    return (
        event.message_type == "outgoing"
        and not event.private
        and event.sender is None
        and bool(event.content_attributes.get("external_echo"))
        and not _automated(event)
    )


def _automated(event: MessageEvent) -> bool:
    """Sent by an automation rule or a campaign: `Message#human_response?` says no human."""
    return bool(
        event.content_attributes.get("automation_rule_id")
        or event.additional_attributes.get("campaign_id")
    )


def _given_to_bot(event: MessageEvent) -> bool:
    """An `open` conversation whose assignee is an agent bot: Chatwoot gave it to the bot
    (`assignee_agent_bot`), so the bot owns it as it owns pending ones."""
    assignee = event.conversation.meta.assignee or {}
    return event.conversation_status == "open" and assignee.get("type") == "agent_bot"


def _judge_conversation(event: ConversationEvent) -> Verdict:
    if event.account_id is None:
        return Verdict("ignore", f"{event.event} without an account")
    conversation = (event.account_id, event.conversation_id)
    if event.event == "conversation_resolved" or event.status_changed_to == "resolved":
        return Verdict("given_back", "conversation resolved", conversation)
    if event.status_changed_to == "pending":
        return Verdict("given_back", "conversation is pending again", conversation)
    return Verdict("ignore", f"{event.event} needs no answer")

"""The receiver's filter: only a contact's public message in a pending conversation is answered."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hub.chatwoot.events import parse_event
from hub.conversation.guard import judge
from tests.unit.chatwoot import payloads


def verdict_of(payload: dict[str, Any]) -> tuple[str, str]:
    verdict = judge(parse_event(payloads.body(payload)))
    return verdict.action, verdict.reason


def test_a_contact_message_in_a_pending_conversation_is_answered() -> None:
    assert verdict_of(payloads.contact_message())[0] == "answer"


def test_a_voice_note_with_no_text_is_answered_from_its_transcription() -> None:
    assert verdict_of(payloads.audio_message())[0] == "answer"


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (payloads.bot_reply, "outgoing"),
        (payloads.private_note, "outgoing"),
        (payloads.sender_null, "outgoing"),
        (payloads.message_updated, "never answered"),
        (lambda: payloads.message_created(status="open"), "a human owns it"),
        (lambda: payloads.message_created(status="resolved"), "a human owns it"),
        (lambda: payloads.message_created(private=True), "private note"),
        (lambda: payloads.message_created(sender=payloads.captain()), "captain_assistant"),
        (lambda: payloads.message_created(""), "empty message"),
        (payloads.webwidget_triggered, "not answered"),
    ],
)
def test_events_that_are_never_answered_say_why(
    make: Callable[[], dict[str, Any]], words: str
) -> None:
    action, reason = verdict_of(make())
    assert action == "ignore"
    assert words in reason


def test_a_human_agent_writing_means_a_human_took_over() -> None:
    verdict = judge(parse_event(payloads.body(payloads.agent_reply())))
    assert verdict.action == "human_took_over"
    assert verdict.conversation == (1, 42)


def test_the_conversation_becoming_pending_again_gives_it_back_to_the_bot() -> None:
    assert verdict_of(payloads.status_changed("open", "pending"))[0] == "given_back"
    assert verdict_of(payloads.status_changed("open", "resolved"))[0] == "given_back"
    assert verdict_of(payloads.status_changed("pending", "open"))[0] == "ignore"


def test_chatwoots_transcription_of_a_voice_note_is_taken_up() -> None:
    payload = payloads.audio_message()
    payload["event"] = "message_updated"
    verdict = judge(parse_event(payloads.body(payload)))
    assert verdict.action == "transcribed"
    assert verdict.conversation == (1, 42)


def test_a_message_update_without_a_transcription_is_still_ignored() -> None:
    payload = payloads.audio_message()
    payload["event"] = "message_updated"
    payload["attachments"][0]["transcribed_text"] = ""
    assert judge(parse_event(payloads.body(payload))).action == "ignore"


def test_a_transcription_in_a_conversation_a_human_owns_is_ignored() -> None:
    payload = payloads.audio_message()
    payload["event"] = "message_updated"
    payload["conversation"]["status"] = "open"
    assert judge(parse_event(payloads.body(payload))).action == "ignore"


def external_echo(**attributes: Any) -> dict[str, Any]:
    """A reply typed on the WhatsApp Business app: `Message#webhook_data` of an outgoing
    message with no sender and `content_attributes.external_echo: true`."""
    payload = payloads.sender_null()
    payload["content_attributes"] = {"external_echo": True, **attributes}
    return payload


def test_a_reply_typed_on_the_business_phone_app_means_a_human_took_over() -> None:
    """`Message#human_response?` counts `external_echo` messages as a human's."""
    verdict = judge(parse_event(payloads.body(external_echo())))
    assert verdict.action == "human_took_over"
    assert verdict.conversation == (1, 42)
    assert "phone" in verdict.reason


def test_automation_and_campaign_messages_are_no_human_response() -> None:
    """`Message#human_response?`: an automation rule's or a campaign's message is not."""
    assert verdict_of(external_echo(automation_rule_id=7))[0] == "ignore"
    campaign = payloads.agent_reply()
    campaign["additional_attributes"] = {"campaign_id": 3}
    assert verdict_of(campaign)[0] == "ignore"


def test_an_open_conversation_assigned_to_the_agent_bot_is_answered() -> None:
    """`Conversation#webhook_data` of a conversation given to the bot: open, and its
    `meta.assignee` is the agent bot (`assignee_agent_bot`)."""
    payload = payloads.message_created(status="open")
    payload["conversation"]["meta"]["assignee"] = payloads.bot()
    action, reason = verdict_of(payload)
    assert action == "answer"
    assert "assigned to the bot" in reason


def test_an_open_conversation_assigned_to_a_person_is_not_answered() -> None:
    payload = payloads.message_created(status="open")
    payload["conversation"]["meta"]["assignee"] = payloads.agent()
    assert verdict_of(payload) == ("ignore", "conversation is open: a human owns it")
    snoozed = payloads.message_created(status="snoozed")
    snoozed["conversation"]["meta"]["assignee"] = payloads.bot()
    assert verdict_of(snoozed)[0] == "ignore"  # only `open` is the bot's by assignment

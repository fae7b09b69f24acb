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

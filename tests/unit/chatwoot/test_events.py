"""Parsing webhook bodies: the shapes Chatwoot sends, and clear errors for the rest."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.chatwoot.events import ConversationEvent, GenericEvent, MessageEvent, parse_event
from hub.exceptions import InvalidPayloadError
from tests.unit.chatwoot import payloads


def parse_message(payload: dict[str, Any]) -> MessageEvent:
    event = parse_event(payloads.body(payload))
    assert isinstance(event, MessageEvent)
    return event


def parse_conversation(payload: dict[str, Any]) -> ConversationEvent:
    event = parse_event(payloads.body(payload))
    assert isinstance(event, ConversationEvent)
    return event


def error_for(raw: bytes) -> str:
    with pytest.raises(InvalidPayloadError) as caught:
        parse_event(raw)
    assert caught.value.status == 400
    return str(caught.value)


# Messages ------------------------------------------------------------------


def test_a_contact_message_without_sender_type_is_from_a_contact() -> None:
    event = parse_message(payloads.contact_message())
    assert event.event == "message_created"
    assert event.sender_kind == "contact"
    assert event.message_type == "incoming"
    assert event.private is False
    assert (event.account_id, event.conversation_id, event.inbox_id) == (1, 42, 11)
    assert event.id == 9001
    assert event.conversation_status == "pending"
    assert event.channel == "Channel::Whatsapp"
    assert event.sender is not None and event.sender.name == "Maria Silva"


def test_the_text_is_the_content_stripped() -> None:
    assert parse_message(payloads.contact_message()).text == "Oi, vocês têm protetor solar?"


def test_the_created_at_iso_string_becomes_a_datetime() -> None:
    created = parse_message(payloads.contact_message()).created_at
    assert created is not None and created.year == 2026 and created.utcoffset() is not None


def test_an_agent_reply_is_from_a_user() -> None:
    event = parse_message(payloads.agent_reply())
    assert event.sender_kind == "user"
    assert event.message_type == "outgoing"


def test_the_bots_own_reply_is_from_an_agent_bot() -> None:
    assert parse_message(payloads.bot_reply()).sender_kind == "agent_bot"


def test_a_captain_message_is_from_captain() -> None:
    payload = payloads.message_created("Olá!", message_type="outgoing", sender=payloads.captain())
    assert parse_message(payload).sender_kind == "captain_assistant"


def test_an_unknown_sender_type_is_unknown() -> None:
    sender = {"id": 5, "name": "?", "type": "platform_app"}
    assert parse_message(payloads.message_created(sender=sender)).sender_kind == "unknown"


def test_a_private_note_is_marked_private() -> None:
    event = parse_message(payloads.private_note())
    assert event.private is True
    assert event.sender_kind == "user"
    assert event.conversation_status == "open"


def test_an_outgoing_message_without_sender_is_not_from_a_contact() -> None:
    event = parse_message(payloads.sender_null())
    assert event.sender is None
    assert event.sender_kind == "unknown"


def test_an_incoming_message_without_sender_is_from_the_contact() -> None:
    payload = payloads.contact_message()
    payload["sender"] = None
    assert parse_message(payload).sender_kind == "contact"


def test_message_updated_has_the_message_shape_and_keeps_its_name() -> None:
    event = parse_message(payloads.message_updated())
    assert event.event == "message_updated"
    assert event.content_attributes == {"external_created_at": 1764165601}


def test_an_audio_only_message_reads_as_its_transcription() -> None:
    event = parse_message(payloads.audio_message())
    assert event.content is None
    assert event.text == ""
    assert event.attachment_summary == "[áudio: Queria saber o preço do protetor solar]"


def test_media_without_words_still_has_a_summary() -> None:
    payload = payloads.message_created(None)
    payload["attachments"] = [
        {"id": 1, "file_type": "image", "data_url": "https://x/y.jpg"},
        {"id": 2, "file_type": "audio", "transcribed_text": ""},
        {"id": 3, "file_type": "location", "fallback_title": "Rua XV de Novembro, 100"},
        {"id": 4, "file_type": "something_new"},
    ]
    summary = parse_message(payload).attachment_summary
    assert summary == "[imagem] [áudio] [localização: Rua XV de Novembro, 100] [anexo]"


def test_a_text_message_has_no_attachment_summary() -> None:
    assert parse_message(payloads.contact_message()).attachment_summary == ""


def test_conversation_messages_carry_integer_message_types() -> None:
    (first,) = parse_message(payloads.contact_message()).conversation.messages
    assert first.message_type == 0
    assert first.message_type_name == "incoming"


def test_a_numeric_top_level_message_type_is_read_as_its_name() -> None:
    payload = payloads.contact_message()
    payload["message_type"] = 3
    assert parse_message(payload).message_type == "template"


def test_keys_chatwoot_adds_later_are_ignored() -> None:
    payload = payloads.contact_message()
    payload["sentiment"] = {"label": "positive"}
    payload["conversation"]["brand_new_key"] = [1, 2, 3]
    payload["sender"]["loyalty"] = {"tier": "gold"}
    assert parse_message(payload).sender_kind == "contact"


def test_null_containers_read_as_empty() -> None:
    payload = payloads.contact_message()
    payload["content_attributes"] = None
    payload["conversation"]["labels"] = None
    payload["conversation"]["custom_attributes"] = None
    event = parse_message(payload)
    assert event.content_attributes == {}
    assert event.conversation.labels == []
    assert event.conversation.custom_attributes == {}


# Conversation events -------------------------------------------------------


def test_a_status_change_from_pending_to_open_is_reported() -> None:
    event = parse_conversation(payloads.status_changed("pending", "open"))
    assert event.event == "conversation_status_changed"
    assert (event.account_id, event.conversation_id, event.inbox_id) == (1, 42, 11)
    assert event.status == "open"
    assert event.status_changed_from == "pending"
    assert event.status_changed_to == "open"


def test_a_conversation_event_accepts_a_flat_account_id() -> None:
    payload = payloads.status_changed()
    del payload["account"]
    payload["account_id"] = 7
    assert parse_conversation(payload).account_id == 7


def test_without_any_account_the_account_comes_from_the_last_message() -> None:
    payload = payloads.status_changed()
    del payload["account"]
    assert parse_conversation(payload).account_id == 1


def test_a_conversation_event_with_no_account_anywhere_has_none() -> None:
    payload = payloads.status_changed()
    del payload["account"]
    payload["messages"] = []
    assert parse_conversation(payload).account_id is None


def test_an_update_without_a_status_change_reports_none() -> None:
    payload = payloads.status_changed()
    payload["event"] = "conversation_updated"
    payload["changed_attributes"] = [{"labels": {"previous_value": [], "current_value": ["vip"]}}]
    event = parse_conversation(payload)
    assert event.status_changed_to is None
    change = event.change("labels")
    assert change is not None and change.current_value == ["vip"]


def test_conversation_resolved_reports_resolved_without_changed_attributes() -> None:
    payload = {"event": "conversation_resolved", **payloads.conversation("resolved")}
    assert parse_conversation(payload).status_changed_to == "resolved"


# Other events --------------------------------------------------------------


def test_webwidget_triggered_is_a_generic_event_with_the_raw_body() -> None:
    event = parse_event(payloads.body(payloads.webwidget_triggered()))
    assert isinstance(event, GenericEvent)
    assert event.event == "webwidget_triggered"
    assert event.raw["event_info"]["browser"] == {}
    assert (event.account_id, event.inbox_id) == (1, 11)


def test_an_unknown_event_is_generic_and_may_have_no_account() -> None:
    event = parse_event(b'{"event": "conversation_typing_on", "is_private": false}')
    assert isinstance(event, GenericEvent)
    assert event.account_id is None and event.inbox_id is None


# Malformed bodies ----------------------------------------------------------


def test_malformed_json_is_refused() -> None:
    assert "not valid JSON" in error_for(b'{"event": "message_created",')


def test_bytes_that_are_not_utf8_are_refused() -> None:
    assert "JSON" in error_for(b"\xff\xfe{}")


@pytest.mark.parametrize("raw", [b"[]", b'"message_created"', b"42", b"null"])
def test_a_body_that_is_not_an_object_is_refused(raw: bytes) -> None:
    assert "must be a JSON object" in error_for(raw)


def test_a_body_without_event_is_refused() -> None:
    payload = payloads.contact_message()
    del payload["event"]
    assert "'event'" in error_for(payloads.body(payload))


def test_an_event_that_is_not_a_string_is_refused() -> None:
    assert "'event' must be" in error_for(b'{"event": 5}')


def test_a_missing_conversation_id_is_named_in_the_error() -> None:
    payload = payloads.contact_message()
    del payload["conversation"]["id"]
    assert error_for(payloads.body(payload)) == "message_created: conversation.id: field required"


def test_a_missing_conversation_is_named_in_the_error() -> None:
    payload = payloads.contact_message()
    del payload["conversation"]
    assert "message_created: conversation: field required" in error_for(payloads.body(payload))


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        (("conversation", "id"), "quarenta e dois", "conversation.id"),
        (("private",), "talvez", "private"),
        (("message_type",), "sideways", "message_type"),
        (("conversation", "status"), "archived", "conversation.status"),
        (("account",), 1, "account"),
        (("id",), None, "id"),
        (("conversation", "messages", 0, "message_type"), "incoming", "conversation.messages[0]"),
    ],
)
def test_a_field_of_the_wrong_type_is_named_in_the_error(
    path: tuple[Any, ...], value: Any, named: str
) -> None:
    payload = payloads.contact_message()
    target = payload
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    message = error_for(payloads.body(payload))
    assert message.startswith(f"message_created: {named}")


def test_the_error_never_quotes_the_customer_text() -> None:
    payload = payloads.message_created("meu CPF é 123.456.789-00")
    payload["private"] = "meu CPF é 123.456.789-00"
    assert "123.456" not in error_for(payloads.body(payload))


def test_a_conversation_event_without_status_is_refused() -> None:
    payload = payloads.status_changed()
    del payload["status"]
    message = error_for(payloads.body(payload))
    assert message == "conversation_status_changed: status: field required"


@given(st.binary(max_size=200))
def test_any_bytes_either_parse_or_raise_invalid_payload(raw: bytes) -> None:
    with contextlib.suppress(InvalidPayloadError):
        parse_event(raw)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children)
    ),
    max_leaves=10,
)


@given(
    st.sampled_from(["message_created", "conversation_status_changed", "other"]),
    st.dictionaries(
        st.sampled_from(["id", "conversation", "account", "inbox", "status"]), json_values
    ),
)
def test_any_json_object_either_parses_or_raises_invalid_payload(
    event: str, fields: dict[str, Any]
) -> None:
    try:
        parse_event(json.dumps({"event": event, **fields}).encode())
    except InvalidPayloadError as error:
        assert str(error).startswith(f"{event}: ")

"""What a customer message says, read from payloads shaped as Chatwoot builds them.

Attachments follow `Attachment#push_event_data` (audio adds `transcribed_text`,
locations `coordinates_lat`/`coordinates_long`/`fallback_title`); quotes and
e-mails follow `Message#webhook_data`'s `content_attributes`.
"""

from __future__ import annotations

from typing import Any

from hub.chatwoot.events import MessageEvent, parse_event
from hub.conversation.media import content_of, has_transcript
from tests.unit.chatwoot.payloads import audio_message, body, message_created


def event(payload: dict[str, Any]) -> MessageEvent:
    parsed = parse_event(body(payload))
    assert isinstance(parsed, MessageEvent)
    return parsed


def voice_note(transcript: str = "") -> dict[str, Any]:
    """`Attachment#push_event_data` of a WhatsApp voice note before (or after)
    `Messages::AudioTranscriptionService` filled its text."""
    payload = audio_message()
    payload["attachments"][0].update(extension="ogg", transcribed_text=transcript)
    return payload


def test_a_voice_note_without_transcription_is_media_only_and_unheard() -> None:
    content = content_of(event(voice_note()))
    assert content.text == "[áudio]"
    assert content.media_only
    (audio,) = content.media
    assert audio.kind == "audio" and audio.unheard
    assert audio.url == "https://chatwoot.example/rails/active_storage/blobs/audio.ogg"
    assert audio.extension == "ogg"
    assert not has_transcript(event(voice_note()))


def test_a_transcribed_voice_note_reads_as_the_words_the_customer_said() -> None:
    content = content_of(event(voice_note("Queria saber o preço do protetor solar")))
    assert content.text == "Queria saber o preço do protetor solar"
    assert not content.media_only
    assert content.media[0].transcript == "Queria saber o preço do protetor solar"
    assert has_transcript(event(voice_note("Queria saber")))


def test_a_blank_transcription_is_no_transcription() -> None:
    content = content_of(event(voice_note("   ")))
    assert content.media_only and content.media[0].unheard
    assert not has_transcript(event(voice_note("   ")))


def test_a_picture_keeps_its_url_beside_the_caption() -> None:
    payload = message_created("quanto custa esse?")
    payload["attachments"] = [
        {
            "id": 3401,
            "message_id": 9001,
            "file_type": "image",
            "account_id": 1,
            "extension": "jpg",
            "data_url": "https://chatwoot.example/blobs/foto.jpg",
            "thumb_url": "https://chatwoot.example/blobs/foto-thumb.jpg",
            "file_size": 120331,
            "width": 1280,
            "height": 960,
        }
    ]
    content = content_of(event(payload))
    assert content.text == "quanto custa esse? [imagem]"
    assert not content.media_only
    assert [(m.kind, m.url) for m in content.media] == [
        ("image", "https://chatwoot.example/blobs/foto.jpg")
    ]


def test_a_location_pin_keeps_its_coordinates_and_name() -> None:
    payload = message_created(None)
    payload["attachments"] = [
        {
            "id": 3501,
            "message_id": 9001,
            "file_type": "location",
            "account_id": 1,
            "coordinates_lat": -25.4284,
            "coordinates_long": -49.2733,
            "fallback_title": "Praça Tiradentes, Curitiba",
            "data_url": None,
            "thumb_url": "",
        }
    ]
    content = content_of(event(payload))
    assert content.text == "[localização: Praça Tiradentes, Curitiba — -25.428400, -49.273300]"
    (pin,) = content.media
    assert (pin.latitude, pin.longitude, pin.title) == (
        -25.4284,
        -49.2733,
        "Praça Tiradentes, Curitiba",
    )


def test_a_location_without_coordinates_or_name_still_reads_as_a_location() -> None:
    payload = message_created(None)
    payload["attachments"] = [{"id": 1, "file_type": "location", "data_url": None}]
    assert content_of(event(payload)).text == "[localização]"


def test_a_quote_keeps_the_id_of_the_message_it_answers() -> None:
    payload = message_created("esse aqui")
    payload["content_attributes"] = {"in_reply_to": 8990, "in_reply_to_external_id": "wamid.X"}
    assert content_of(event(payload)).quoted_message_id == 8990


def test_a_quote_id_that_is_not_a_number_is_ignored() -> None:
    for value in ("wamid.X", True, None, {"id": 3}, "12a"):
        payload = message_created("esse aqui")
        payload["content_attributes"] = {"in_reply_to": value}
        assert content_of(event(payload)).quoted_message_id is None, value
    payload["content_attributes"] = {"in_reply_to": "8990"}
    assert content_of(event(payload)).quoted_message_id == 8990


def incoming_email(reply: str | None = "Vocês entregam em Curitiba?") -> dict[str, Any]:
    """An e-mail as `Message#webhook_data` carries it: the whole text in `content`,
    its parts in `content_attributes.email` (`MailPresenter#serialized_data`)."""
    thread = "Em 20/11, Bela Pele escreveu:\n> Olá! Temos o protetor por R$ 69,90."
    payload = message_created(f"{reply or ''}\n\n{thread}")
    payload["content_type"] = "incoming_email"
    payload["content_attributes"] = {
        "email": {
            "subject": "Re: Pedido 4521",
            "from": ["maria@example.com"],
            "html_content": {"full": "<p>…</p>", "reply": "<p>…</p>", "quoted": "<p>…</p>"},
            "text_content": {"full": "…", "reply": reply, "quoted": thread},
        }
    }
    return payload


def test_an_email_keeps_its_subject_and_only_the_reply_not_the_quoted_thread() -> None:
    content = content_of(event(incoming_email()))
    assert content.subject == "Re: Pedido 4521"
    assert content.text == "Assunto: Re: Pedido 4521\nVocês entregam em Curitiba?"
    assert "69,90" not in content.text


def test_an_email_without_a_reply_part_falls_back_to_its_content() -> None:
    content = content_of(event(incoming_email(reply=None)))
    assert content.text.startswith("Assunto: Re: Pedido 4521\n")
    assert "Em 20/11" in content.text


def test_an_email_whose_attributes_are_malformed_reads_as_plain_text() -> None:
    payload = incoming_email()
    payload["content_attributes"] = {"email": "not a hash"}
    content = content_of(event(payload))
    assert content.subject is None
    assert content.text.startswith("Vocês entregam em Curitiba?")

"""What a customer message says, read once from Chatwoot's payload.

Chatwoot puts the parts of a message in different places: the words in
`content` (null for a voice note or a bare picture), each attachment in
`attachments[]` (`Attachment#push_event_data`: the file's `data_url`, an audio's
`transcribed_text`, a location's `coordinates_lat`/`coordinates_long` and
`fallback_title`), the quoted message in `content_attributes.in_reply_to`, and
an e-mail's subject and own reply (without the quoted thread) in
`content_attributes.email`. `content_of` gathers them into what the queue
carries (`InboundMessage`): the text the crew reads, the media the worker may
fetch, and whether the customer wrote anything at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub.chatwoot.events import ATTACHMENT_LABELS, Attachment, MessageEvent
from hub.conversation.inbound import Media

EMAIL_CONTENT_TYPE = "incoming_email"


@dataclass(frozen=True)
class Content:
    """The fields of an `InboundMessage` that come from the message itself."""

    text: str
    media: tuple[Media, ...] = ()
    media_only: bool = False
    quoted_message_id: int | None = None
    subject: str | None = None


def content_of(event: MessageEvent) -> Content:
    """The message's words, transcripts and attachments as one text, with the media kept."""
    words, subject = _words(event)
    media = tuple(media_of(attachment) for attachment in event.attachments)
    heard = [m.transcript.strip() for m in media if m.kind == "audio" and m.transcript]
    named = [summary(m) for m in media if not (m.kind == "audio" and m.transcript)]
    said = [part for part in (words, *heard) if part.strip()]
    text = _email_text(subject, said, named) if subject else " ".join([*said, *named]).strip()
    return Content(
        text=text,
        media=media,
        media_only=not said and bool(media),
        quoted_message_id=event.in_reply_to,
        subject=subject,
    )


def media_of(attachment: Attachment) -> Media:
    """One attachment as the queue carries it (a blank transcription is no transcript)."""
    transcript = (attachment.transcribed_text or "").strip() or None
    return Media(
        kind=attachment.file_type,
        url=attachment.data_url,
        extension=attachment.extension,
        transcript=transcript,
        latitude=attachment.coordinates_lat,
        longitude=attachment.coordinates_long,
        title=(attachment.fallback_title or "").strip() or None,
    )


def summary(media: Media) -> str:
    """How an attachment reads to the crew: `[imagem]`, `[localização: name — lat, long]`."""
    label = ATTACHMENT_LABELS.get(media.kind, "anexo")
    if media.kind == "location":
        place = [media.title] if media.title else []
        if media.latitude is not None and media.longitude is not None:
            place.append(f"{media.latitude:.6f}, {media.longitude:.6f}")
        return f"[{label}: {' — '.join(place)}]" if place else f"[{label}]"
    detail = (media.transcript or media.title or "").strip()
    return f"[{label}: {detail}]" if detail else f"[{label}]"


def has_transcript(event: MessageEvent) -> bool:
    """An audio of the message carries Chatwoot's transcription (`message_updated` from
    `Messages::AudioTranscriptionService`)."""
    return any(
        a.file_type == "audio" and (a.transcribed_text or "").strip() for a in event.attachments
    )


def _words(event: MessageEvent) -> tuple[str, str | None]:
    """What the customer wrote, and an e-mail's subject: for an e-mail only its own
    reply (`text_content.reply`), not the thread of earlier messages it quotes."""
    if event.content_type != EMAIL_CONTENT_TYPE or not event.email:
        return event.text, None
    email = event.email
    text_content = email.get("text_content")
    reply = _text(text_content.get("reply")) if isinstance(text_content, dict) else ""
    subject = _text(email.get("subject")) or None
    return reply or event.text, subject


def _email_text(subject: str, said: list[str], named: list[str]) -> str:
    body = " ".join([*said, *named]).strip()
    return f"Assunto: {subject}\n{body}" if body else f"Assunto: {subject}"


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""

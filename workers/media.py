"""A burst's media before its turn: voice notes heard, quotes read back, pictures shown.

a voice note nobody transcribed  → the domain's transcription plugin, if it has one
a message quoting another        → the quoted text, from the conversation's recent
                                   messages (`hub.conversation.quotes`), in the prompt
pictures                         → shown to a model that sees (`hub.crews.vision`);
                                   else the decision asks the customer to describe them
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog

from hub.conversation.inbound import InboundMessage
from hub.conversation.media import summary
from hub.conversation.quotes import Quotes
from hub.crews.llm import model_name
from hub.crews.vision import sees_images
from hub.domains.domain import Domain
from workers.runtime import WorkerRuntime

log = structlog.get_logger(__name__)

QUOTE_AUTHORS = {"bot": "nossa mensagem", "customer": "mensagem do cliente"}


def heard(
    runtime: WorkerRuntime, domain: Domain, messages: Sequence[InboundMessage]
) -> list[InboundMessage]:
    """The messages, each voice note nobody transcribed now transcribed by the domain's
    plugin when it can (unchanged otherwise)."""
    plugins = runtime.factory.plugins
    if not any(m.unheard_audio for m in messages) or not plugins.transcribes(domain):
        return list(messages)
    return [_transcribed(runtime, domain, m) if m.unheard_audio else m for m in messages]


def _transcribed(runtime: WorkerRuntime, domain: Domain, message: InboundMessage) -> InboundMessage:
    plugins = runtime.factory.plugins
    media = []
    for item in message.media:
        if item.unheard and item.url:
            text = plugins.transcribe(domain, url=item.url, extension=item.extension)
            if text:
                item = item.model_copy(update={"transcript": text})
        media.append(item)
    said = [m.transcript for m in media if m.kind == "audio" and m.transcript]
    if not said:
        return message
    log.info("voice note transcribed by a plugin", message_id=message.message_id)
    named = [summary(m) for m in media if not (m.kind == "audio" and m.transcript)]
    words = {"text": " ".join([*said, *named]), "media": media, "media_only": False}
    return InboundMessage.model_validate({**message.model_dump(), **words})


def prompt(runtime: WorkerRuntime, messages: Sequence[InboundMessage]) -> str:
    """The customer's messages as one prompt, each quote shown before the message that
    answers it (`[em resposta a nossa mensagem: "…"]`)."""
    quotes = Quotes(runtime.redis)
    lines = []
    for message in messages:
        if not message.text:
            continue
        quoted = (
            quotes.find(message.account_id, message.conversation_id, message.quoted_message_id)
            if message.quoted_message_id is not None
            and message.quoted_message_id != message.message_id
            else None
        )
        if quoted is not None:
            lines.append(f'[em resposta a {QUOTE_AUTHORS[quoted.author]}: "{quoted.text}"]')
        lines.append(message.text)
    return "\n".join(lines)


def turn_media(
    runtime: WorkerRuntime, domain: Domain, messages: Sequence[InboundMessage]
) -> dict[str, Any]:
    """The `Turn` fields about the burst's media."""
    images = tuple(url for m in messages for url in m.images)
    return {
        "images": images,
        "sees_images": bool(images)
        and sees_images(domain, runtime.settings, model_name(domain, runtime.settings)),
        "media_only": all(m.media_only for m in messages),
        "unheard_audio": any(m.unheard_audio for m in messages),
    }

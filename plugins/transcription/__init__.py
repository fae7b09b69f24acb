"""Transcription: a customer's voice note as text, through an OpenAI-compatible API.

Chatwoot transcribes audio itself on accounts that have the feature; elsewhere a
voice note has no words. This plugin fetches the audio from its `data_url` and
posts it to `POST {url}/audio/transcriptions` (multipart: `file`, `model`,
`language`, `response_format=json`), the protocol of OpenAI's Whisper API that
local Whisper servers speak too. It answers None whenever it cannot (no URL
configured, the audio too large or unreachable, the API failing): the worker
then asks the customer to write, and never makes words up.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import httpx
import structlog
from pydantic import BaseModel

from hub import defaults
from hub.plugins import hookimpl
from plugins.transcription.settings import TranscriptionSettings

if TYPE_CHECKING:
    from hub.domains.domain import Domain

__all__ = ["TranscriptionSettings", "transcribe"]

log = structlog.get_logger(__name__)

AUDIO_TYPES = {
    "ogg": "audio/ogg",
    "oga": "audio/ogg",
    "opus": "audio/ogg",
    "mp3": "audio/mpeg",
    "m4a": "audio/mp4",
    "mp4": "audio/mp4",
    "aac": "audio/aac",
    "wav": "audio/wav",
    "webm": "audio/webm",
    "amr": "audio/amr",
}
"""Extensions Chatwoot's channels give voice notes (WhatsApp: ogg/opus)."""


@hookimpl
def settings_model() -> type[BaseModel]:
    return TranscriptionSettings


@hookimpl
def domain_ready(domain: Domain, config: TranscriptionSettings) -> None:
    """Say once at start when the endpoint's variable is unset: voice notes go unheard."""
    if not os.environ.get(config.url_env):
        log.warning(
            "transcription enabled but its URL variable is unset; voice notes go unheard",
            domain=domain.id,
            variable=config.url_env,
        )


@hookimpl
def transcribe_audio(config: TranscriptionSettings, url: str, extension: str | None) -> str | None:
    base = os.environ.get(config.url_env)
    if not base:
        return None
    key = os.environ.get(config.api_key_env) if config.api_key_env else None
    try:
        with httpx.Client(timeout=config.timeout_seconds, follow_redirects=True) as http:
            return transcribe(http, config, base, key, url=url, extension=extension)
    except httpx.HTTPError as error:
        log.warning("voice note not transcribed", error=f"{type(error).__name__}: {error}"[:300])
        return None


def transcribe(
    http: httpx.Client,
    config: TranscriptionSettings,
    base: str,
    key: str | None,
    *,
    url: str,
    extension: str | None,
) -> str | None:
    """Fetch the audio at `url` and post it to `{base}/audio/transcriptions`; its text."""
    audio = _fetch(http, url)
    if audio is None:
        return None
    suffix = (extension or url.rsplit("?", 1)[0].rsplit(".", 1)[-1] or "ogg").lower().lstrip(".")
    kind = AUDIO_TYPES.get(suffix, "application/octet-stream")
    fields: dict[str, Any] = {"model": config.model, "response_format": "json"}
    if config.language:
        fields["language"] = config.language
    if config.prompt:
        fields["prompt"] = config.prompt
    response = http.post(
        f"{base.rstrip('/')}/audio/transcriptions",
        data=fields,
        files={"file": (f"audio.{suffix}", audio, kind)},
        headers={"Authorization": f"Bearer {key}"} if key else {},
    )
    response.raise_for_status()
    body = response.json()
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str):
        return None
    return text.strip() or None


def _fetch(http: httpx.Client, url: str) -> bytes | None:
    """The audio's bytes; None when it is larger than the API takes."""
    with http.stream("GET", url) as response:
        response.raise_for_status()
        audio = bytearray()
        for chunk in response.iter_bytes():
            audio += chunk
            if len(audio) > defaults.MAX_AUDIO_BYTES:
                log.warning("voice note too large to transcribe", limit=defaults.MAX_AUDIO_BYTES)
                return None
    return bytes(audio)

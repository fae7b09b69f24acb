"""What a domain sets under `plugins.transcription`."""

from __future__ import annotations

from pydantic import Field

from hub.domains.schema import EnvVarName, Text
from hub.plugins import PluginSettings


class TranscriptionSettings(PluginSettings):
    """Where voice notes are transcribed: an OpenAI-compatible `/audio/transcriptions`.

    The endpoint and its key are named by environment variables, never written in
    YAML: OpenAI itself, a provider with the same API, or a local Whisper server
    (faster-whisper-server, whisper.cpp's server, LocalAI, vLLM).
    """

    url_env: EnvVarName = "CHATWOOTAI_TRANSCRIPTION_URL"
    """The variable holding the API's base URL, e.g. `https://api.openai.com/v1`."""
    api_key_env: EnvVarName | None = "CHATWOOTAI_TRANSCRIPTION_API_KEY"
    """The variable holding the bearer key (unset variable: no key is sent)."""
    model: Text = "whisper-1"
    language: Text | None = "pt"
    """ISO-639-1 hint for the model (customers write in Portuguese); None: detected."""
    prompt: Text | None = None
    """Words the model should expect (product names), as the API's `prompt`."""
    timeout_seconds: float = Field(default=30.0, gt=0, le=120)
    """Fetching the audio and transcribing it, together."""

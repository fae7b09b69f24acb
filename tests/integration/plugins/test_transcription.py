"""The transcription plugin against a local server speaking OpenAI's `/v1/audio/transcriptions`,
the audio fetched from the fake Chatwoot's `data_url`."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hub.domains.registry import DomainRegistry
from hub.plugins.manager import PluginHost
from plugins.transcription import TranscriptionSettings, transcribe_audio
from tests.conftest import SAMPLE_DOMAINS
from tests.fakes.chatwoot import FakeChatwoot
from tests.fakes.openai_server import FakeOpenAI

pytestmark = pytest.mark.integration

VOICE = b"OggS\x00\x02" + bytes(range(256)) * 8
"""Stand-in bytes of a WhatsApp voice note (opus in ogg)."""


@pytest.fixture
def voice_url(fake_chatwoot: FakeChatwoot) -> str:
    return fake_chatwoot.serve_file("/rails/active_storage/blobs/voz.ogg", VOICE, "audio/ogg")


@pytest.fixture
def endpoint(fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> FakeOpenAI:
    monkeypatch.setenv("CHATWOOTAI_TRANSCRIPTION_URL", fake_openai.url)
    monkeypatch.setenv("CHATWOOTAI_TRANSCRIPTION_API_KEY", "sk-whisper")
    fake_openai.transcriber = lambda audio: (
        "  Qual o horário de funcionamento?  " if audio == VOICE else "other"
    )
    return fake_openai


def test_a_voice_note_is_fetched_and_posted_as_multipart_and_its_text_returned(
    endpoint: FakeOpenAI, voice_url: str
) -> None:
    config = TranscriptionSettings(model="whisper-large-v3", language="pt", prompt="Kit Verão")
    assert transcribe_audio(config, voice_url, "ogg") == "Qual o horário de funcionamento?"
    (request,) = endpoint.requests
    assert request["path"] == "/v1/audio/transcriptions"
    assert request["headers"]["Authorization"] == "Bearer sk-whisper"
    fields = request["body"]
    assert fields["model"] == "whisper-large-v3"
    assert fields["language"] == "pt" and fields["prompt"] == "Kit Verão"
    assert fields["response_format"] == "json"
    assert fields["file"] == ("audio.ogg", "audio/ogg", VOICE)


def test_without_the_url_variable_nothing_is_sent_and_nothing_made_up(
    fake_openai: FakeOpenAI, voice_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CHATWOOTAI_TRANSCRIPTION_URL", raising=False)
    assert transcribe_audio(TranscriptionSettings(), voice_url, "ogg") is None
    assert fake_openai.requests == []


@pytest.mark.parametrize("status", [401, 500])
def test_a_failing_transcription_api_means_no_transcript(
    endpoint: FakeOpenAI, voice_url: str, status: int
) -> None:
    endpoint.fail_status = status
    assert transcribe_audio(TranscriptionSettings(), voice_url, "ogg") is None


def test_an_audio_that_cannot_be_fetched_is_not_sent(
    endpoint: FakeOpenAI, fake_chatwoot: FakeChatwoot
) -> None:
    missing = f"{fake_chatwoot.url}/rails/active_storage/blobs/gone.ogg"
    assert transcribe_audio(TranscriptionSettings(), missing, "ogg") is None
    assert endpoint.requests == []


def test_a_blank_transcription_is_no_transcript(endpoint: FakeOpenAI, voice_url: str) -> None:
    endpoint.transcriber = lambda audio: "   "
    assert transcribe_audio(TranscriptionSettings(), voice_url, "ogg") is None


def test_the_host_asks_the_plugin_only_for_domains_that_enable_it(
    endpoint: FakeOpenAI, voice_url: str
) -> None:
    registry = DomainRegistry(SAMPLE_DOMAINS)
    host = PluginHost.with_plugins()
    retail = registry.get("retail")
    assert not host.transcribes(retail)
    assert host.transcribe(retail, url=voice_url, extension="ogg") is None
    plugins = {**retail.spec.plugins, "transcription": {}}
    enabled = replace(retail, spec=retail.spec.model_copy(update={"plugins": plugins}))
    assert host.transcribes(enabled)
    assert host.transcribe(enabled, url=voice_url, extension="ogg") == (
        "Qual o horário de funcionamento?"
    )

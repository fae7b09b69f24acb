"""Voice notes, pictures, locations, quotes and e-mails: signed webhook → receiver → worker
process → fake Chatwoot (and a fake model or transcription server).

Payloads are shaped as Chatwoot's code builds them: `Message#webhook_data` for the
message, `Attachment#push_event_data` for each attachment (audio with
`transcribed_text`, locations with `coordinates_lat`/`coordinates_long`/
`fallback_title`), and `Messages::AudioTranscriptionService#perform`, which stores
the text on the attachment and sends the message again as `message_updated`.
"""

from __future__ import annotations

import base64
import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from hub.conversation.handoff import handoff_message
from hub.domains.registry import DomainRegistry
from tests.conftest import SAMPLE_DOMAINS
from tests.e2e.conftest import ACCOUNTS, WorkerProcess, message_created, post_signed
from tests.fakes.chatwoot import FakeChatwoot
from tests.fakes.openai_server import FakeOpenAI

pytestmark = [pytest.mark.integration, pytest.mark.slow]

QUESTION = "Qual o horário de funcionamento das lojas?"
VOICE = b"OggS\x00\x02" + bytes(range(256)) * 16
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
RETAIL = DomainRegistry(SAMPLE_DOMAINS).get("retail")


def replies(fake_chatwoot: FakeChatwoot, conversation_id: int) -> list[str]:
    return [
        str(body["content"])
        for body in fake_chatwoot.messages(conversation_id)
        if not body.get("private")
    ]


def quiet(fake_chatwoot: FakeChatwoot, seconds: float) -> None:
    fake_chatwoot.wait_for(lambda: False, timeout=seconds, raise_on_timeout=False)


def attachment(message_id: int, file_type: str, **fields: Any) -> dict[str, Any]:
    """`Attachment#push_event_data`: the keys every attachment has, then its own."""
    account_id = ACCOUNTS["retail"][0]
    base = {
        "id": message_id * 10,
        "message_id": message_id,
        "file_type": file_type,
        "account_id": account_id,
        "extension": None,
        "data_url": None,
        "thumb_url": "",
        "file_size": 0,
        "width": None,
        "height": None,
    }
    return {**base, **fields}


def voice_note(
    conversation_id: int,
    message_id: int,
    data_url: str,
    *,
    transcript: str = "",
    event: str = "message_created",
) -> dict[str, Any]:
    """A WhatsApp voice note (`Message#webhook_data`: content null, one audio); with a
    transcript, the `message_updated` of `Messages::AudioTranscriptionService#perform`."""
    payload = message_created("retail", conversation_id, message_id, "")
    payload.update(event=event, content=None)
    payload["conversation"]["messages"][0]["content"] = None
    payload["attachments"] = [
        attachment(
            message_id,
            "audio",
            extension="ogg",
            data_url=data_url,
            file_size=len(VOICE),
            transcribed_text=transcript,
        )
    ]
    return payload


def served_voice(fake_chatwoot: FakeChatwoot, message_id: int) -> str:
    return fake_chatwoot.serve_file(
        f"/rails/active_storage/blobs/{message_id}.ogg", VOICE, "audio/ogg"
    )


def test_a_voice_note_waits_for_chatwoots_transcription_and_answers_its_words_once(
    start_worker: Callable[..., WorkerProcess],
    receiver_client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
) -> None:
    """`Messages::AudioTranscriptionService#perform` → `message_updated` with the text."""
    start_worker(env={"CHATWOOTAI_TRANSCRIPTION_WAIT_SECONDS": "60"})
    url = served_voice(fake_chatwoot, 97001)
    note = voice_note(7001, 97001, url)
    assert post_signed(receiver_client, note).json["outcome"] == "queued"
    quiet(fake_chatwoot, 2)
    assert replies(fake_chatwoot, 7001) == []  # no blind answer while Chatwoot transcribes

    heard = voice_note(7001, 97001, url, transcript=QUESTION, event="message_updated")
    assert post_signed(receiver_client, heard).json["outcome"] == "queued"
    fake_chatwoot.wait_for(lambda: replies(fake_chatwoot, 7001), timeout=30)
    # Later updates of the same message (read receipts) still carry the text.
    again = post_signed(receiver_client, heard)
    assert again.json["outcome"] == "ignored"
    assert post_signed(receiver_client, note).json["outcome"] == "duplicate"
    quiet(fake_chatwoot, 3)
    (reply,) = replies(fake_chatwoot, 7001)
    assert "10:00" in reply and "22:00" in reply


@pytest.fixture
def transcribing_retail(
    tmp_path: Path, service_env: dict[str, str], fake_openai: FakeOpenAI
) -> FakeOpenAI:
    """The sample domains, retail with the transcription plugin on the fake server."""
    domains = tmp_path / "domains"
    shutil.copytree(SAMPLE_DOMAINS, domains)
    domain_file = domains / "retail" / "domain.yaml"
    domain_file.write_text(
        domain_file.read_text(encoding="utf-8")
        + textwrap.indent("transcription:\n  model: whisper-1\n  language: pt\n", "  "),
        encoding="utf-8",
    )
    service_env["CHATWOOTAI_DOMAINS_DIR"] = str(domains)
    service_env["CHATWOOTAI_TRANSCRIPTION_URL"] = fake_openai.url
    fake_openai.transcriber = lambda audio: QUESTION if audio == VOICE else "???"
    return fake_openai


def test_a_voice_note_chatwoot_does_not_transcribe_is_transcribed_by_the_plugin(
    transcribing_retail: FakeOpenAI,
    start_worker: Callable[..., WorkerProcess],
    receiver_client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
) -> None:
    """`Attachment#push_event_data` of an audio with an empty `transcribed_text`."""
    start_worker()
    url = served_voice(fake_chatwoot, 97101)
    assert post_signed(receiver_client, voice_note(7101, 97101, url)).json["outcome"] == "queued"
    fake_chatwoot.wait_for(lambda: replies(fake_chatwoot, 7101), timeout=30)
    (request,) = [r for r in transcribing_retail.requests if "audio" in r["path"]]
    assert request["body"]["file"][2] == VOICE and request["body"]["model"] == "whisper-1"
    assert [r["path"] for r in fake_chatwoot.requests() if r["method"] == "GET"] == [
        "/rails/active_storage/blobs/97101.ogg"
    ]
    # Chatwoot's own transcription arriving late changes nothing.
    late = voice_note(7101, 97101, url, transcript=QUESTION, event="message_updated")
    assert post_signed(receiver_client, late).json["outcome"] == "ignored"
    quiet(fake_chatwoot, 2)
    (reply,) = replies(fake_chatwoot, 7101)
    assert "10:00" in reply and "22:00" in reply


def test_with_neither_transcription_the_customer_is_asked_to_write_then_handed_off(
    start_worker: Callable[..., WorkerProcess],
    receiver_client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
) -> None:
    """Two voice notes (`Message#webhook_data`, no `transcribed_text` ever comes)."""
    start_worker(env={"CHATWOOTAI_TRANSCRIPTION_WAIT_SECONDS": "1"})
    first = voice_note(7201, 97201, served_voice(fake_chatwoot, 97201))
    assert post_signed(receiver_client, first).json["outcome"] == "queued"
    fake_chatwoot.wait_for(lambda: replies(fake_chatwoot, 7201), timeout=30)
    assert replies(fake_chatwoot, 7201) == [RETAIL.spec.messages.audio_unsupported]
    assert fake_chatwoot.conversation(3, 7201)["status"] == "pending"

    second = voice_note(7201, 97202, served_voice(fake_chatwoot, 97202))
    assert post_signed(receiver_client, second).json["outcome"] == "queued"
    fake_chatwoot.wait_for(
        lambda: fake_chatwoot.conversation(3, 7201)["status"] == "open", timeout=30
    )
    assert replies(fake_chatwoot, 7201)[1] == handoff_message(RETAIL)  # or after hours
    notes = [b["content"] for b in fake_chatwoot.messages(7201) if b.get("private")]
    assert any("áudio" in note for note in notes)


def picture(conversation_id: int, message_id: int, caption: str | None, url: str) -> dict[str, Any]:
    """A picture with an optional caption (`Message#webhook_data` + an image attachment)."""
    payload = message_created("retail", conversation_id, message_id, caption or "")
    payload["content"] = caption
    payload["attachments"] = [
        attachment(
            message_id,
            "image",
            extension="png",
            data_url=url,
            file_size=len(PNG),
            width=1,
            height=1,
        )
    ]
    return payload


def user_texts(fake_openai: FakeOpenAI) -> list[str]:
    """Every user message's text the model was sent."""
    texts = []
    for request in fake_openai.requests:
        for message in request["body"].get("messages", []):
            if message.get("role") != "user":
                continue
            content = message.get("content")
            if isinstance(content, str):
                texts.append(content)
            elif isinstance(content, list):
                texts += [p.get("text", "") for p in content if p.get("type") == "text"]
    return texts


def image_urls(fake_openai: FakeOpenAI) -> list[str]:
    return [
        part["image_url"]["url"]
        for request in fake_openai.requests
        for message in request["body"].get("messages", [])
        if isinstance(message.get("content"), list)
        for part in message["content"]
        if part.get("type") == "image_url"
    ]


def model_env(fake_openai: FakeOpenAI, **extra: str) -> dict[str, str]:
    return {
        "CHATWOOTAI_LLM": "openai/fake-model",
        "CHATWOOTAI_LLM_BASE_URL": fake_openai.url,
        "CHATWOOTAI_LLM_API_KEY": "sk-local",
        **extra,
    }


def test_a_picture_reaches_a_vision_model_as_an_image_part(
    start_worker: Callable[..., WorkerProcess],
    receiver_client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
    fake_openai: FakeOpenAI,
) -> None:
    """`Attachment#push_event_data` of an image, with a caption."""
    start_worker(env=model_env(fake_openai, CHATWOOTAI_LLM_VISION="true"))
    url = fake_chatwoot.serve_file("/rails/active_storage/blobs/foto.png", PNG, "image/png")
    payload = picture(7401, 97401, "Vocês têm esse produto?", url)
    assert post_signed(receiver_client, payload).json["outcome"] == "queued"
    fake_chatwoot.wait_for(lambda: replies(fake_chatwoot, 7401), timeout=30)
    assert f"data:image/png;base64,{base64.b64encode(PNG).decode()}" in image_urls(fake_openai)
    assert any("Vocês têm esse produto?" in text for text in user_texts(fake_openai))


def test_a_picture_alone_to_the_offline_model_is_answered_honestly(
    start_worker: Callable[..., WorkerProcess],
    receiver_client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
) -> None:
    """`Attachment#push_event_data` of an image, no caption (`content: null`)."""
    start_worker()
    url = fake_chatwoot.serve_file("/rails/active_storage/blobs/foto2.png", PNG, "image/png")
    assert post_signed(receiver_client, picture(7501, 97501, None, url)).json["outcome"] == "queued"
    fake_chatwoot.wait_for(lambda: replies(fake_chatwoot, 7501), timeout=30)
    assert replies(fake_chatwoot, 7501) == [RETAIL.spec.messages.image_unsupported]


def test_a_location_a_quote_and_an_email_reach_the_model_with_what_matters(
    start_worker: Callable[..., WorkerProcess],
    receiver_client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
    fake_openai: FakeOpenAI,
) -> None:
    """Locations (`Attachment#push_event_data`: coordinates, `fallback_title`), quotes
    (`content_attributes.in_reply_to`) and e-mails (`content_attributes.email`, from
    `MailPresenter#serialized_data`) as `Message#webhook_data` carries them."""
    start_worker(env=model_env(fake_openai))
    # Chatwoot's copy of the bot's own earlier message (sender agent_bot): filed by id.
    bot = {"id": 9, "name": "ChatwootAI", "type": "agent_bot"}
    offer = "Temos a Air Fryer 4 L por R$ 349,90 e a de 6 L por R$ 499,90."
    echo = message_created("retail", 7601, 97600, offer, sender=bot, message_type="outgoing")
    post_signed(receiver_client, echo)
    quote = message_created("retail", 7601, 97601, "tem em estoque?")
    quote["content_attributes"] = {"in_reply_to": 97600, "in_reply_to_external_id": "wamid.A"}

    pin = message_created("retail", 7602, 97602, "")
    pin["content"] = None
    pin["attachments"] = [
        attachment(
            97602,
            "location",
            coordinates_lat=-25.4284,
            coordinates_long=-49.2733,
            fallback_title="Praça Tiradentes, Curitiba",
        )
    ]

    thread = "Em 20/11, Casa escreveu:\n> Seu pedido CC-2026-00020 foi enviado."
    email = message_created("retail", 7603, 97603, f"Ainda não chegou.\n\n{thread}")
    email["content_type"] = "incoming_email"
    email["content_attributes"] = {
        "email": {
            "subject": "Re: Pedido CC-2026-00020",
            "text_content": {"full": "…", "reply": "Ainda não chegou.", "quoted": thread},
            "html_content": {"full": "<p>…</p>", "reply": "<p>…</p>", "quoted": "<p>…</p>"},
        }
    }
    for payload in (quote, pin, email):
        assert post_signed(receiver_client, payload).json["outcome"] == "queued"
    for conversation_id in (7601, 7602, 7603):
        fake_chatwoot.wait_for(lambda c=conversation_id: replies(fake_chatwoot, c), timeout=30)
    prompts = "\n".join(user_texts(fake_openai))
    assert f'[em resposta a nossa mensagem: "{offer}"]\ntem em estoque?' in prompts
    assert "[localização: Praça Tiradentes, Curitiba — -25.428400, -49.273300]" in prompts
    assert "Assunto: Re: Pedido CC-2026-00020\nAinda não chegou." in prompts
    assert "foi enviado" not in prompts


def test_a_transcription_of_a_message_never_seen_is_taken_as_the_message_itself(
    receiver_client: FlaskClient, fake_chatwoot: FakeChatwoot
) -> None:
    """Chatwoot's `message_created` lost (or late), its `message_updated` arrives first."""
    url = served_voice(fake_chatwoot, 97701)
    heard = voice_note(7701, 97701, url, transcript=QUESTION, event="message_updated")
    first = post_signed(receiver_client, heard)
    assert first.json["outcome"] == "queued"
    assert post_signed(receiver_client, voice_note(7701, 97701, url)).json["outcome"] == (
        "duplicate"
    )
    assert post_signed(receiver_client, heard).json["outcome"] == "ignored"


def test_two_unanswered_questions_hand_off_even_with_the_signature_appended(
    start_worker: Callable[..., WorkerProcess],
    receiver_client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
) -> None:
    """Cosmetics signs every reply (personalization's `after_crew`): a miss is still one."""
    start_worker()
    cosmetics = DomainRegistry(SAMPLE_DOMAINS).get("cosmetics")
    first = message_created("cosmetics", 7801, 97801, "Vocês vendem peças de bicicleta?")
    assert post_signed(receiver_client, first).json["outcome"] == "queued"
    fake_chatwoot.wait_for(lambda: replies(fake_chatwoot, 7801), timeout=30)
    (signed,) = replies(fake_chatwoot, 7801)
    assert " ".join(cosmetics.spec.messages.unknown.split()) in " ".join(signed.split())
    assert signed.rstrip().endswith("Equipe Bela Pele")
    second = message_created("cosmetics", 7801, 97802, "E pneus de moto, vocês têm?")
    assert post_signed(receiver_client, second).json["outcome"] == "queued"
    fake_chatwoot.wait_for(
        lambda: fake_chatwoot.conversation(1, 7801)["status"] == "open", timeout=30
    )
    assert replies(fake_chatwoot, 7801)[1] == handoff_message(cosmetics)

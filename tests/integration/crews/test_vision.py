"""Pictures reach a model that sees as image parts; a model that does not see gets words only."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from hub.crews.factory import CrewFactory
from hub.crews.vision import image_parts, sees_images
from hub.domains.registry import DomainRegistry
from hub.settings import Settings
from hub.turn import Turn
from tests.conftest import SAMPLE_DOMAINS
from tests.fakes.chatwoot import FakeChatwoot
from tests.fakes.openai_server import FakeOpenAI

pytestmark = pytest.mark.integration

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def factory(tmp_path: Path, fake_openai: FakeOpenAI, **settings: Any) -> CrewFactory:
    return CrewFactory(
        DomainRegistry(SAMPLE_DOMAINS),
        Settings(
            database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
            data_dir=tmp_path,
            domains_dir=SAMPLE_DOMAINS,
            llm="openai/local-model",
            llm_base_url=fake_openai.url,
            llm_api_key="k",
            **settings,
        ),
    )


def image_parts_sent(fake_openai: FakeOpenAI) -> list[dict[str, Any]]:
    parts = []
    for request in fake_openai.requests:
        for message in request["body"].get("messages", []):
            content = message.get("content")
            if isinstance(content, list):
                parts += [part for part in content if part.get("type") == "image_url"]
    return parts


def test_a_picture_reaches_a_vision_model_as_an_inline_image_part(
    tmp_path: Path, fake_openai: FakeOpenAI, fake_chatwoot: FakeChatwoot
) -> None:
    url = fake_chatwoot.serve_file("/blobs/produto.png", PNG, "image/png")
    fake_openai.responder = lambda messages: "Final Answer: É o Kit Verão."
    hub = factory(tmp_path, fake_openai, llm_vision=True).hub("retail")
    turn = Turn(message="Vocês têm esse? [imagem]", images=(url,), sees_images=True)
    assert hub.run(turn).reply == "É o Kit Verão."
    (part,) = image_parts_sent(fake_openai)
    assert part["image_url"]["url"] == f"data:image/png;base64,{base64.b64encode(PNG).decode()}"
    user = next(
        m for m in fake_openai.requests[-1]["body"]["messages"] if isinstance(m["content"], list)
    )
    assert user["role"] == "user" and user["content"][0]["type"] == "text"
    assert "Vocês têm esse?" in user["content"][0]["text"]


def test_a_model_not_known_to_see_gets_no_image_part(
    tmp_path: Path, fake_openai: FakeOpenAI, fake_chatwoot: FakeChatwoot
) -> None:
    url = fake_chatwoot.serve_file("/blobs/produto.png", PNG, "image/png")
    hub = factory(tmp_path, fake_openai).hub("retail")
    hub.run(Turn(message="Vocês têm esse? [imagem]", images=(url,)))
    assert fake_openai.requests and image_parts_sent(fake_openai) == []
    assert not [r for r in fake_chatwoot.requests() if r["path"] == "/blobs/produto.png"]


def test_a_picture_that_cannot_be_fetched_is_sent_by_its_url(fake_chatwoot: FakeChatwoot) -> None:
    missing = f"{fake_chatwoot.url}/blobs/gone.jpg"
    assert image_parts([missing]) == [{"type": "image_url", "image_url": {"url": missing}}]


@pytest.mark.parametrize(
    ("model", "domain_says", "env_says", "sees"),
    [
        ("openai/gpt-4o-mini", None, None, True),
        ("ollama/llava:13b", None, None, True),
        ("ollama/llama3.2-vision", None, None, True),
        ("ollama/llama3.1", None, None, False),
        ("openai/local-model", None, True, True),
        ("openai/gpt-4o", False, None, False),
        ("openai/local-model", True, False, True),
        ("offline", True, True, False),
    ],
)
def test_which_models_are_shown_pictures(
    model: str, domain_says: bool | None, env_says: bool | None, sees: bool, tmp_path: Path
) -> None:
    from dataclasses import replace

    retail = DomainRegistry(SAMPLE_DOMAINS).get("retail")
    llm = retail.spec.llm.model_copy(update={"vision": domain_says})
    domain = replace(retail, spec=retail.spec.model_copy(update={"llm": llm}))
    settings = Settings(data_dir=tmp_path, llm_vision=env_says)
    assert sees_images(domain, settings, model) is sees

"""Pictures for models that see: which models do, and the image parts of their prompt.

A customer's picture arrives as a Chatwoot `data_url`, often on a host only the
worker reaches (a self-hosted Chatwoot on a private network): so the worker
fetches it and sends it inline (`data:` URL), as OpenAI-compatible servers
(OpenAI, Ollama, vLLM) all accept in an `image_url` content part. A picture that
cannot be fetched goes by its URL, for a provider that may reach it.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from typing import Any

import httpx
import structlog
from crewai.llms.providers.openai.completion import OpenAICompletion
from pydantic import Field

from hub import defaults
from hub.crews.pooled import PooledOpenAICompletion
from hub.domains.domain import Domain
from hub.settings import Settings

log = structlog.get_logger(__name__)

VISION_MODELS = re.compile(
    r"gpt-4o|gpt-4\.1|gpt-4-turbo|gpt-5|\bo[134]\b|o[34]-mini|claude-(3|sonnet|opus|haiku)"
    r"|gemini|llava|bakllava|vision|-vl\b|qwen2\.5vl|minicpm-v|moondream|pixtral|gemma3"
    r"|llama4",
    re.IGNORECASE,
)
"""Model names that take images (OpenAI's, Anthropic's, Google's, and Ollama's vision
models); `llm.vision` (or CHATWOOTAI_LLM_VISION) says so for any other."""

FETCH_TIMEOUT_SECONDS = 10.0
IMAGE_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


def sees_images(domain: Domain, settings: Settings, model: str) -> bool:
    """Whether `model`, the domain's, is sent pictures: the domain's `llm.vision`, else
    CHATWOOTAI_LLM_VISION, else its name; the offline model never is."""
    if model == "offline":
        return False
    if domain.spec.llm.vision is not None:
        return domain.spec.llm.vision
    if settings.llm_vision is not None:
        return settings.llm_vision
    return bool(VISION_MODELS.search(model))


def image_parts(urls: Sequence[str], *, client: httpx.Client | None = None) -> list[dict[str, Any]]:
    """One `image_url` content part per picture, fetched and inlined when possible."""
    parts = []
    with client or httpx.Client(timeout=FETCH_TIMEOUT_SECONDS, follow_redirects=True) as http:
        for url in urls:
            parts.append({"type": "image_url", "image_url": {"url": _inline(http, url)}})
    return parts


def with_images(messages: list[Any], parts: Sequence[dict[str, Any]]) -> list[Any]:
    """The messages with the pictures beside the first user message (the task's
    prompt, which carries the customer's words): text first, then each image."""
    if not parts:
        return messages
    result = list(messages)
    for index, message in enumerate(result):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        text = [{"type": "text", "text": content}] if isinstance(content, str) else list(content)
        result[index] = {**message, "content": [*text, *parts]}
        break
    return result


class VisionMixin:
    """A provider model that shows the turn's pictures with the prompt."""

    def _format_messages(self, messages: Any, *, file_api: str | None = None) -> Any:
        formatted = super()._format_messages(messages, file_api=file_api)  # type: ignore[misc]
        return with_images(formatted, getattr(self, "image_parts", ()))


class VisionCompletion(VisionMixin, OpenAICompletion):
    """`OpenAICompletion` with the turn's pictures."""

    image_parts: list[dict[str, Any]] = Field(default_factory=list)


class PooledVisionCompletion(VisionMixin, PooledOpenAICompletion):
    """`PooledOpenAICompletion` with the turn's pictures."""

    image_parts: list[dict[str, Any]] = Field(default_factory=list)


def _inline(http: httpx.Client, url: str) -> str:
    """The picture as a `data:` URL; its own URL when it cannot be fetched whole."""
    try:
        with http.stream("GET", url) as response:
            response.raise_for_status()
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > defaults.MAX_IMAGE_BYTES:
                    log.warning("picture too large to inline; sent by its URL")
                    return url
    except httpx.HTTPError as error:
        log.warning("picture could not be fetched; sent by its URL", error=str(error)[:200])
        return url
    kind = response.headers.get("content-type", "").split(";")[0].strip()
    if not kind.startswith("image/"):
        extension = url.rsplit("?", 1)[0].rsplit(".", 1)[-1].lower()
        kind = IMAGE_TYPES.get(extension, "image/jpeg")
    return f"data:{kind};base64,{base64.b64encode(bytes(body)).decode()}"

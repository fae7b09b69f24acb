"""Choosing the model of a turn: the built-in offline model or a real provider.

`CHATWOOTAI_LLM=offline` (the default) answers from the domain's knowledge with
no network. Anything else goes through CrewAI's own clients: `openai/<model>`
for OpenAI and every OpenAI-compatible server (with CHATWOOTAI_LLM_BASE_URL),
`ollama/<model>` for Ollama's OpenAI-compatible endpoint, and the other native
providers CrewAI knows. Every real model gets a timeout and a token cap: without
them one call can hang for minutes.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from hub.crews.toolcalls import default_mode
from hub.domains.domain import Domain
from hub.patches.crewai import OPENAI_CLIENTS
from hub.settings import Settings

if TYPE_CHECKING:
    from crewai.llms.base_llm import BaseLLM

    from hub.knowledge.lexical import LexicalIndex
    from hub.turn import TurnContext

OFFLINE = "offline"
OLLAMA_DEFAULT_URL = "http://localhost:11434/v1"


def model_name(domain: Domain, settings: Settings) -> str:
    """The model the domain uses: its own `llm.model`, else CHATWOOTAI_LLM."""
    return domain.spec.llm.model or settings.llm


def is_offline(domain: Domain, settings: Settings) -> bool:
    return model_name(domain, settings) == OFFLINE


MILLION = Decimal(1_000_000)


def turn_cost(domain: Domain, settings: Settings, usage: Mapping[str, Any]) -> Decimal | None:
    """What a turn's model calls cost in USD: nothing for the offline model, the tokens
    at the configured prices (CHATWOOTAI_LLM_PRICE_INPUT/OUTPUT, per million) for a real
    one, None when no price is configured (OpenAI-compatible servers report tokens, not
    money)."""
    if is_offline(domain, settings):
        return Decimal(0)
    prices = (settings.llm_price_input, settings.llm_price_output)
    if prices == (None, None):
        return None
    tokens = (int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0))
    cost = sum(
        (
            Decimal(count) * (price or Decimal(0)) / MILLION
            for count, price in zip(tokens, prices, strict=True)
        ),
        Decimal(0),
    )
    return cost.quantize(Decimal("0.000001"))


def build_llm(
    domain: Domain,
    settings: Settings,
    *,
    question: str,
    knowledge: LexicalIndex,
    context: TurnContext | None = None,
    model: str | None = None,
    images: Sequence[str] = (),
    max_tokens: int | None = None,
) -> BaseLLM:
    """A model for one turn; the offline one needs the question, the domain's knowledge
    and the turn's context (where the tools record their typed results). `images`: the
    customer's pictures, shown to a model that sees (`hub.crews.vision`); `max_tokens`:
    a lower cap than the configured one, for a call whose answer is short."""
    name = model or model_name(domain, settings)
    if name == OFFLINE:
        from hub.offline.model import OfflineLLM

        return OfflineLLM(
            knowledge,
            question=question,
            unknown_reply=domain.spec.messages.unknown,
            unknown_replies=domain.spec.messages.unknown.translations,
            language=domain.spec.language,
            aliases=domain.spec.knowledge.aliases,
            context=context,
        )
    return provider_llm(name, domain, settings, images=images, max_tokens=max_tokens)


def provider_llm(
    name: str,
    domain: Domain,
    settings: Settings,
    *,
    images: Sequence[str] = (),
    max_tokens: int | None = None,
) -> BaseLLM:
    """A real provider through CrewAI, with timeout, token cap and temperature.

    OpenAI-compatible models run a tool call however the model writes it
    (`hub.crews.calling`, mode `llm.tool_calling`).

    OpenAI-compatible models (`openai/…`, `ollama/…`) share one HTTP client per
    endpoint and process (`hub.crews.pooled`, while `hub.patches.crewai.OPENAI_CLIENTS`
    is installed): building OpenAI's clients costs more CPU per turn (TLS set-up)
    than CrewAI's whole kickoff.
    """
    options = domain.spec.llm
    base_url = settings.llm_base_url
    api_key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    configured = options.tool_calling or settings.llm_tool_calling
    configured_cap = options.max_tokens or settings.llm_max_tokens
    tool_calling = configured or default_mode(name)
    if name.startswith("ollama/"):
        name = "openai/" + name.removeprefix("ollama/")
        base_url = base_url or OLLAMA_DEFAULT_URL
        api_key = api_key or "ollama"
    common: dict[str, Any] = {
        "timeout": options.timeout_seconds or settings.llm_timeout_seconds,
        "max_tokens": min(max_tokens or configured_cap, configured_cap),
        "temperature": options.temperature if options.temperature is not None else 0.2,
        "max_retries": 0,  # the agent retries once (factory.MODEL_ATTEMPTS)
    }
    if name.startswith("openai/"):
        from hub.crews import vision
        from hub.crews.calling import PooledToolCallingCompletion, ToolCallingCompletion

        if images and vision.sees_images(domain, settings, name):
            seeing = (
                vision.PooledVisionCompletion
                if OPENAI_CLIENTS.installed
                else vision.VisionCompletion
            )
            return seeing(
                model=name.removeprefix("openai/"),
                provider="openai",
                base_url=base_url,
                api_key=api_key,
                image_parts=vision.image_parts(images),
                **common,
            )
        completion = (
            PooledToolCallingCompletion if OPENAI_CLIENTS.installed else ToolCallingCompletion
        )
        return completion(
            model=name.removeprefix("openai/"),
            provider="openai",
            base_url=base_url,
            api_key=api_key,
            tool_calling=tool_calling,
            tool_calling_configured=configured is not None,
            **common,
        )
    from crewai import LLM

    llm: BaseLLM = LLM(model=name, base_url=base_url, api_key=api_key, **common)
    return llm


def warm(domain: Domain, settings: Settings) -> None:
    """Build the domain's provider model once at start, so the first customers do not
    pay for it: its shared HTTP clients, and the OpenAI SDK's resources, which it
    imports on the first call (measured ~2 s of CPU, with every thread of a fresh
    worker queued on the import lock)."""
    if is_offline(domain, settings):
        return
    name = model_name(domain, settings)
    release(provider_llm(name, domain, settings))
    if name.startswith(("openai/", "ollama/")):
        importlib.import_module("openai.resources.chat")


def release(llm: BaseLLM) -> None:
    """Close the HTTP pool a provider model opened for one turn.

    Each turn gets its own model object (CrewAI counts tokens per instance), and
    CrewAI never closes the OpenAI client it builds: without this, every turn
    would leave its connections to the garbage collector.
    """
    from hub.crews.pooled import PooledOpenAICompletion

    if isinstance(llm, PooledOpenAICompletion):
        return  # its clients are shared by the process
    client = getattr(llm, "_client", None)
    close = getattr(client, "close", None)
    if callable(close):
        close()


class TurnModels:
    """The models of one turn: the domain's own, plus any an agent names in its `llm`.

    Each is built on first use and all are released together when the turn ends
    (`with TurnModels(...) as models:`).
    """

    def __init__(
        self,
        domain: Domain,
        settings: Settings,
        *,
        question: str,
        knowledge: LexicalIndex,
        context: TurnContext | None = None,
        images: Sequence[str] = (),
        max_tokens: int | None = None,
    ) -> None:
        self.domain = domain
        self.max_tokens = max_tokens
        """A lower token cap for every call of these models (None: the configured one)."""
        self.images = tuple(images)
        """The customer's pictures, for the domain's model if it sees."""
        self.settings = settings
        self.question = question
        self.knowledge = knowledge
        self.context = context
        """The turn's context, for the offline model to read the tools' results from."""
        self._made: dict[str | None, BaseLLM] = {}

    def __call__(self, name: str | None = None) -> BaseLLM:
        """The model called `name` (None: the domain's), built once per turn."""
        if name not in self._made:
            self._made[name] = build_llm(
                self.domain,
                self.settings,
                question=self.question,
                knowledge=self.knowledge,
                context=self.context,
                model=name,
                images=self.images if name is None else (),
                max_tokens=self.max_tokens,
            )
        return self._made[name]

    def __enter__(self) -> TurnModels:
        return self

    def __exit__(self, *_: object) -> None:
        for llm in self._made.values():
            release(llm)
        self._made.clear()

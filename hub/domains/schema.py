"""Pydantic models of `domain.yaml` and `crews/*.yaml`.

Every model forbids unknown keys, so a typo is an error, never a silently
ignored setting. Cross-references (a task's agent, a route's crew, a tool) are
checked in `validation.py`, where the whole document is known.
"""

from __future__ import annotations

import datetime
import re
import zoneinfo
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from hub import defaults
from hub.domains.localized import Localized, domain_language_first
from hub.domains.vocabulary import DOMAIN_ID, ENV_VAR_NAME, IDENTIFIER, WEEKDAYS


class StrictModel(BaseModel):
    """Base of every domain model: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _time_range(value: str) -> str:
    match = re.fullmatch(r"(\d{2}):(\d{2})-(\d{2}):(\d{2})", value)
    if match is None:
        raise ValueError("a time range must look like 09:00-18:00")
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    if not (0 <= h1 <= 23 and 0 <= h2 <= 24 and m1 < 60 and m2 < 60):
        raise ValueError(f"{value} is not a valid time of day range")
    if h2 * 60 + m2 <= h1 * 60 + m1 or h2 * 60 + m2 > 24 * 60:
        raise ValueError(f"{value} ends before it starts (ranges cannot cross midnight)")
    return value


def _timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from error
    return value


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as error:
        raise ValueError(f"invalid regular expression: {error}") from error
    return value


def _pattern(regex: re.Pattern[str], what: str) -> AfterValidator:
    def check(value: str) -> str:
        if not regex.fullmatch(value):
            raise ValueError(f"{value!r} is not a valid {what} (pattern {regex.pattern})")
        return value

    return AfterValidator(check)


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
TimeRange = Annotated[str, AfterValidator(_time_range)]
Timezone = Annotated[str, AfterValidator(_timezone)]
Regex = Annotated[str, AfterValidator(_regex)]
Identifier = Annotated[str, _pattern(IDENTIFIER, "name")]
DomainId = Annotated[str, _pattern(DOMAIN_ID, "domain id")]
EnvVarName = Annotated[str, _pattern(ENV_VAR_NAME, "environment variable name")]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
assert Weekday.__args__ == WEEKDAYS  # type: ignore[attr-defined]


class ChatwootMapping(StrictModel):
    """Which Chatwoot conversations belong to the domain, and where its secrets are."""

    account_id: int | None = Field(default=None, gt=0)
    inbox_ids: list[Annotated[int, Field(gt=0)]] = Field(default_factory=list)
    token_env: EnvVarName | None = None
    webhook_secret_env: EnvVarName | None = None


class BusinessHours(StrictModel):
    """When humans answer; used for handoff messages and after-hours behaviour."""

    weekly: dict[Weekday, list[TimeRange]] = Field(default_factory=dict)
    holidays: list[datetime.date] = Field(default_factory=list)
    holiday_hours: list[TimeRange] = Field(default_factory=list)


class Messages(StrictModel):
    """Fixed texts the bot sends without asking a model, each with its translations
    (`hub.domains.localized`: a string, or a mapping language → text)."""

    fallback: Localized
    handoff: Localized
    after_hours: Localized
    unknown: Localized
    audio_unsupported: Localized = Localized(defaults.AUDIO_UNSUPPORTED_MESSAGE)
    """A voice note nobody could transcribe: asks the customer to write."""
    image_unsupported: Localized = Localized(defaults.IMAGE_UNSUPPORTED_MESSAGE)
    """A picture alone, to a model that cannot see: asks the customer to describe it."""
    limit: Localized = Localized(defaults.LIMIT_MESSAGE)
    """The domain is over one of its `limits:`: a person takes over."""


class HandoffRule(StrictModel):
    """A domain rule: matching customer text gets `reply` and goes to a human at once."""

    name: Identifier
    patterns: list[Regex] = Field(min_length=1)
    reply: Localized
    urgent: bool = True


class Handoff(StrictModel):
    """When and how a conversation goes to a human."""

    keywords: list[Text] = Field(default_factory=list)
    max_failures: int = Field(default=2, ge=1)
    team_id: int | None = Field(default=None, gt=0)
    assignee_id: int | None = Field(default=None, gt=0)
    labels: list[Text] = Field(default_factory=list)
    rules: list[HandoffRule] = Field(default_factory=list)


class Limits(StrictModel):
    """What one tenant may use of the deployment; unset: no limit. Over a rate or budget
    limit, the customer gets `messages.limit` and a person takes over
    (`hub.conversation.limits`); over `max_concurrent`, its turns wait their turn."""

    messages_per_minute: int | None = Field(default=None, ge=1, le=100_000)
    """Customer messages the bot answers per minute (all the domain's conversations)."""
    tokens_per_day: int | None = Field(default=None, ge=1)
    """Model tokens (prompt and completion) the domain's turns may spend per UTC day."""
    max_concurrent: int | None = Field(default=None, ge=1, le=1000)
    """Turns of this domain at the same time on a shared queue, across every worker
    (unset: CHATWOOTAI_TENANT_MAX_CONCURRENT). A dedicated queue is not capped: its
    workers are its own."""


class Switching(StrictModel):
    """How an agent moves a conversation to another domain from Chatwoot."""

    labels: dict[str, DomainId] = Field(default_factory=dict)
    custom_attribute: Text | None = None


class Route(StrictModel):
    """One specialist the hub can send a message to."""

    crew: Identifier
    description: Text
    examples: list[Text] = Field(default_factory=list)
    keywords: list[Text] = Field(default_factory=list)


class Routing(StrictModel):
    """The hub's routes and its fallback."""

    default: Identifier
    min_confidence: float = Field(default=0.35, ge=0, le=1)
    routes: dict[Identifier, Route] = Field(min_length=1)


class LLMSettings(StrictModel):
    """Per-domain model settings; unset fields use the global ones."""

    model: Text | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, gt=0)
    timeout_seconds: float | None = Field(default=None, gt=0)
    vision: bool | None = None
    """The model sees pictures (they are sent to it as image parts); unset: known
    vision models (`hub.crews.vision.VISION_MODELS`) do, the offline model never."""
    tool_calling: Literal["native", "json", "react"] | None = None
    """How the model is asked for tool calls (`hub.crews.toolcalls.ToolCalling`); unset:
    `json` for `ollama/…` models, `native` for the others."""


class ConversationSettings(StrictModel):
    """How messages of one conversation are grouped and remembered."""

    burst_window_seconds: float = Field(default=3.0, ge=0, le=20)
    """Quiet time that ends a burst of customer messages (0: answer each at once)."""
    max_burst_seconds: float = Field(default=20.0, gt=0, le=120)
    """A burst that keeps going is answered this long after its first message."""
    max_burst_messages: int = Field(default=20, ge=1, le=100)
    """…or as soon as it holds this many messages."""
    history_turns: int = Field(default=10, ge=0, le=50)
    transcription_wait_seconds: float = Field(
        default=defaults.TRANSCRIPTION_WAIT_SECONDS, ge=0, le=120
    )
    """How long a voice note waits for Chatwoot's transcription (0: not at all)."""
    late_reply_seconds: float = Field(default=defaults.LATE_REPLY_SECONDS, ge=0)
    """A reply posted this long after the customer's last message is late (a Chatwoot
    outage held it back): it opens with `late_reply_apology` (0: never late)."""
    late_reply: Literal["apologize", "handoff"] = "apologize"
    """What a late reply does: `apologize` (the apology, then the answer), or `handoff`
    (the same text, and the conversation goes to a person, who checks it)."""
    late_reply_apology: str = Field(
        default=defaults.LATE_REPLY_APOLOGY, min_length=1, max_length=500
    )


class Knowledge(StrictModel):
    """Where the domain's knowledge documents are, relative to its folder, and the
    customers' words for what they name (`hub.knowledge.glossary`)."""

    paths: list[Text] = Field(default_factory=lambda: ["knowledge/*.md"])
    aliases: dict[Text, Text] = Field(default_factory=dict)
    """What customers say → what the documents say ("rímel" → "máscara de cílios"):
    the offline model searches with the documents' words."""


class CacheSettings(StrictModel):
    """What the domain lets be served again (`hub.crews.answer_cache`): answers to
    questions that depend only on its knowledge, and the passages found for a query."""

    answers: bool = defaults.ANSWER_CACHE
    """Serve a stored answer to the same question (or a close paraphrase) again."""
    ttl_seconds: int = Field(default=defaults.ANSWER_CACHE_TTL_SECONDS, ge=1, le=30 * 24 * 3600)
    """How long a stored answer may be served."""
    threshold: float = Field(default=defaults.ANSWER_CACHE_THRESHOLD, ge=0.5, le=1)
    """Cosine of the question's embedding to a stored one's at or above which it is
    the same question (the documents' words of both must be the same too)."""
    retrieval: bool = True
    """Keep the passages found for a query in the process (`hub.knowledge.retrieval_cache`)."""


class AgentSpec(StrictModel):
    """A CrewAI agent, in CrewAI's own keys."""

    role: Text
    goal: Text
    backstory: Text
    tools: list[str] = Field(default_factory=list)
    allow_delegation: bool = False
    max_iter: int | None = Field(default=None, ge=1, le=50)
    verbose: bool = False
    llm: Text | None = None


class TaskSpec(StrictModel):
    """A CrewAI task, in CrewAI's own keys."""

    description: Text
    expected_output: Text
    agent: str
    context: list[str] = Field(default_factory=list)
    tools: list[str] = Field(default_factory=list)


class CrewSpec(StrictModel):
    """One crew: its agents and the tasks they run, in order."""

    description: str = ""
    process: Literal["sequential", "hierarchical"] = "sequential"
    agents: dict[Identifier, AgentSpec] = Field(min_length=1)
    tasks: dict[Identifier, TaskSpec] = Field(min_length=1)


class DomainSpec(StrictModel):
    """A whole domain after inheritance: `domain.yaml` plus its `crews/*.yaml`."""

    extends: DomainId | None = None
    name: Text
    description: str = ""
    language: Text = "pt-BR"
    timezone: Timezone = "America/Sao_Paulo"
    chatwoot: ChatwootMapping = Field(default_factory=ChatwootMapping)
    business_hours: BusinessHours = Field(default_factory=BusinessHours)
    messages: Messages
    handoff: Handoff = Field(default_factory=Handoff)
    switching: Switching = Field(default_factory=Switching)
    routing: Routing
    llm: LLMSettings = Field(default_factory=LLMSettings)
    conversation: ConversationSettings = Field(default_factory=ConversationSettings)
    knowledge: Knowledge = Field(default_factory=Knowledge)
    queue: Literal["shared", "dedicated"] = "shared"
    """`shared`: one of the shard queues, claimed fairly among its tenants;
    `dedicated`: a queue of its own, `chatwootai.<domain>` (workers can be pinned to it)."""
    limits: Limits = Field(default_factory=Limits)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    crews: dict[Identifier, CrewSpec] = Field(min_length=1)
    plugins: dict[str, dict[str, Any] | None] = Field(default_factory=dict)
    """Plugin name → its settings (validated by the plugin's own model, see
    `validation.check_plugins`); the order is the order plugins are called in."""

    @model_validator(mode="before")
    @classmethod
    def _translations_start_with_the_domain_language(cls, data: Any) -> Any:
        """A fixed text given as a mapping holds the domain's `language`, put first."""
        return domain_language_first(data)

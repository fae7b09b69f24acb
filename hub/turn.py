"""The turn's types: one customer turn, what the crew returns for it, and what was decided.

These sit below everything that takes part in a turn (the crews, the plugins,
the conversation rules, the worker, `chatwootai chat` and `chatwootai test`),
so each of them imports the same types downwards. Nothing here imports from
the rest of the hub.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

RoutedBy = Literal["classifier", "follow_up", "llm", "default", "plugin"]
"""Who chose the crew's route: the router, a short reply to the bot's question, the
hub model, the domain's default, or a plugin that answered without the crew."""

HandoffKind = Literal["rule", "customer_asked", "crew", "plugin", "failure", "unanswered"]
"""Why a conversation goes to a human, as the metrics label it."""

HANDOFF_ROUTE = "handoff"
"""The route a handoff is recorded under (and reported for rules, which run no crew)."""


@dataclass(frozen=True)
class Turn:
    """One customer turn: the message (or burst) and what the prompt needs around it."""

    message: str
    history: tuple[tuple[str, str], ...] = ()
    """(role, text) pairs, oldest first; role is `customer` or `bot`."""
    customer_name: str = ""
    channel: str = ""
    now: datetime | None = None
    account_id: int | None = None
    conversation_id: int | None = None
    previous_route: str | None = None
    """The route of the conversation's last turn, if it is known."""


@dataclass(frozen=True)
class ToolResult:
    """What one tool call returned, as data: the offline model answers from it.

    `kind` names the shape of `data` (`order`, `slots`, `products`, `booking`…,
    documented where each tool builds it); `text` is the observation the model
    reads in its prompt. A tool without a typed result leaves `data` empty.
    """

    tool: str
    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    text: str = ""


@dataclass
class TurnContext:
    """What the tools of one turn share: who the turn is for, and what they found."""

    domain_id: str
    account_id: int | None = None
    conversation_id: int | None = None
    customer_name: str = ""
    """The contact's name, as Chatwoot gives it: whom a booking is for unless told otherwise."""
    handoff_reason: str | None = None
    tool_calls: list[str] = field(default_factory=list)
    tool_failures: list[str] = field(default_factory=list)
    """Tools whose system failed (database, ERP): the turn ends with the fallback
    message and a handoff, since a reply without the data may be wrong."""
    results: list[ToolResult] = field(default_factory=list)
    """Each tool call's typed result, in call order."""

    def failed(self, tool: str, error: BaseException) -> None:
        """Record that `tool` could not reach what it needs."""
        self.tool_failures.append(f"{tool}: {type(error).__name__}: {str(error)[:200]}")

    def returned(self, result: ToolResult) -> None:
        """Record a tool call's typed result."""
        self.results.append(result)


@dataclass(frozen=True)
class HubResult:
    """The reply, the route that produced it, and what it cost."""

    reply: str
    route: str
    routed_by: RoutedBy
    route_confidence: float
    crew_seconds: float
    usage: dict[str, Any] = field(default_factory=dict)
    handoff_reason: str | None = None
    tool_calls: tuple[str, ...] = ()
    tool_failures: tuple[str, ...] = ()
    """Tools whose system failed during the turn (see `TurnContext.failed`)."""
    urgent: bool = False
    """A plugin asked for the conversation's priority to be raised (`before_crew`)."""


@dataclass(frozen=True)
class Draft:
    """What a turn decided for Chatwoot: the text for the customer, and a handoff if any."""

    text: str
    handoff_reason: str | None = None
    urgent: bool = False
    kind: HandoffKind | None = None
    """Why the handoff happens (metrics label it so); None for a plain reply."""

    @property
    def hands_off(self) -> bool:
        """Whether the conversation goes to a human after this text."""
        return self.handoff_reason is not None


@dataclass(frozen=True)
class Decision:
    """What `hub.conversation.decision.decide` made of a turn, and why.

    `draft` is what Chatwoot is asked to do. `misses` is the conversation's count
    of unanswered turns in a row after this one (0 once a real answer is given),
    for the caller to keep; `failure` is the metrics label of what went wrong.
    """

    draft: Draft
    route: str | None = None
    """The crew's route; None when no crew ran (a rule or the customer's request)."""
    routed_by: RoutedBy | Literal["rule"] | None = None
    result: HubResult | None = None
    """The crew's result, when it ran and answered."""
    misses: int = 0
    miss: bool = False
    """The crew's reply was the domain's "I don't know"."""
    failure: str | None = None
    """`model_timeout`, `model_error`, `crew_error` or `tool_error`."""
    error: str | None = None
    """The crew's exception, as `Type: message`, when it raised."""
    exception: BaseException | None = field(default=None, compare=False, repr=False)
    """The exception itself, for a log line with its traceback."""

    @property
    def crew_ran(self) -> bool:
        """Whether the crew ran for this turn (it did not for rules and requests)."""
        return self.routed_by != "rule"

    @property
    def foldable(self) -> bool:
        """Whether newer messages would send this turn back to the crew: a crew reply,
        not a handoff the rules, the crew or a failure decided."""
        return (
            self.crew_ran
            and self.failure is None
            and (not self.draft.hands_off or self.draft.kind == "unanswered")
        )

    @property
    def recorded_route(self) -> str | None:
        """The route the turn is stored under: `handoff` for a handoff."""
        return HANDOFF_ROUTE if self.draft.hands_off else self.route

    @property
    def usage(self) -> dict[str, Any]:
        """The crew's token usage (empty when no crew answered)."""
        return self.result.usage if self.result is not None else {}

"""The turn's types: one customer turn, what the crew returns for it, and what was decided.

These sit below everything that takes part in a turn (the crews, the plugins,
the conversation rules, the worker, `chatwootai chat` and `chatwootai test`),
so each of them imports the same types downwards. Nothing here imports from
the rest of the hub.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal

RoutedBy = Literal["classifier", "follow_up", "llm", "default", "plugin"]
"""Who chose the crew's route: the router, a short reply to the bot's question, the
hub model, the domain's default, or a plugin that answered without the crew."""

HandoffKind = Literal[
    "rule", "customer_asked", "crew", "plugin", "failure", "unanswered", "late", "limit"
]
"""Why a conversation goes to a human, as the metrics label it."""

ReplySource = Literal["model", "retry", "offline", "unknown", "handoff", "cache"]
"""Who wrote the reply posted: the model, the model again after the reply gate refused
its first reply, the offline model's extractive answer, the domain's unknown message,
the domain's handoff message (a refused reply of a turn that hands off), or the answer
cache (a stored answer to the same question, `hub.crews.answer_cache`)."""

CacheOutcome = Literal["hit", "miss", "store", "skip"]
"""What the answer cache did for a turn (`chatwootai_answer_cache_total{result}`): served
it; had nothing for it and its answer could not be stored; stored its answer; or the turn
took no part (pictures, history, personal data, moment)."""

HANDOFF_ROUTE = "handoff"
"""The route a handoff is recorded under (and reported for rules, which run no crew)."""


@dataclass(frozen=True)
class Turn:
    """One customer turn: the message (or burst) and what the prompt needs around it."""

    message: str
    history: tuple[tuple[str, str], ...] = ()
    """(role, text) pairs, oldest first; role is `customer` or `bot`."""
    customer_name: str = ""
    contact_phone: str = ""
    """The contact's phone and e-mail as Chatwoot knows them (the channel vouches for a
    WhatsApp number): who may be told an order's details."""
    contact_email: str = ""
    channel: str = ""
    now: datetime | None = None
    account_id: int | None = None
    conversation_id: int | None = None
    previous_route: str | None = None
    """The route of the conversation's last turn, if it is known."""
    images: tuple[str, ...] = ()
    """The URLs of the pictures the customer sent in this turn."""
    sees_images: bool = False
    """The domain's model is shown those pictures (`hub.crews.vision.sees_images`)."""
    media_only: bool = False
    """The customer wrote nothing: `message` only names the attachments."""
    unheard_audio: bool = False
    """A voice note of the turn has no transcript (nobody could hear it)."""


# --- What the tools return, as data ------------------------------------------------------
#
# A tool records one ToolResult per call on the turn's context (`TurnContext.returned`),
# beside the text CrewAI shows the model. `ToolResult.data` is one of the shapes below,
# each named by its `kind`; the built-in offline model (`hub.offline`) answers from it
# instead of reading the text back. Fields named `line` or `problem` are the tool's own
# wording, quoted as they are; every decision is made from the other fields.


@dataclass(frozen=True)
class OrderData:
    """`order` (`order_status`): an order looked up by its number.

    `found` is False when no order has that number, or the number is malformed;
    `status` is the state as the customer reads it ("saiu para entrega").
    `verified` is False when the order exists but the contact asking is not shown
    to be its customer (phone or e-mail): `status` and `note` are then empty, and
    the tool's text asks for confirmation or says a person will take over.
    """

    kind: ClassVar[str] = "order"

    number: str
    found: bool
    status: str = ""
    note: str = ""
    verified: bool = True


@dataclass(frozen=True)
class ProductData:
    """One catalogue item; `line` is how the tool wrote it ("SKU — name — R$ price — stock")."""

    sku: str
    name: str
    price: Decimal
    stock: int
    line: str
    restock_note: str = ""


@dataclass(frozen=True)
class ProductsData:
    """`products` (`product_search`, `product_lookup`): the items found for `query`
    (search words or a SKU), best first; empty when none matched."""

    kind: ClassVar[str] = "products"

    query: str
    items: tuple[ProductData, ...] = ()


@dataclass(frozen=True)
class SlotData:
    """One free slot; `line` is how the tool wrote it ("sexta-feira, 04/12/2026 às 08:00 —
    Dra. Carla Mendes (Dermatologia)"). `starts_at` is aware, in the domain's time zone."""

    starts_at: datetime
    professional: str
    specialty: str
    line: str


@dataclass(frozen=True)
class SlotsData:
    """`slots` (`appointment_slots`): free slots of `who`, preferably at `when`.

    `matched` is False when no professional or specialty is `who`. `fits` is False
    when none of the free slots fit `when`: `slots` are then other free slots, and
    `problem` is the tool's sentence saying so. `slots` is empty when nothing is
    free (or nobody matched).
    """

    kind: ClassVar[str] = "slots"

    who: str
    when: str = ""
    matched: bool = True
    fits: bool = True
    slots: tuple[SlotData, ...] = ()
    problem: str = ""


BookingOutcome = Literal["booked", "taken", "unavailable", "unclear_time", "unclear_who"]
"""What became of a booking: made; the slot was just taken by someone else; the
professional has no free slot then; the date and time could not be read; the
professional named matches nobody, or several people."""


@dataclass(frozen=True)
class BookingData:
    """`booking` (`book_appointment`): the outcome of one booking request.

    For `taken` and `unavailable`, `problem` is the tool's sentence saying why and
    `alternatives` other free slots of the same professional (possibly none).
    """

    kind: ClassVar[str] = "booking"

    outcome: BookingOutcome
    professional: str
    starts_at: datetime | None = None
    patient: str = ""
    appointment_id: int | None = None
    problem: str = ""
    alternatives: tuple[SlotData, ...] = ()


@dataclass(frozen=True)
class AppointmentData:
    """A booked appointment: with whom and when (aware, in the domain's time zone)."""

    professional: str
    specialty: str
    starts_at: datetime


CancellationOutcome = Literal["cancelled", "unclear", "nothing", "refused"]
"""What became of a cancellation: done; several appointments (or none of them)
fit what was asked, so the customer must say which; nothing is booked in this
conversation; the store refused it."""


@dataclass(frozen=True)
class CancellationData:
    """`cancellation` (`cancel_appointment`): the outcome of one cancellation request.

    `cancelled` and `fee_applies` are set when it was done; `booked` lists the
    conversation's appointments when the customer must say which one.
    """

    kind: ClassVar[str] = "cancellation"

    outcome: CancellationOutcome
    cancelled: AppointmentData | None = None
    fee_applies: bool = False
    booked: tuple[AppointmentData, ...] = ()


@dataclass(frozen=True)
class PassageData:
    """One passage of the domain's knowledge: its file, its heading path and its text."""

    source: str
    heading: str
    text: str


@dataclass(frozen=True)
class PassagesData:
    """`passages` (`knowledge_search`): the passages found for `query`, best first."""

    kind: ClassVar[str] = "passages"

    query: str
    passages: tuple[PassageData, ...] = ()


@dataclass(frozen=True)
class HandoffData:
    """`handoff` (`handoff`): the agent handed the conversation to a human, and why."""

    kind: ClassVar[str] = "handoff"

    reason: str


ToolData = (
    OrderData
    | ProductsData
    | SlotsData
    | BookingData
    | CancellationData
    | PassagesData
    | HandoffData
)
"""Every typed shape a tool result may carry."""

UNTYPED = "text"
"""The kind of a result without data: only its text (a plugin's HTTP endpoint)."""


@dataclass(frozen=True)
class ToolResult:
    """What one tool call returned: `data` for code, `text` for the model's prompt.

    `text` is the observation CrewAI shows the model; `data` (None for an untyped
    result) holds the same answer as one of the shapes above, named by `kind`.
    """

    tool: str
    data: ToolData | None = None
    text: str = ""

    @property
    def kind(self) -> str:
        """`order`, `products`, `slots`, `booking`, `cancellation`, `passages`,
        `handoff`, or `text` for an untyped result."""
        return self.data.kind if self.data is not None else UNTYPED


@dataclass(frozen=True)
class ToolCall:
    """One tool call of a turn, for its trace: the arguments the model chose, what the
    tool answered (its result's kind and the start of its text), or the error it raised."""

    tool: str
    arguments: dict[str, Any] = field(default_factory=dict)
    kind: str = ""
    summary: str = ""
    error: str | None = None


@dataclass(frozen=True)
class Retrieved:
    """A passage of the domain's knowledge that the turn looked at, for its trace: its
    file, heading, search score, and who searched (`grounding`, `offline`, a tool)."""

    source: str
    heading: str
    score: float
    text: str
    by: str


@dataclass
class TurnContext:
    """What the tools of one turn share: who the turn is for, and what they found."""

    domain_id: str
    account_id: int | None = None
    conversation_id: int | None = None
    customer_name: str = ""
    """The contact's name, as Chatwoot gives it: whom a booking is for unless told otherwise."""
    contact_phone: str = ""
    contact_email: str = ""
    """The contact's phone and e-mail, as Chatwoot gives them ("" when unknown)."""
    handoff_reason: str | None = None
    tool_calls: list[str] = field(default_factory=list)
    tool_failures: list[str] = field(default_factory=list)
    """Tools whose system failed (database, ERP): the turn ends with the fallback
    message and a handoff, since a reply without the data may be wrong."""
    results: list[ToolResult] = field(default_factory=list)
    """Each tool call's typed result, in call order."""
    calls: list[ToolCall] = field(default_factory=list)
    """Each tool call with its arguments and outcome, in call order (the trace's)."""
    retrieved: list[Retrieved] = field(default_factory=list)
    """The knowledge passages the turn's model looked at (the trace's)."""

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
    rejections: tuple[str, ...] = ()
    """Why the reply gate refused the model's replies this turn, in order
    (`hub.crews.screen.Reason`); empty when the first reply passed."""
    source: ReplySource = "model"
    """Who wrote `reply` (see `ReplySource`)."""
    observations: tuple[str, ...] = ()
    """What the turn's tools answered, as the model read it (`ToolResult.text`)."""
    calls: tuple[ToolCall, ...] = ()
    """Each tool call with its arguments and outcome (`TurnContext.calls`)."""
    retrieved: tuple[Retrieved, ...] = ()
    """The knowledge passages the turn looked at, with their scores."""
    model: str = ""
    """The model that answered (`offline` or a provider/model name)."""
    cost_usd: float | None = None
    """What the turn's model calls cost, when the domain or settings give prices."""
    cache: CacheOutcome | None = None
    """What the answer cache did (None: the domain's cache is off, or no cache runs)."""


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
    trace: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """Why the turn went as it did, JSON-able (`hub.trace.Trace.to_json`), set by `decide`."""
    limited: str | None = None
    """The domain limit the turn was over (`messages_per_minute`, `tokens_per_day`)."""

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

"""CrewAI tools the agents of a domain may list under `tools`.

Every tool is built per turn and bound to that turn's domain and conversation:
a tool never takes the domain (or the customer) from model output, so a model
cannot reach another tenant's data whatever it writes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crewai.tools import BaseTool
    from sqlalchemy.engine import Engine

    from hub.crews.factory import DomainKit


@dataclass
class TurnContext:
    """What tools of one turn share: who the turn is for, and what they decided."""

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

    def failed(self, tool: str, error: BaseException) -> None:
        """Record that `tool` could not reach what it needs."""
        self.tool_failures.append(f"{tool}: {type(error).__name__}: {str(error)[:200]}")


def records_failures(
    *errors: type[BaseException],
) -> Callable[[Callable[..., str]], Callable[..., str]]:
    """Decorate a tool's `_run` (the tool has `name` and `context`): these errors (a
    system down, not a customer's typo) are recorded in the turn's context, then raised
    for CrewAI to report to the agent."""

    def decorate(run: Callable[..., str]) -> Callable[..., str]:
        @functools.wraps(run)
        def guarded(self: Any, *args: Any, **kwargs: Any) -> str:
            try:
                return run(self, *args, **kwargs)
            except errors as error:
                self.context.failed(self.name, error)
                raise

        return guarded

    return decorate


def build_tools(
    names: list[str], kit: DomainKit, context: TurnContext, engine: Engine
) -> list[BaseTool]:
    """The tool objects for `names`; names without an implementation yet are skipped."""
    from hub.crews.tools import appointments, business
    from hub.crews.tools.handoff import HandoffTool
    from hub.crews.tools.knowledge import KnowledgeSearchTool

    data = {"engine": engine, "context": context, "timezone": kit.domain.spec.timezone}
    available: dict[str, Any] = {
        "knowledge_search": lambda: KnowledgeSearchTool(index=kit.library, context=context),
        "handoff": lambda: HandoffTool(context=context),
        "product_search": lambda: business.ProductSearchTool(**data),
        "product_lookup": lambda: business.ProductLookupTool(**data),
        "order_status": lambda: business.OrderStatusTool(**data),
        "appointment_slots": lambda: appointments.AppointmentSlotsTool(**data),
        "book_appointment": lambda: appointments.BookAppointmentTool(**data),
        "cancel_appointment": lambda: appointments.CancelAppointmentTool(**data),
    }
    return [available[name]() for name in names if name in available]


IMPLEMENTED = frozenset(
    {
        "knowledge_search",
        "handoff",
        "product_search",
        "product_lookup",
        "order_status",
        "appointment_slots",
        "book_appointment",
        "cancel_appointment",
    }
)
"""Tools with an implementation; a domain naming any other tool gets a warning and
its agents run without it."""

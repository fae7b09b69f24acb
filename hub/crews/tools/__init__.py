"""CrewAI tools the agents of a domain may list under `tools`.

Every tool is built per turn and bound to that turn's domain and conversation:
a tool never takes the domain (or the customer) from model output, so a model
cannot reach another tenant's data whatever it writes.
"""

from __future__ import annotations

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

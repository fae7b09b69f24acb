"""CrewAI tools the agents of a domain may list under `tools`.

Every tool is built per turn and bound to that turn's domain and conversation:
a tool never takes the domain (or the customer) from model output, so a model
cannot reach another tenant's data whatever it writes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hub.crews.tools import appointments, business
from hub.crews.tools.handoff import HandoffTool
from hub.crews.tools.knowledge import KnowledgeSearchTool
from hub.turn import PassageData, TurnContext

if TYPE_CHECKING:
    from crewai.tools import BaseTool
    from sqlalchemy.engine import Engine

    from hub.crews.kit import DomainKit


def build_tools(
    names: list[str],
    kit: DomainKit,
    context: TurnContext,
    engine: Engine,
    shown: tuple[PassageData, ...] = (),
) -> list[BaseTool]:
    """The tool objects for `names`; names without an implementation yet are skipped.
    `shown`: the passages already in the prompt, which `knowledge_search` only names."""
    data = {"engine": engine, "context": context, "timezone": kit.domain.spec.timezone}
    seen = frozenset((p.source, p.heading) for p in shown)
    available: dict[str, Any] = {
        "knowledge_search": lambda: KnowledgeSearchTool(
            index=kit.library, context=context, shown=seen
        ),
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

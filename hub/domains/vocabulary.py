"""The names a domain file may use: tools, prompt placeholders, weekdays.

Validation checks every reference against these tables, so a typo such as
`knowlege_search` is an error at load time instead of a silent missing tool at
the first customer message.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

TOOLS: dict[str, str] = {
    "knowledge_search": "search the domain's knowledge base",
    "product_search": "find catalogue products by words (name, category, use)",
    "product_lookup": "one product by SKU: price, stock, restock note",
    "order_status": "an order's status by its number",
    "appointment_slots": "free appointment slots of a professional or specialty",
    "book_appointment": "book one free slot for the customer",
    "cancel_appointment": "cancel the customer's appointment within the rules",
    "handoff": "hand the conversation to a human, with the reason",
}
"""Built-in tools an agent or task may list under `tools`."""

PLACEHOLDERS: dict[str, str] = {
    "message": "the customer's message, or the burst of messages answered together",
    "history": "the earlier turns of the conversation",
    "customer_name": "the contact's name in Chatwoot",
    "channel": "the Chatwoot channel (WhatsApp, web widget, Instagram…)",
    "business_name": "the domain's `name`",
    "now": "the local date and time in the domain's timezone",
    "routes": "the route list with descriptions (hub crew only)",
    "context": "notes the domain's plugins added for this turn (empty when none)",
}
"""Placeholders filled for every message in crew texts."""

HUB_ONLY_PLACEHOLDERS = frozenset({"routes"})
"""Placeholders that make sense only in the hub (routing) crew."""

HUB_CREW = "hub"
"""The crew every domain needs: it picks the route."""

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Keys of `business_hours.weekly`, Monday first as in `datetime.weekday()`."""

IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
"""Crew, agent, task and route names."""

DOMAIN_ID = re.compile(r"^_?[a-z][a-z0-9_-]*$")
"""Domain ids (folder names); a leading `_` marks a template."""

ENV_VAR_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
"""Names of environment variables that hold a domain's secrets."""


PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_\-]*)}")
"""What CrewAI interpolates in agent and task texts (`crewai.utilities.string_utils`):
any `{name}`, with no escape; other braces (JSON examples) are left alone."""


def placeholders_in(text: str) -> Iterator[str]:
    """The `{name}` placeholders CrewAI will try to fill in a crew text."""
    for match in PLACEHOLDER.finditer(text):
        yield match.group(1)

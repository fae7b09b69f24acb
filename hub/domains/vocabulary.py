"""The names a domain file may use: tools, prompt placeholders, prompt labels, weekdays.

Validation checks every reference against these tables, so a typo such as
`knowlege_search` is an error at load time instead of a silent missing tool at
the first customer message. The prompt labels are what the built-in offline
model (`hub.offline.prompt`) reads in a crew's task text; validation warns about
a task it could not read (`hub.domains.labels`).
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

TURN_PLACEHOLDERS = frozenset({"message", "history", "customer_name", "channel", "now", "context"})
"""Placeholders whose value changes from one message to the next (the others are the
same for every turn of a domain): a real model's prompt keeps them last
(`hub.crews.layout`), so the server can reuse what it computed for the text before."""
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


# --- Prompt labels: what the offline model reads in a task's text ---------------------------

MESSAGE_LABELS = (
    "Mensagem do cliente:",
    "Mensagem da cliente:",
    "Mensagem do paciente:",
    "Mensagem da paciente:",
    "Mensagem atual do cliente:",
    "Mensagem atual da cliente:",
    "Mensagem atual do paciente:",
    "Mensagem atual da paciente:",
    "Customer message:",
)
"""The label of the line that `{message}` follows (or ends): the customer's words come
after it, and the conversation history ends before it. Case does not matter."""

MESSAGE_LABEL = re.compile(
    r"^[ \t]*(?:mensagem(?: atual)? d[oa] (?:client[ea]|paciente)|customer message)[ \t]*:",
    re.I | re.M,
)
"""A line opening with one of MESSAGE_LABELS (what follows the colon is the message)."""

HISTORY_LABELS = (
    "Conversa até aqui:",
    "Histórico:",
    "Histórico da conversa:",
    "Conversation so far:",
)
"""The label of the line above `{history}`: the entries below it, up to the message
label, are the conversation so far. Case does not matter, nor the accents of é and ó."""

HISTORY_LABEL = re.compile(
    r"^[ \t]*(?:conversa at[eé] aqui|hist[oó]rico(?: da conversa)?|conversation so far)"
    r"[ \t]*:[ \t]*\n",
    re.I | re.M,
)
"""A line holding only one of HISTORY_LABELS (the history starts on the next line)."""

CUSTOMER_ENTRY = "Cliente"
BOT_ENTRY = "Atendente"
"""How `{history}` writes each earlier turn: `Cliente: <text>` for the customer's,
`Atendente: <text>` for the bot's (a text may span several lines)."""

HISTORY_ENTRIES: dict[str, str] = {
    CUSTOMER_ENTRY: "customer",
    BOT_ENTRY: "bot",
    "Customer": "customer",
    "Agent": "bot",
}
"""Entry prefixes the offline model reads in a history, and whose turn each one is."""

EMPTY_HISTORY = "(início da conversa)"
"""What `{history}` holds before the first answer."""

CUSTOMER_LINE = re.compile(r"^[ \t]*(?:client[ea]|customer)[ \t]*:", re.I | re.M)
"""Without a message label, the customer's words are read after the last such line."""

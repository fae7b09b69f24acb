"""Which turns the answer cache may serve, and which answers it may store: pure rules.

Served (`ineligible` says why not): a turn with only the customer's words (no
picture, no voice note), short, naming no order, phone, e-mail or code (a run of
4 digits), nothing relative to the moment ("hoje", "agora", "now"), and either the
conversation's first turn or a question that says everything it asks
(`self_contained`): no pronoun or word pointing back ("isso", "ele", "also",
"eso"), not a continuation ("e pra Curitiba?"), at least two words the search uses.

Stored (`unstorable` says why not): the reply of a turn that had no history, called
no tool but `knowledge_search`, handed nothing off, passed the reply gate at its
first or second attempt (never a fallback), was not the domain's "I don't know",
and holds no name: neither the contact's nor a capitalised word of the question the
documents do not know.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from hub.conversation.decision import is_miss
from hub.knowledge.text import normalize, stem, tokenize
from hub.turn import HubResult, Turn

if TYPE_CHECKING:
    from hub.crews.kit import DomainKit

CACHEABLE_TOOLS = frozenset({"knowledge_search"})
"""The one tool whose answer depends only on the domain's documents."""
STORED_SOURCES = frozenset({"model", "retry"})
"""Replies that passed the reply gate (first or second attempt): never a fallback."""
MAX_QUESTION_CHARS = 300
"""Longer messages are rarely repeated word for word, and often hold several questions."""
MIN_TERMS_WITH_HISTORY = 2

_DIGITS = re.compile(r"\d{4,}|\d+[\s.-]\d{3,}")
_EMAIL = re.compile(r"\S+@\S+")
_WORD = re.compile(r"[^\W\d_]+")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


MOMENT_WORDS = _words(
    "agora hoje amanha ontem agorinha now today tomorrow tonight yesterday currently "
    "ahora hoy manana ayer"
)
"""Questions about the moment ("abre hoje?"): the right answer changes with the clock."""
REFERENCE_WORDS = _words(
    # Portuguese
    "isso isto esse essa esses essas este esta estes estas aquele aquela aquilo disso "
    "disto desse dessa deste desta nesse nessa neste nesta naquele naquela dele dela deles "
    "delas ele ela eles elas mesmo mesma tambem outro outra outros outras anterior acima "
    "primeiro segundo ultimo "
    # English
    "it its this that these those them they he she him her also too other another same "
    "one ones above previous first second last "
    # Spanish
    "eso esto ese esa esos esas aquel aquella ellos ellas tambien mismo misma otro otra "
    "primero ultimo"
)
"""Words that point back at what was said before: a question holding one is not whole."""
CONTINUATIONS = frozenset({"e", "and", "y", "mas", "but", "pero", "entao", "so"})
"""A message starting so goes on from the one before ("e pra Curitiba?")."""


def ineligible(turn: Turn) -> str | None:
    """Why `turn` may neither be served from the cache nor fill it (None: it may)."""
    message = turn.message
    if turn.images or turn.media_only or turn.unheard_audio:
        return "media"
    if len(message) > MAX_QUESTION_CHARS:
        return "long"
    if _DIGITS.search(message) or _EMAIL.search(message):
        return "personal"
    words = _WORD.findall(normalize(message))
    if MOMENT_WORDS.intersection(words):
        return "moment"
    if turn.history and not self_contained(message):
        return "history"
    return None


def self_contained(message: str) -> bool:
    """Whether the message asks all it asks, whatever came before it."""
    words = _WORD.findall(normalize(message))
    if not words or words[0] in CONTINUATIONS or REFERENCE_WORDS.intersection(words):
        return False
    return len(set(tokenize(message))) >= MIN_TERMS_WITH_HISTORY


def unstorable(kit: DomainKit, turn: Turn, result: HubResult) -> str | None:
    """Why `result`'s reply must not be served to other turns (None: it may)."""
    if turn.history:
        return "history"
    if set(result.tool_calls) - CACHEABLE_TOOLS:
        return "tool"
    if result.handoff_reason is not None or result.tool_failures:
        return "handoff"
    if result.source not in STORED_SOURCES:
        return "fallback"
    if is_miss(kit.domain, result.reply):
        return "unknown"
    if names_in(result.reply, turn, kit):
        return "name"
    return None


def names_in(reply: str, turn: Turn, kit: DomainKit) -> list[str]:
    """The names `reply` holds: words of the contact's name, and capitalised words of
    the question that the documents do not know (a name the customer gave)."""
    candidates = {normalize(word) for word in _WORD.findall(turn.customer_name) if len(word) > 1}
    candidates.update(
        normalize(word)
        for word in _WORD.findall(turn.message)
        if word[:1].isupper() and len(word) > 2 and not kit.knowledge.knows(stem(normalize(word)))
    )
    said = set(_WORD.findall(normalize(reply)))
    return sorted(candidates & said)

"""The offline model's final answer after a tool ran: the tool's typed result, told to the customer.

The answer is built from the `ToolResult` the tool recorded on the turn's context
(the shapes of `hub.turn`), never by reading the observation text back. Every
fact of the reply is a fact of that result (what the business database said) or
a line of the domain's documents, never made up:

- an order: the tool's sentence, plus document lines about that status that hold
  a fact (a term, a date) the order's note does not;
- products: the catalogue lines that best match the question (SKU, name, price,
  stock), plus document lines when the question asks what they don't say
  ("Vocês montam o rack? Quanto custa?" → the assembly price);
- free slots: at most OFFERED_SLOTS of them, with weekday, date, time and who;
- a booking: its confirmation, plus what the documents say about the day of the
  appointment; a cancellation: its outcome, plus the documents' cancellation rule;
- a tool that failed (it recorded no result; CrewAI shows its error) or found
  nothing: said plainly, then the domain's `unknown` message, which offers a human;
- any other result (an untyped one, `knowledge_search`'s passages): the documents'
  answer to the question, as when no tool ran.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from hub.knowledge.lexical import LexicalIndex
from hub.knowledge.text import normalize, synonyms, tokenize
from hub.offline.answers import Line, answer, find, understand
from hub.offline.prompt import Step
from hub.turn import (
    BookingData,
    CancellationData,
    OrderData,
    ProductData,
    ProductsData,
    SlotData,
    SlotsData,
    ToolResult,
)

OFFERED_SLOTS = 3
"""Free slots offered to the customer at once."""

PRODUCT_LINES = 3
"""Catalogue lines quoted at most."""

CLOSE_MATCH = 0.75
"""A catalogue line scoring at least this share of the best line's score is quoted too."""

SAID_SHARE = 0.7
"""A document line whose words were mostly said already adds nothing."""

DAY_OF_APPOINTMENT = "o que levar e quando chegar no dia da consulta"
CANCELLATION_RULE = "cancelar ou remarcar a consulta"
"""What the documents are asked after a booking and after a cancellation."""

FAILED = ("Error executing tool", "I encountered an error", "Tool Usage Failed")
"""How CrewAI's observation starts when the tool raised (its own texts, not ours)."""

_FACT = re.compile(r"r\$ ?[\d.,]+|\d+(?:[.,]\d+)?(?: ?%| ?(?:dias?|horas?|meses|minutos|semanas))?")
_KIND_FACT: dict[str, re.Pattern[str]] = {
    "price": re.compile(r"r\$ ?\d|\d+ ?%|\bgratis\b|\bgratuit"),
    "hours": re.compile(r"\b\d{1,2}(:\d{2}|h\b)"),
    "duration": re.compile(r"\b\d+ ?(dias?|horas?|meses|mes|minutos|semanas|anos?)\b"),
    "place": re.compile(r"\b(rua|avenida|av\.|alameda|praca|rodovia|estrada|travessa)\b"),
}

_PHRASES: dict[str, dict[str, str]] = {
    "pt": {
        "closing": "Posso ajudar em mais alguma coisa?",
        "catalogue": "Encontrei no nosso catálogo:",
        "no_product": "Não encontrei esse produto no nosso catálogo.",
        "slots": "Estes são os próximos horários livres:",
        "others": "Outros horários livres:",
        "pick": "Qual desses horários fica melhor para você?",
        "which": "Qual destes horários você prefere?",
        "booked": "Pronto, sua consulta está marcada!",
        "which_appointment": "Qual delas você quer cancelar?",
        "failed": "Não consegui consultar essa informação agora.",
        "missing": "Pode me enviar o {needed}?",
    },
    "en": {
        "closing": "Can I help with anything else?",
        "catalogue": "Here is what our catalogue says:",
        "no_product": "I could not find that product in our catalogue.",
        "slots": "These are the next free slots:",
        "others": "Other free slots:",
        "pick": "Which of these times suits you best?",
        "which": "Which of these times do you prefer?",
        "booked": "Done, your appointment is booked!",
        "which_appointment": "Which one do you want to cancel?",
        "failed": "I could not look that up right now.",
        "missing": "Could you send me the {needed}?",
    },
    "es": {
        "closing": "¿Puedo ayudarte con algo más?",
        "catalogue": "Esto es lo que dice nuestro catálogo:",
        "no_product": "No encontré ese producto en nuestro catálogo.",
        "slots": "Estos son los próximos horarios libres:",
        "others": "Otros horarios libres:",
        "pick": "¿Cuál de estos horarios te queda mejor?",
        "which": "¿Cuál de estos horarios prefieres?",
        "booked": "¡Listo, tu consulta está agendada!",
        "which_appointment": "¿Cuál de ellas quieres cancelar?",
        "failed": "No pude consultar esa información ahora.",
        "missing": "¿Me puedes enviar el {needed}?",
    },
}

NEEDED: dict[str, dict[str, str]] = {
    "número do pedido": {"en": "order number", "es": "número de pedido"},
}
"""What a tool needs (`planner.Missing.needed`, in Portuguese), in the other languages."""


def phrases(language: str) -> Mapping[str, str]:
    """The reply phrases in the domain's language (Portuguese when unknown)."""
    return _PHRASES.get(language.split("-")[0].lower(), _PHRASES["pt"])


def result_for(step: Step, results: Sequence[ToolResult]) -> ToolResult | None:
    """The typed result of the call `step` shows: the latest result of that tool whose
    text is the observation CrewAI showed (it may add a format reminder after it).

    None when the tool recorded nothing for it: it raised (CrewAI shows its error
    instead), or CrewAI refused the call before running it.
    """
    for result in reversed(results):
        text = result.text.strip()
        if result.tool == step.tool and text and step.observation.startswith(text):
            return result
    return None


def final_answer(
    question: str,
    step: Step,
    result: ToolResult | None,
    index: LexicalIndex,
    *,
    unknown_reply: str,
    language: str,
) -> str:
    """The customer-facing answer to `question` after `step` ran and returned `result`."""
    words = phrases(language)
    data = result.data if result is not None else None
    if result is None or data is None:
        observation = step.observation.strip()
        if not observation or observation.startswith(FAILED):
            return _join([words["failed"]], unknown_reply)
        return answer(index, question, unknown_reply=unknown_reply, language=language)
    text = result.text.strip()
    if isinstance(data, OrderData):
        return _order(data, text, index, words, unknown_reply)
    if isinstance(data, ProductsData):
        return _products(question, data, index, words, unknown_reply, language)
    if isinstance(data, SlotsData):
        return _slots(data, text, words, unknown_reply)
    if isinstance(data, BookingData):
        return _booking(data, text, index, words, unknown_reply)
    if isinstance(data, CancellationData):
        return _cancellation(data, text, index, words, unknown_reply)
    return answer(index, question, unknown_reply=unknown_reply, language=language)


def ask_for(needed: str, index: LexicalIndex, *, language: str) -> str:
    """Ask for what a tool needs (the order number), with what the documents say about it."""
    words = phrases(language)
    named = NEEDED.get(needed, {}).get(language.split("-")[0].lower(), needed)
    return _join(document_lines(index, needed, ""), words["missing"].format(needed=named))


def which(options: str, *, language: str) -> str:
    """Ask which of several offered slots the customer meant."""
    return f"{phrases(language)['which']}\n{options}"


def _order(
    order: OrderData, text: str, index: LexicalIndex, words: Mapping[str, str], unknown_reply: str
) -> str:
    if not order.found:
        return _join([text], unknown_reply)
    if not order.verified:  # no details: the tool asks for confirmation or hands off
        return _join([text], words["closing"])
    extra = document_lines(index, f"pedido {order.status}", text, facts_only=True)
    return _join([text, *extra], words["closing"])


def _products(
    question: str,
    found: ProductsData,
    index: LexicalIndex,
    words: Mapping[str, str],
    unknown_reply: str,
    language: str,
) -> str:
    lines = best_products(question, found.items, index)
    if not lines:
        documents = answer(index, question, unknown_reply=unknown_reply, language=language)
        if documents != unknown_reply:
            return documents
        return _join([words["no_product"]], unknown_reply)
    quoted = "\n".join(f"- {line}" for line in lines)
    extra = asked_lines(index, question, "\n".join(lines))
    return _join([f"{words['catalogue']}\n{quoted}", *extra], words["closing"])


def best_products(question: str, items: Sequence[ProductData], index: LexicalIndex) -> list[str]:
    """The catalogue lines that match the question best, by the documents' term weights."""
    wanted = set(understand(index, question).core)
    scored = []
    for item in items:
        line = item.line.strip()
        terms = set(tokenize(line))
        score = sum(index.idf(term) or 1.0 for term in wanted & terms)
        scored.append((score, line))
    best = max((score for score, _ in scored), default=0.0)
    if best <= 0:
        return []
    return [line for score, line in scored if score >= CLOSE_MATCH * best][:PRODUCT_LINES]


def _slots(free: SlotsData, text: str, words: Mapping[str, str], unknown_reply: str) -> str:
    if not free.slots:
        return _join([text], unknown_reply)
    offered = _numbered(free.slots)
    if not free.fits:  # none on the day asked: others instead
        return _join([f"{free.problem} {words['others']}", offered], words["pick"])
    return _join([f"{words['slots']}\n{offered}"], words["pick"])


def _booking(
    booking: BookingData,
    text: str,
    index: LexicalIndex,
    words: Mapping[str, str],
    unknown_reply: str,
) -> str:
    if booking.outcome == "booked":
        extra = document_lines(index, DAY_OF_APPOINTMENT, text)
        return _join([words["booked"], text, *extra], words["closing"])
    if booking.alternatives:  # taken, or not a slot: the tool offers others
        offered = _numbered(booking.alternatives)
        return _join([f"{booking.problem} {words['others']}", offered], words["pick"])
    return _join([text], unknown_reply)


def _cancellation(
    cancellation: CancellationData,
    text: str,
    index: LexicalIndex,
    words: Mapping[str, str],
    unknown_reply: str,
) -> str:
    if cancellation.outcome == "cancelled":
        extra = document_lines(index, CANCELLATION_RULE, text)
        return _join([text, *extra], words["closing"])
    if cancellation.outcome == "unclear":  # several, or none of those asked
        return _join([text], words["which_appointment"])
    return _join([text], unknown_reply)


def _numbered(slots: Sequence[SlotData]) -> str:
    """The first OFFERED_SLOTS slots, one a line: "1. sexta-feira, 04/12/2026 às 08:00 — …"."""
    return "\n".join(f"{n}. {slot.line}" for n, slot in enumerate(slots[:OFFERED_SLOTS], 1))


def document_lines(
    index: LexicalIndex, query: str, said: str, *, facts_only: bool = False
) -> list[str]:
    """Lines of the documents answering `query` that add to what was `said`.

    With `facts_only`, only lines holding a fact (a number, a price, a term) that
    `said` does not hold already.
    """
    finding = find(index, query)
    if finding is None:
        return []
    return _render(_new(finding.lines, said, facts_only=facts_only), finding.query.terms)


def asked_lines(index: LexicalIndex, question: str, said: str) -> list[str]:
    """Document lines with what the question asks and `said` does not answer.

    "Asked" is a word of the question missing from `said` (a synonym counts as
    said), or a kind of fact it asks for (a price, a term, hours, an address)
    that `said` has none of.
    """
    finding = find(index, question)
    if finding is None:
        return []
    said_terms = set(tokenize(said))
    folded = normalize(said)
    unsaid = {
        term
        for term in finding.query.core
        if term not in said_terms and not synonyms([term]) & said_terms
    }
    missing = {kind for kind in finding.query.kinds if not _KIND_FACT[kind].search(folded)}
    if not unsaid and not missing:
        return []
    useful = [line for line in finding.lines if (line.terms & unsaid) or (line.kind and missing)]
    return _render(_new(useful, said), finding.query.terms)


def _new(lines: Sequence[Line], said: str, *, facts_only: bool = False) -> list[Line]:
    said_terms = set(tokenize(said))
    said_facts = set(_FACT.findall(normalize(said)))
    fresh = []
    for line in lines:
        if line.terms and len(line.terms & said_terms) >= SAID_SHARE * len(line.terms):
            continue
        if facts_only:
            facts = set(_FACT.findall(normalize(line.sentence.text)))
            if not facts or facts <= said_facts:
                continue
        fresh.append(line)
    return fresh


def _render(lines: Sequence[Line], query_terms: Mapping[str, float]) -> list[str]:
    """Each passage's lines as one paragraph, labelled with its heading when it names
    something the question asked and the lines don't say ("Montagem de móveis: …")."""
    paragraphs: list[str] = []
    for chunk in dict.fromkeys(line.chunk for line in lines):
        group = [line for line in lines if line.chunk is chunk]
        body = ""
        for line in group:
            separator = "\n- " if line.sentence.bullet else " "
            body += separator + line.sentence.text
        body = body.strip()
        said = set().union(*(line.terms for line in group))
        if (set(tokenize(chunk.title)) & set(query_terms)) - said:
            body = f"{chunk.title}:\n{body}" if body.startswith("- ") else f"{chunk.title}: {body}"
        paragraphs.append(body)
    return paragraphs


def _join(paragraphs: Sequence[str], ending: str) -> str:
    return "\n\n".join([*(p for p in paragraphs if p), ending])

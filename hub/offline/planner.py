"""How the offline model uses an agent's tools: read the prompt, then act or answer.

With function calling off, CrewAI's text ReAct loop lists the agent's tools in the
system prompt ("Tool Name: …") and expects either a tool call,

    Thought: …
    Action: <tool name>
    Action Input: {"argument": "value"}

after which it runs the tool and calls the model again with that text and an
"Observation: <result>" appended, or `Thought: … Final Answer: …`. The offline
model does not reason, so it decides by rules that follow from what each tool is
for and from entities in the customer's message, never from per-domain answers:

- `book_appointment`: the customer picks one of the slots the bot offered in the
  previous turn ("pode ser o primeiro", "quinta às 10h", "03/12 às 14:00");
- `cancel_appointment`: the customer asks to cancel (not "what if I cancel?");
- `order_status`: the message holds an order-number-shaped token; asked about an
  order without one, the model asks for the number (what the tool needs) instead;
- `appointment_slots`: scheduling intent (marcar, agendar, vaga, horário livre…),
  with the professional or specialty named and any day or period preferred;
- `product_lookup`: a SKU-shaped token; `product_search`: a question about a
  product's price, stock or availability, searched with its content words;
- otherwise no tool: the knowledge answer (`hub.offline.answers`).

`hub.offline.results` then turns the tool's typed result into the final answer.
The slots the bot offered are read back from its previous reply, the list
`hub.offline.results` wrote ("1. sexta-feira, 04/12/2026 às 08:00 — Dra. …"):
the offline model's own format, read by the same package.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from hub.knowledge.patterns import ASKED_TIME, DATE_NUMERIC, ORDER_NUMBER, SKU
from hub.knowledge.text import normalize, tokenize
from hub.offline.prompt import Prompt

__all__ = [
    "Action",
    "Ambiguous",
    "Missing",
    "Offer",
    "decide",
    "offers_in",
]


# Intents, on folded text (normalize: lower case, no accents).
_RULE_QUESTION = re.compile(
    r"\bse (eu|ele|ela|precisar|tiver)\b|\b(pago|pagar|paga|cobra\w*|cobranca|multa|taxa)\b"
    r"|\bposso (cancelar|desmarcar|remarcar)\b|\bcomo funciona\b|\bregra\b"
)
"""A question about a rule ("se eu desmarcar, pago?"): the documents answer it, no action."""
_SCHEDULING = re.compile(
    r"\b(marcar|agendar|agendamento|reservar|remarcar|encaixe|encaixar|vagas?|disponibilidade)\b"
    r"|\bhorarios? (livres?|disponive(l|is)|vagos?)\b|\b(tem|ha|existe) (algum )?horario\b"
    r"|\b(quero|queria|gostaria|preciso)\b[^.?!]{0,30}\bconsulta\b"
)
_ORDER_QUESTION = re.compile(
    r"\b(pedido|compra|encomenda)\b.*\b(status|situacao|chegou|onde esta|cade|rastre\w*"
    r"|acompanh\w*|atrasad\w*|andamento|ver|consultar)\b"
    r"|\b(status|situacao|chegou|onde esta|cade|rastre\w*|acompanh\w*|atrasad\w*|andamento"
    r"|ver|consultar)\b.*\b(pedido|compra|encomenda)\b"
)
"""A question about the state of an order ("meu pedido não chegou", "status do pedido")."""
_CANCELLING = re.compile(r"\b(cancelar|cancela|cancele|desmarcar|desmarca|desmarque)\b")
_DESIRE = re.compile(
    r"\b(quero|queria|gostaria|preciso|pode|poderia|por favor|favor|tenho que|vou ter que)\b"
)
_PRODUCT = re.compile(
    r"\b(quanto custa|quanto (e|sai|fica)|precos?|valor|custa|estoque|disponive(l|is)"
    r"|disponibilidade|vendem|vende|tem (o|a|os|as)|(voces|vcs) tem)\b"
)
_MORE_SLOTS = re.compile(r"\b(outr[oa]s?|mais) (horarios?|datas?|dias?|opcoes|opcao)\b")
_AGREE = re.compile(
    r"\b(pode ser|pode marcar|pode agendar|quero (esse|este)|(esse|este) mesmo|sim|ok|fechado"
    r"|combinado|perfeito|confirmo|marca|marque|agende)\b"
)
_ORDINALS = (
    (re.compile(r"\b(primeir[oa]|1[oa°º]|opcao 1|numero 1)\b|^\s*1\s*[.)]?\s*$"), 0),
    (re.compile(r"\b(segundo|segunda opcao|2[oa°º]|opcao 2|numero 2)\b|^\s*2\s*[.)]?\s*$"), 1),
    (re.compile(r"\b(terceir[oa]|3[oa°º]|opcao 3|numero 3)\b|^\s*3\s*[.)]?\s*$"), 2),
    (re.compile(r"\b(ultim[oa])\b"), -1),
)

# Dates and times as customers write them (folded text): hub.knowledge.patterns.
_WEEKDAY = re.compile(r"\b(segunda|terca|quarta|quinta|sexta|sabado|domingo)(?!\s+opcao)\b")
_WEEKDAYS = ("segunda", "terca", "quarta", "quinta", "sexta", "sabado", "domingo")
_PERIOD = re.compile(r"\b(manha|tarde|noite|hoje|amanha)\b")

_OFFER = re.compile(
    r"(?P<date>\d{1,2}/\d{1,2}(?:/\d{2,4})?)\D{0,12}?(?P<hour>\d{1,2})[:h](?P<minute>\d{2})"
    r"(?P<rest>[^\n]*)"
)
_LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+")
_OFFERED_BY = re.compile(r"(?:—|–|\bcom\b)\s*(?P<name>[^()\n—–]+?)\s*(?:\(|$)")

_NOT_WHO = frozenset(
    tokenize(
        "marcar agendar agendamento reservar remarcar encaixe encaixar consulta consultas "
        "cancelar cancela cancele desmarcar desmarca desmarque "
        "horario horarios livre livres disponivel disponiveis vaga vagas agenda dia dias semana "
        "proxima proximo proximos hoje amanha manha tarde noite segunda terca quarta quinta "
        "sexta sabado domingo atende atendimento possivel data datas"
    )
)
"""Words of a scheduling request that name no professional or specialty."""

_NOT_PRODUCT = frozenset(
    tokenize(
        "custa custam preco precos valor valores estoque disponivel disponiveis disponibilidade "
        "vende vendem produto produtos quanto"
    )
)
"""Words of a product question that only ask about price or stock."""


@dataclass(frozen=True)
class Action:
    """A tool call to make, in the format CrewAI's parser reads."""

    tool: str
    arguments: dict[str, str]
    thought: str

    def text(self) -> str:
        """`Thought/Action/Action Input` lines (crewai.agents.parser)."""
        arguments = json.dumps(self.arguments, ensure_ascii=False)
        return f"Thought: {self.thought}\nAction: {self.tool}\nAction Input: {arguments}"


@dataclass(frozen=True)
class Ambiguous:
    """The customer's choice fits several offered slots (`options`, one a line): ask which."""

    options: str
    thought: str


@dataclass(frozen=True)
class Missing:
    """The tool that fits lacks what the customer did not say yet: ask for it."""

    tool: str
    needed: str
    thought: str


@dataclass(frozen=True)
class Offer:
    """A slot the bot offered: the date and time as written, and with whom."""

    day: int
    month: int
    year: str
    hour: int
    minute: int
    weekday: str
    professional: str
    line: str

    @property
    def starts_at(self) -> str:
        """ "04/12/2026 08:00" (the year only if the offer had one)."""
        date = f"{self.day:02d}/{self.month:02d}" + (f"/{self.year}" if self.year else "")
        return f"{date} {self.hour:02d}:{self.minute:02d}"


def decide(question: str, prompt: Prompt) -> Action | Ambiguous | Missing | None:
    """The tool call the question calls for, a question back, or None (answer from documents)."""
    text = normalize(question)
    tools = set(prompt.tools)
    rule_question = bool(_RULE_QUESTION.search(text))
    if "book_appointment" in tools and not _CANCELLING.search(text):
        picked = _picked(text, offers_in(prompt.last_bot_message))
        if picked is not None:
            return picked
    if "cancel_appointment" in tools and _asks_to_cancel(text):
        arguments = {"professional": who_of(question), "starts_at": moments_of(question)}
        return Action(
            "cancel_appointment",
            {name: value for name, value in arguments.items() if value},
            "The customer asks to cancel an appointment.",
        )
    if "order_status" in tools and (number := ORDER_NUMBER.search(question)):
        return Action(
            "order_status",
            {"order_number": number[0].upper()},
            "The message has an order number: I look the order up.",
        )
    if "order_status" in tools and _ORDER_QUESTION.search(text):
        return Missing(
            "order_status", "número do pedido", "An order question without its number: I ask."
        )
    if "appointment_slots" in tools and _SCHEDULING.search(text) and not rule_question:
        who = who_of(question)
        if who:
            arguments = {"who": who}
            if when := when_of(question):
                arguments["when"] = when
            return Action("appointment_slots", arguments, f"I look for free slots of {who}.")
    if "product_lookup" in tools and (sku := SKU.search(question)):
        return Action("product_lookup", {"sku": sku[0].upper()}, "The message names a SKU.")
    if "product_search" in tools and _PRODUCT.search(text):
        query = product_words(question)
        if query:
            return Action(
                "product_search", {"query": query}, "A product question: I search the catalogue."
            )
    return None


def _asks_to_cancel(text: str) -> bool:
    """ "Quero cancelar minha consulta", "cancela a consulta": not "se eu cancelar, pago?"."""
    if not _CANCELLING.search(text) or _RULE_QUESTION.search(text):
        return False
    return bool(_DESIRE.search(text) or _CANCELLING.match(text))


def who_of(question: str) -> str:
    """The words of a scheduling message that may name a professional or specialty."""
    words = re.findall(r"\b[^\W\d_][\w.'-]*", question)
    kept = [word for word in words if (terms := tokenize(word)) and terms[0] not in _NOT_WHO]
    return " ".join(kept)


def when_of(question: str) -> str:
    """The day or period the customer prefers ("quinta tarde", "04/12"), or ""."""
    text = normalize(question)
    parts = [m[0] for m in DATE_NUMERIC.finditer(text)]
    parts += [m[1] for m in _WEEKDAY.finditer(text)] + [m[1] for m in _PERIOD.finditer(text)]
    return " ".join(parts)


def moments_of(question: str) -> str:
    """The dates, weekdays, parts of the day and times a message names ("sexta 10h")."""
    text = normalize(question)
    times = [m[0] for m in ASKED_TIME.finditer(DATE_NUMERIC.sub(" ", text))]
    return " ".join(filter(None, [when_of(question), *times]))


def product_words(question: str) -> str:
    """The content words of a product question, without the asking ("quanto custa")."""
    words = re.findall(r"[\w'-]+", question)
    kept = [word for word in words if (terms := tokenize(word)) and terms[0] not in _NOT_PRODUCT]
    return " ".join(kept)


def offers_in(message: str) -> list[Offer]:
    """The slots a bot message offered: list items with a date, a time and a professional.

    Only list items: a sentence such as "the 08:00 slot with Dra. Carla was just
    taken" names a slot without offering it.
    """
    offers = []
    for line in message.splitlines():
        if not _LIST_ITEM.match(line):
            continue
        match = _OFFER.search(line)
        if match is None:
            continue
        by = _OFFERED_BY.search(match["rest"])
        if by is None:
            continue
        day, month, *year = match["date"].split("/")
        weekday = next((name for name in _WEEKDAYS if name in normalize(line)), "")
        offers.append(
            Offer(
                day=int(day),
                month=int(month),
                year=year[0] if year else "",
                hour=int(match["hour"]),
                minute=int(match["minute"]),
                weekday=weekday,
                professional=by["name"].strip(),
                line=_LIST_ITEM.sub("", line).strip(),
            )
        )
    return offers


def _picked(text: str, offers: list[Offer]) -> Action | Ambiguous | None:
    """Book the offered slot the customer chose; ask back when the choice fits several."""
    if not offers or _MORE_SLOTS.search(text):
        return None
    chosen = _choice(text, offers)
    if chosen is None:
        return None
    if len(chosen) == 1:
        offer = chosen[0]
        return Action(
            "book_appointment",
            {"professional": offer.professional, "starts_at": offer.starts_at},
            f"The customer chose the slot {offer.line}: I book it.",
        )
    if chosen:
        lines = "\n".join(f"{n}. {offer.line}" for n, offer in enumerate(chosen, 1))
        return Ambiguous(lines, "The choice fits several offered slots: I ask which one.")
    people = {offer.professional for offer in offers}
    moment = _when_exact(text)
    if moment and len(people) == 1:  # a time not offered: the tool checks it, offers others
        return Action(
            "book_appointment",
            {"professional": people.pop(), "starts_at": moment},
            "The customer asked for a time of the same professional: I try to book it.",
        )
    return None


def _choice(text: str, offers: list[Offer]) -> list[Offer] | None:
    """The offers the message points at; None when it does not choose at all."""
    for pattern, index in _ORDINALS:
        if pattern.search(text) and -len(offers) <= index < len(offers):
            return [offers[index]]
    constrained = False
    chosen = offers
    if date := DATE_NUMERIC.search(text):
        constrained = True
        chosen = [o for o in chosen if (o.day, o.month) == (int(date[1]), int(date[2]))]
    if weekday := _WEEKDAY.search(text):
        constrained = True
        chosen = [o for o in chosen if o.weekday == weekday[1]]
    if moment := ASKED_TIME.search(DATE_NUMERIC.sub(" ", text)):
        constrained = True
        hour, minute = int(moment[1] or moment[4]), int(moment[2] or moment[3] or 0)
        chosen = [o for o in chosen if (o.hour, o.minute) == (hour, minute)]
    if constrained:
        return chosen
    if _AGREE.search(text) and len(offers) == 1:
        return offers
    return None


def _when_exact(text: str) -> str:
    """A date and a time written in the message ("03/12 14:00"), or ""."""
    date = DATE_NUMERIC.search(text)
    moment = ASKED_TIME.search(DATE_NUMERIC.sub(" ", text))
    if date is None or moment is None:
        return ""
    hour, minute = int(moment[1] or moment[4]), int(moment[2] or moment[3] or 0)
    return f"{date[0]} {hour:02d}:{minute:02d}"

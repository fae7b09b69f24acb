"""Fact-like tokens in a text: prices, times, dates, phones, addresses, codes, percentages.

A reply that states one of these must have read it somewhere the turn can show:
the reply gate (`hub.crews.screen`) compares the tokens of a reply with those of
the turn's evidence. Each token is reduced to a canonical form so that the same
fact written two ways matches ("R$ 89,90" and "89.90"; "10h" and "10:00";
"04/12" and "4 de dezembro"; "(11) 3456-7890" and "11 3456 7890").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

from hub.knowledge.patterns import (
    CEP,
    CLOCK_TIME,
    CODE,
    DATE_ISO,
    DATE_NUMERIC,
    DATE_WORDS,
    MIN_STREET_NAME,
    MONTHS,
    NUMBER,
    PERCENT,
    PHONE,
    PRICE,
    STREET,
    STREET_KINDS,
    STREET_NUMBER,
)

FactKind = Literal["price", "time", "date", "phone", "address", "code", "order", "percentage"]
"""`code`: a SKU-like code ("BP-001"); `order`: an order-like number ("CC-2026-00017",
"#48213", "1234567"), which only the customer can give."""


@dataclass(frozen=True)
class Fact:
    """One fact-like token: its kind, its canonical form, and how the text wrote it."""

    kind: FactKind
    value: str
    written: str


def fold(text: str) -> str:
    """Lower case without accents, whitespace runs as one space."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", plain)


def amount(written: str) -> str | None:
    """A number as written in pt-BR or English ("1.234,56", "1,234.56", "89,9") as "1234.56"."""
    text = written.replace(" ", "")
    if "," in text and "." in text:
        text = (
            text.replace(".", "").replace(",", ".")
            if text.rfind(",") > text.rfind(".")
            else text.replace(",", "")
        )
    elif "," in text:
        whole, _, part = text.rpartition(",")
        text = f"{whole.replace(',', '')}.{part}" if len(part) <= 2 else text.replace(",", "")
    elif "." in text:
        whole, _, part = text.rpartition(".")
        text = text if len(part) <= 2 else text.replace(".", "")
    try:
        return f"{Decimal(text):.2f}"
    except InvalidOperation:
        return None


def facts(text: str) -> list[Fact]:
    """Every fact-like token of `text`, each with its canonical value."""
    folded = fold(text)
    found: list[Fact] = []
    taken: list[tuple[int, int]] = []

    def add(kind: FactKind, value: str | None, match: re.Match[str]) -> None:
        if value is None:
            return
        found.append(Fact(kind, value, match.group(0).strip()))
        taken.append(match.span())

    def free(match: re.Match[str]) -> bool:
        start, end = match.span()
        return all(end <= a or start >= b for a, b in taken)

    for match in CODE.finditer(folded):
        value = re.sub(r"[#\s]", "", match.group(0)).upper()
        add("order" if value.count("-") >= 2 or value.isdigit() else "code", value, match)
    for match in CEP.finditer(folded):
        add("address", match.group(0), match)
    for match in PHONE.finditer(folded):
        digits = re.sub(r"\D", "", match.group(0))
        if len(digits) >= 8 and free(match):
            add("phone", digits[-8:], match)
    for match in PRICE.finditer(folded):
        if free(match):
            add("price", amount(match.group("a") or match.group("b")), match)
    for match in PERCENT.finditer(folded):
        if free(match):
            add("percentage", amount(match.group("n")), match)
    for match in DATE_ISO.finditer(folded):
        if free(match):
            add("date", f"{int(match.group('d'))}/{int(match.group('m'))}", match)
    for match in DATE_NUMERIC.finditer(folded):
        day, month = int(match.group("d")), int(match.group("m"))
        if 1 <= day <= 31 and 1 <= month <= 12 and free(match):
            add("date", f"{day}/{month}", match)
    for match in DATE_WORDS.finditer(folded):
        month_name = match.group("month") or match.group("month2")
        day = int(match.group("d") or match.group("d2"))
        if month_name in MONTHS and 1 <= day <= 31 and free(match):
            add("date", f"{day}/{MONTHS[month_name]}", match)
    for match in CLOCK_TIME.finditer(folded):
        if not free(match):
            continue
        hour, minute = int(match.group("h")), int(match.group("m") or 0)
        ampm = match.group("ampm")
        if ampm == "p" and hour < 12:
            hour += 12
        elif ampm == "a" and hour == 12:
            hour = 0
        add("time", f"{hour:02d}:{minute:02d}", match)
    for match in STREET.finditer(folded):
        name = match.group("name").strip(" .-")
        if not name or not free(match):
            continue
        kind = match.group("kind").rstrip(".")
        street = f"{STREET_KINDS.get(kind, kind)} {name}"
        number = STREET_NUMBER.match(folded, match.end())
        if number is not None and not all(number.end() <= a or match.end() >= b for a, b in taken):
            number = None  # the digits are another fact's ("Rua X, 10h": a time)
        if number is None:
            add("address", street, match)
            continue
        value = f"{street}, {number.group('number')}"
        found.append(Fact("address", value, folded[match.start() : number.end()].strip()))
        taken.append((match.start(), number.end()))
    return found


class Evidence:
    """What a turn can show for its facts: the canonical tokens of its texts, and the
    texts themselves (folded) for an address, which is matched by its street name.

    An order number is supported only by `customer` (the conversation's texts) or by
    `documents` (what the business itself states: its passages and fixed messages, such
    as the example number of its help page): a tool's answer about an order the customer
    never named is an order the model made up."""

    def __init__(
        self, texts: Iterable[str], customer: Iterable[str] = (), documents: Iterable[str] = ()
    ) -> None:
        self.customer = [fold(t) for t in customer if t]
        """The conversation's own texts: with `documents`, the only source of an order
        number."""
        self.documents = [fold(t) for t in documents if t]
        self.texts = [fold(t) for t in texts if t] + self.customer + self.documents
        self.values: set[tuple[str, str]] = set()
        self.numbers: set[str] = set()
        for text in self.texts:
            for fact in facts(text):
                self.values.add((fact.kind, fact.value))
            for number in re.findall(NUMBER, text):
                value = amount(number)
                if value is not None:
                    self.numbers.add(value)
        self.digits = "\n".join(re.sub(r"\D", "", t) for t in self.texts)

    def supports(self, fact: Fact) -> bool:
        """Whether the evidence states `fact` (in any of the ways it may be written)."""
        if fact.kind == "order":
            value = fact.value.lower()
            return any(value in text for text in (*self.customer, *self.documents))
        if (fact.kind, fact.value) in self.values:
            return True
        if fact.kind in ("price", "percentage"):
            return fact.value in self.numbers
        if fact.kind == "phone":
            return fact.value in self.digits
        if fact.kind == "code":
            return any(fact.value.lower() in text for text in self.texts)
        if fact.kind == "address":
            return self._states_address(fact.value)
        return False

    def _states_address(self, value: str) -> bool:
        """A street by its name (whatever its kind is called), and by its number when the
        reply gives one: the same street at another number is another address."""
        place, _, number = value.partition(", ")
        street = place.split(" ", 1)[-1]
        if len(street) < MIN_STREET_NAME:
            return False
        at = rf"\s*,?\s*(?:n[°o.]\s*)?{number}\b" if number else ""
        pattern = re.compile(rf"\b{re.escape(street)}\b{at}")
        return any(pattern.search(text) for text in self.texts)

    def unsupported(self, text: str) -> list[Fact]:
        """The facts of `text` the evidence does not state."""
        return [fact for fact in facts(text) if not self.supports(fact)]

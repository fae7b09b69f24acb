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

FactKind = Literal["price", "time", "date", "phone", "address", "code", "order", "percentage"]
"""`code`: a SKU-like code ("BP-001"); `order`: an order-like number ("CC-2026-00017",
"#48213", "1234567"), which only the customer can give."""

_MONTH_NAMES = (
    "janeiro fevereiro marco abril maio junho julho agosto setembro outubro novembro dezembro",
    "january february march april may june july august september october november december",
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
)
MONTHS = {
    name: number for names in _MONTH_NAMES for number, name in enumerate(names.split(" "), start=1)
}
"""Month names (folded) in pt, en and es, to their number."""

_NUMBER = r"\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_PRICE = re.compile(
    rf"(?:r\$|us\$|\$|€|£)\s*(?P<a>{_NUMBER})|(?P<b>{_NUMBER})\s*(?:reais|real|dolares|dollars|euros)\b"
)
_PERCENT = re.compile(r"(?P<n>\d+(?:[.,]\d+)?)\s*(?:%|por\s*cento|percent|porcento)")
_TIME = re.compile(
    r"(?<![\d/,.])(?P<h>[01]?\d|2[0-3])\s*(?:(?::|h)\s*(?P<m>[0-5]\d)?(?:\s*h(?:rs?|oras?)?\b)?"
    r"|\s*(?P<ampm>[ap])\.?m\.?\b)(?![\d/])"
)
_DATE_NUMERIC = re.compile(r"(?<![\d/])(?P<d>[0-3]?\d)/(?P<m>[01]?\d)(?:/(?P<y>\d{2,4}))?(?![\d/])")
_DATE_ISO = re.compile(r"\b(?P<y>\d{4})-(?P<m>[01]\d)-(?P<d>[0-3]\d)\b")
_DATE_WORDS = re.compile(
    r"\b(?P<d>[0-3]?\d)(?:º|o)?\s+(?:de\s+)?(?P<month>[a-z]{3,9})\b"
    r"|\b(?P<month2>[a-z]{3,9})\s+(?P<d2>[0-3]?\d)(?:st|nd|rd|th)?\b"
)
_PHONE = re.compile(
    r"(?<!\d)(?:\+?\s*55[\s.-]*)?(?:\(?0?\d{2}\)?[\s.-]*)?(?:9\s?)?\d{4}[\s.-]?\d{4}(?!\d)"
    r"|(?<!\d)0[38]00[\s.-]?\d{3}[\s.-]?\d{4}(?!\d)"
)
_STREET = re.compile(
    r"\b(?P<kind>rua|r\.|avenida|av\.?|alameda|al\.|travessa|tv\.|praca|rodovia|estrada|"
    r"largo|street|st\.|avenue|ave\.|road|rd\.|calle)\s+(?P<name>[a-z0-9][a-z0-9 .'-]{0,40}?)"
    r"(?=\s*(?:,|\bn[º°o.]|\d|\-|$|\n|\.|;|\())"
)
STREET_KINDS = {
    "r": "rua",
    "av": "avenida",
    "al": "alameda",
    "tv": "travessa",
    "st": "street",
    "ave": "avenue",
    "rd": "road",
}
"""Abbreviated street kinds, spelled out: "Av. Paulista" is "avenida paulista"."""
_STREET_NUMBER = re.compile(
    r"\s*,?\s*(?:n[°o.]\s*)?(?P<number>\d{1,5})(?!\d)(?![/:.,]\d)(?!\s*h\b)"
)
"""The building's number right after a street's name ("Rua Tuiuti, 1800", "nº 1800")."""
MIN_STREET_NAME = 3
"""A street name shorter than this ("Rua X") is matched only as written in full."""
_CEP = re.compile(r"(?<!\d)\d{5}-\d{3}(?!\d)")
_CODE = re.compile(r"\b[a-z]{1,5}(?:-\d{2,8})+\b|#\s?\d{3,}|\b\d{6,}\b")


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

    for match in _CODE.finditer(folded):
        value = re.sub(r"[#\s]", "", match.group(0)).upper()
        add("order" if value.count("-") >= 2 or value.isdigit() else "code", value, match)
    for match in _CEP.finditer(folded):
        add("address", match.group(0), match)
    for match in _PHONE.finditer(folded):
        digits = re.sub(r"\D", "", match.group(0))
        if len(digits) >= 8 and free(match):
            add("phone", digits[-8:], match)
    for match in _PRICE.finditer(folded):
        if free(match):
            add("price", amount(match.group("a") or match.group("b")), match)
    for match in _PERCENT.finditer(folded):
        if free(match):
            add("percentage", amount(match.group("n")), match)
    for match in _DATE_ISO.finditer(folded):
        if free(match):
            add("date", f"{int(match.group('d'))}/{int(match.group('m'))}", match)
    for match in _DATE_NUMERIC.finditer(folded):
        day, month = int(match.group("d")), int(match.group("m"))
        if 1 <= day <= 31 and 1 <= month <= 12 and free(match):
            add("date", f"{day}/{month}", match)
    for match in _DATE_WORDS.finditer(folded):
        month_name = match.group("month") or match.group("month2")
        day = int(match.group("d") or match.group("d2"))
        if month_name in MONTHS and 1 <= day <= 31 and free(match):
            add("date", f"{day}/{MONTHS[month_name]}", match)
    for match in _TIME.finditer(folded):
        if not free(match):
            continue
        hour, minute = int(match.group("h")), int(match.group("m") or 0)
        ampm = match.group("ampm")
        if ampm == "p" and hour < 12:
            hour += 12
        elif ampm == "a" and hour == 12:
            hour = 0
        add("time", f"{hour:02d}:{minute:02d}", match)
    for match in _STREET.finditer(folded):
        name = match.group("name").strip(" .-")
        if not name or not free(match):
            continue
        kind = match.group("kind").rstrip(".")
        street = f"{STREET_KINDS.get(kind, kind)} {name}"
        number = _STREET_NUMBER.match(folded, match.end())
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
            for number in re.findall(_NUMBER, text):
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

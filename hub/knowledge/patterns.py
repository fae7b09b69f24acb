"""The patterns of fact-like tokens, shared by the reply gate and the offline model.

The gate (`hub.crews.facts`) reads the facts a text states: prices, percentages,
clock times, dates, phones, addresses and codes, each reduced to a canonical form.
The offline model's planner (`hub.offline.planner`) reads what a customer's message
asks for: an order number, a SKU, a date, a time ("às 10"). The patterns run on folded
text (lower case, no accents: `hub.knowledge.text.normalize`, or the gate's own
`fold`), but ORDER_NUMBER and SKU, which take either case; a date is the same pattern
for both.
"""

from __future__ import annotations

import re

_MONTH_NAMES = (
    "janeiro fevereiro marco abril maio junho julho agosto setembro outubro novembro dezembro",
    "january february march april may june july august september october november december",
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
)
MONTHS = {
    name: number for names in _MONTH_NAMES for number, name in enumerate(names.split(" "), start=1)
}
"""Month names (folded) in pt, en and es, to their number."""

NUMBER = r"\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?|\d+(?:[.,]\d{1,2})?"
PRICE = re.compile(
    rf"(?:r\$|us\$|\$|€|£)\s*(?P<a>{NUMBER})|(?P<b>{NUMBER})\s*(?:reais|real|dolares|dollars|euros)\b"
)
PERCENT = re.compile(r"(?P<n>\d+(?:[.,]\d+)?)\s*(?:%|por\s*cento|percent|porcento)")
CLOCK_TIME = re.compile(
    r"(?<![\d/,.])(?P<h>[01]?\d|2[0-3])\s*(?:(?::|h)\s*(?P<m>[0-5]\d)?(?:\s*h(?:rs?|oras?)?\b)?"
    r"|\s*(?P<ampm>[ap])\.?m\.?\b)(?![\d/])"
)
DATE_NUMERIC = re.compile(r"(?<![\d/])(?P<d>[0-3]?\d)/(?P<m>[01]?\d)(?:/(?P<y>\d{2,4}))?(?![\d/])")
DATE_ISO = re.compile(r"\b(?P<y>\d{4})-(?P<m>[01]\d)-(?P<d>[0-3]\d)\b")
DATE_WORDS = re.compile(
    r"\b(?P<d>[0-3]?\d)(?:º|o)?\s+(?:de\s+)?(?P<month>[a-z]{3,9})\b"
    r"|\b(?P<month2>[a-z]{3,9})\s+(?P<d2>[0-3]?\d)(?:st|nd|rd|th)?\b"
)
PHONE = re.compile(
    r"(?<!\d)(?:\+?\s*55[\s.-]*)?(?:\(?0?\d{2}\)?[\s.-]*)?(?:9\s?)?\d{4}[\s.-]?\d{4}(?!\d)"
    r"|(?<!\d)0[38]00[\s.-]?\d{3}[\s.-]?\d{4}(?!\d)"
)
STREET = re.compile(
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
STREET_NUMBER = re.compile(r"\s*,?\s*(?:n[°o.]\s*)?(?P<number>\d{1,5})(?!\d)(?![/:.,]\d)(?!\s*h\b)")
"""The building's number right after a street's name ("Rua Tuiuti, 1800", "nº 1800")."""
MIN_STREET_NAME = 3
"""A street name shorter than this ("Rua X") is matched only as written in full."""
CEP = re.compile(r"(?<!\d)\d{5}-\d{3}(?!\d)")
CODE = re.compile(r"\b[a-z]{1,5}(?:-\d{2,8})+\b|#\s?\d{3,}|\b\d{6,}\b")

ORDER_NUMBER = re.compile(r"\b[A-Za-z]{2,4}-\d{4}-\d{3,6}\b")
"""What an order number looks like (CC-2026-00020); the tool checks the exact format."""
SKU = re.compile(r"\b[A-Za-z]{2,3}-\d{3}\b")
"""What a catalogue code looks like (BP-002, CC-107)."""
ASKED_TIME = re.compile(
    r"\b(\d{1,2})\s*(?::\s*(\d{2})|h\s*(\d{2})?\b)|\bas (\d{1,2})\b(?!\s*[:h\d])"
)
"""A time as a customer asks for one ("10h", "14:30", "às 10"): the hour in group 1 or 4,
the minutes in 2 or 3. Looser than CLOCK_TIME, which a stated fact must match."""

"""Names, greetings and splitting: the text work of the personalization plugin.

Nothing here rewrites what the crew wrote: a greeting goes before the reply, a
signature after it, and a split only cuts between paragraphs, sentences or (as a
last resort) words, so every price, time and number reaches the customer as written.
"""

from __future__ import annotations

import re
from datetime import datetime

_NOT_A_NAME = re.compile(r"^[\d\s+()./-]*$|@")
_TITLES = frozenset({"sr", "sra", "srta", "dr", "dra", "prof", "profa", "mr", "mrs", "ms", "miss"})
_NAME = re.compile(r"^[^\W\d_][^\W\d_'’-]*(?:['’-][^\W\d_]+)*$")
_GREETED = re.compile(
    r"^\W*(ol[aá]|oi|bom dia|boa tarde|boa noite|hello|hi|hey|good (morning|afternoon|evening)"
    r"|hola|buen[oa]s (d[ií]as|tardes|noches))\b",
    re.I,
)
_PARAGRAPH = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=\S)")
_ABBREVIATION = re.compile(r"\b(Dra?|Sra?|Srta|Prof|Profa|Av|n[ºo]|p\.ex|etc|Mr|Mrs|Ms)\.$", re.I)


def first_name(contact_name: str | None) -> str | None:
    """ "maria souza" → "Maria"; a phone number, an e-mail or an empty name → None."""
    if not contact_name or _NOT_A_NAME.search(contact_name.strip()):
        return None
    words = [w for w in contact_name.split() if w.rstrip(".").lower() not in _TITLES]
    if not words or not _NAME.match(words[0]):
        return None
    name = words[0]
    return name.capitalize() if name.islower() or name.isupper() else name


_GREETINGS: dict[str, tuple[str, str, str]] = {
    "pt": ("Bom dia", "Boa tarde", "Boa noite"),
    "en": ("Good morning", "Good afternoon", "Good evening"),
    "es": ("Buenos días", "Buenas tardes", "Buenas noches"),
}


def greeting(moment: datetime, language: str) -> str:
    """Bom dia (5h-12h), Boa tarde (12h-18h), Boa noite; in English or Spanish for
    `en` or `es` (a tag or a code: the customer's language), Portuguese otherwise."""
    morning, afternoon, evening = _GREETINGS.get(language[:2].lower(), _GREETINGS["pt"])
    if 5 <= moment.hour < 12:
        return morning
    if 12 <= moment.hour < 18:
        return afternoon
    return evening


def already_greets(reply: str) -> bool:
    return bool(_GREETED.match(reply))


def split(text: str, limit: int) -> list[str]:
    """Messages of at most `limit` characters, cut at paragraphs, then sentences, then words."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    for paragraph in _PARAGRAPH.split(text.strip()):
        pieces = [paragraph] if len(paragraph) <= limit else _sentences(paragraph, limit)
        for index, piece in enumerate(pieces):
            joiner = "\n\n" if index == 0 else " "
            if parts and len(parts[-1]) + len(joiner) + len(piece) <= limit:
                parts[-1] += joiner + piece
            else:
                parts.append(piece)
    return parts


def _sentences(paragraph: str, limit: int) -> list[str]:
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(paragraph):
        if _ABBREVIATION.search(paragraph[start : match.start()]):
            continue  # "Dra. Ana" is one sentence
        sentences.append(paragraph[start : match.start()])
        start = match.end()
    sentences.append(paragraph[start:])
    packed: list[str] = []
    for sentence in sentences:
        for piece in [sentence] if len(sentence) <= limit else _words(sentence, limit):
            if packed and len(packed[-1]) + 1 + len(piece) <= limit:
                packed[-1] = f"{packed[-1]} {piece}"
            else:
                packed.append(piece)
    return packed


def _words(sentence: str, limit: int) -> list[str]:
    pieces: list[str] = []
    for word in sentence.split():
        if pieces and len(pieces[-1]) + 1 + len(word) <= limit:
            pieces[-1] = f"{pieces[-1]} {word}"
        else:
            pieces.append(word)
    return pieces

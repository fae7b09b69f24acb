"""Brazilian places: enough geography to answer "do you deliver to X?" from the documents.

A customer names a city or state; the documents name the few places a business
serves and say something about "the other states" or "outside". `generic_places`
turns a place the documents never name into those generic words, so the search
finds the passage about everywhere else.
"""

from __future__ import annotations

import re

from hub.knowledge.lexical import LexicalIndex
from hub.knowledge.text import tokenize

_STATES = (
    "acre", "alagoas", "amapa", "amazonas", "bahia", "ceara", "distrito federal",
    "espirito santo", "goias", "maranhao", "mato grosso", "mato grosso do sul",
    "minas gerais", "paraiba", "parana", "pernambuco", "piaui", "rio de janeiro",
    "rio grande do norte", "rio grande do sul", "rondonia", "roraima", "santa catarina",
    "sao paulo", "sergipe", "tocantins",
)  # fmt: skip
_CITIES: dict[str, tuple[str, bool]] = {
    # city: (state, is a state capital)
    "rio branco": ("acre", True),
    "maceio": ("alagoas", True),
    "macapa": ("amapa", True),
    "manaus": ("amazonas", True),
    "salvador": ("bahia", True),
    "fortaleza": ("ceara", True),
    "brasilia": ("distrito federal", True),
    "goiania": ("goias", True),
    "sao luis": ("maranhao", True),
    "cuiaba": ("mato grosso", True),
    "campo grande": ("mato grosso do sul", True),
    "belo horizonte": ("minas gerais", True),
    "belem": ("para", True),
    "joao pessoa": ("paraiba", True),
    "curitiba": ("parana", True),
    "recife": ("pernambuco", True),
    "teresina": ("piaui", True),
    "rio de janeiro": ("rio de janeiro", True),
    "porto alegre": ("rio grande do sul", True),
    "porto velho": ("rondonia", True),
    "florianopolis": ("santa catarina", True),
    "sao paulo": ("sao paulo", True),
    "aracaju": ("sergipe", True),
    "campinas": ("sao paulo", False),
    "santos": ("sao paulo", False),
    "guarulhos": ("sao paulo", False),
    "osasco": ("sao paulo", False),
    "sorocaba": ("sao paulo", False),
    "ribeirao preto": ("sao paulo", False),
    "sao jose dos campos": ("sao paulo", False),
    "niteroi": ("rio de janeiro", False),
    "londrina": ("parana", False),
    "maringa": ("parana", False),
    "joinville": ("santa catarina", False),
    "uberlandia": ("minas gerais", False),
    "contagem": ("minas gerais", False),
}
"""Brazilian states, their capitals and a few large cities: enough geography to tell
"a place the documents name" from "somewhere else" in delivery questions."""


_PLACE_PATTERNS = tuple(
    (name, re.compile(rf"\b{re.escape(name)}\b"))
    for name in sorted({*_CITIES, *_STATES}, key=lambda n: (-len(n), n))
)


def generic_places(index: LexicalIndex, text: str) -> tuple[str, list[str]]:
    """Places the documents never name, taken out of the text and replaced by generic terms.

    A city whose state the documents name becomes "that state, other cities"; any
    other unnamed place becomes "other states (or capitals, or cities), outside": a
    business that lists where it delivers answers for the rest with its passage
    about the other places.
    """
    generic: list[str] = []
    for name, pattern in _PLACE_PATTERNS:
        if not pattern.search(text) or all(index.knows(t) for t in tokenize(name)):
            continue  # not mentioned, or the documents name it: search for it as it is
        text = pattern.sub(" ", text)
        state, capital = _CITIES.get(name, (name, False))
        if name in _CITIES and not capital and all(index.knows(t) for t in tokenize(state)):
            generic += tokenize(f"{state} estado demais cidades")
        elif name in _CITIES and not capital:
            generic += tokenize("outros estados fora demais cidades")
        else:
            generic += tokenize("outros estados fora" + (" capitais" if capital else ""))
    return text, generic

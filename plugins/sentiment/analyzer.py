"""A VADER-style sentiment score for Brazilian Portuguese and English customer messages.

Offline and fast (a few dictionary look-ups per word): each word or phrase found
in the lexicon (`lexicon/*.tsv`) brings a valence from -4 to 4, adjusted by what
surrounds it, as in VADER (Hutto & Gilbert, 2014): a negator up to three words
before flips and dampens it ("não gostei", "not bad"); boosters and dampeners
move it ("muito", "meio", "really"; Portuguese "demais" after the word); a word
in capitals in a message that is not shouting weighs more; after a contrast
("mas", "porém", "but") words weigh 1.5 and before it 0.5; exclamation marks
push the whole. Emoji carry valences of their own. Irony turns the praise of a
message negative: an explicit cue ("só que não", "sqn", a trailing ", not",
"thanks for nothing"), an eye-roll emoji beside praise, or praise that opens a
message about a complaint ("Que ótimo, o pedido não chegou").

The sum is normalised to a compound score in [-1, 1] (x / sqrt(x² + 15)).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal

Label = Literal["positive", "neutral", "negative"]

NEUTRAL_BAND = 0.2
"""|score| below this is neutral: politeness ("ok, obrigada") is not an opinion."""

NEGATION_WINDOW = 3
NEGATION_FACTOR = -0.74
BOOST = 0.293
CAPS_BOOST = 0.733
EXCLAMATION_BOOST = 0.292
BEFORE_CONTRAST, AFTER_CONTRAST = 0.5, 1.5
ALPHA = 15.0

_NEGATORS = {
    "pt": {"nao", "nunca", "jamais", "nem", "nenhum", "nenhuma", "nada", "sem", "ninguem"},
    "en": {
        "not",
        "no",
        "never",
        "nothing",
        "without",
        "nobody",
        "hardly",
        "neither",
        "nor",
        "don't",
        "doesn't",
        "didn't",
        "isn't",
        "wasn't",
        "aren't",
        "can't",
        "couldn't",
        "won't",
        "wouldn't",
        "haven't",
        "hasn't",
        "dont",
        "doesnt",
        "didnt",
        "isnt",
        "cant",
    },
}
_BOOSTERS = {
    "pt": {
        "muito",
        "muita",
        "muitos",
        "muitas",
        "super",
        "mega",
        "bem",
        "tao",
        "extremamente",
        "totalmente",
        "completamente",
        "absolutamente",
        "realmente",
        "bastante",
        "ultra",
    },
    "en": {
        "very",
        "really",
        "so",
        "super",
        "extremely",
        "totally",
        "absolutely",
        "incredibly",
        "too",
        "such",
        "truly",
        "completely",
    },
}
_DAMPENERS = {
    "pt": {"pouco", "meio", "levemente", "razoavelmente", "quase"},
    "en": {"slightly", "somewhat", "kinda", "barely", "little", "bit", "fairly"},
}
_CONTRASTS = {
    "mas",
    "porem",
    "contudo",
    "entretanto",
    "todavia",
    "but",
    "however",
    "though",
    "although",
    "yet",
}
_COPULAS = {"sao", "e", "foi", "ficou", "esta", "ta", "estao", "foram"}
"""Before these, Portuguese "demais" is praise ("vocês são demais"), not a booster."""

_PT_HINTS = {
    "de",
    "que",
    "nao",
    "o",
    "a",
    "os",
    "as",
    "um",
    "uma",
    "para",
    "pra",
    "com",
    "meu",
    "minha",
    "voces",
    "vcs",
    "e",
    "do",
    "da",
    "no",
    "na",
    "foi",
    "esta",
    "muito",
}
_EN_HINTS = {
    "the",
    "i",
    "my",
    "is",
    "and",
    "to",
    "of",
    "it",
    "you",
    "for",
    "was",
    "this",
    "with",
    "not",
    "very",
    "at",
    "me",
    "are",
    "on",
    "what",
    "do",
    "can",
}

_IRONY_CUES = re.compile(
    r"\bso que nao\b|\bsqn\b|#not\b|\byeah right\b|\bsure, whatever\b|,\s*not[.!]*\s*$"
    r"|\bobrigad[oa] por nada\b|\bthanks? (you )?for nothing\b"
)
_EYE_ROLL = ("🙄", "😒", "🙃")
_OPENERS = re.compile(
    r"^\W*(que (otimo|otima|maravilha|beleza|lindo|legal|bom)|parabens|adorei|amei|excelente"
    r"|otimo|maravilha|perfeito|oh,? great|great|just great|love|loved|wonderful|perfect"
    r"|thanks a lot)\b"
)
_COMPLAINT = re.compile(
    r"\b(nao chegou|nao veio|ainda nao|so faltou|esperar|esperando|atrasad\w*|cancel\w*"
    r"|remarc\w*|pela (segunda|terceira|quarta|quinta) vez|em cima da hora|ninguem"
    r"|waiting|wait|late|cancel\w*|never arrived|nobody|no one)\b"
)

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_CLAUSE = re.compile(r"[,;.!?\n]+")


@dataclass(frozen=True)
class Sentiment:
    """One message's score in [-1, 1], its label, the language guessed, and whether ironic."""

    score: float
    label: Label
    language: Literal["pt", "en"]
    irony: bool = False


@dataclass(frozen=True)
class Lexicon:
    """Words, prefixes (`decepcion*`), phrases and emoji, each with a valence."""

    words: dict[str, float]
    prefixes: dict[str, float]
    phrases: dict[tuple[str, ...], float]
    emoji: dict[str, float]

    def valence(self, token: str) -> float | None:
        found = self.words.get(token)
        if found is not None:
            return found
        for end in range(len(token), 2, -1):
            found = self.prefixes.get(token[:end])
            if found is not None:
                return found
        return None


def fold(text: str) -> str:
    """Lower case without accents: "Péssimo" → "pessimo" (emoji kept)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The Portuguese, English and emoji lexicons shipped in the package (read once)."""
    words: dict[str, float] = {}
    prefixes: dict[str, float] = {}
    phrases: dict[tuple[str, ...], float] = {}
    emoji: dict[str, float] = {}
    folder = resources.files("plugins.sentiment") / "lexicon"
    for name in ("en.tsv", "pt.tsv", "emoji.tsv"):  # Portuguese wins a shared word
        for line in (folder / name).read_text(encoding="utf-8").splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            term, value = line.rsplit("\t", 1)
            valence = float(value)
            if name == "emoji.tsv":
                emoji[term] = valence
            elif " " in term:
                phrases[tuple(_WORD.findall(fold(term)))] = valence
            elif term.endswith("*"):
                prefixes[fold(term[:-1])] = valence
            else:
                words[fold(term)] = valence
    return Lexicon(words, prefixes, phrases, emoji)


def language_of(tokens: list[str]) -> Literal["pt", "en"]:
    """Portuguese unless English function words clearly outnumber Portuguese ones."""
    pt = sum(token in _PT_HINTS for token in tokens)
    en = sum(token in _EN_HINTS for token in tokens)
    return "en" if en > pt else "pt"


def analyze(text: str, *, band: float = NEUTRAL_BAND) -> Sentiment:
    """The sentiment of one customer message."""
    lex = lexicon()
    folded = fold(text)
    tokens, clauses = _tokens(folded)
    language = language_of(tokens)
    originals = re.findall(r"[^\W_]+(?:'[^\W_]+)?", text)
    shouting = text.upper() == text
    valences = _word_valences(tokens, clauses, originals, lex, language, shouting)
    irony = bool(_IRONY_CUES.search(folded))
    praise = any(v > 0 for v in valences)
    if praise and (
        any(e in text for e in _EYE_ROLL) or (_OPENERS.search(folded) and _COMPLAINT.search(folded))
    ):
        irony = True
    if irony:
        valences = [-abs(v) for v in valences]
    total = sum(valences) + _emoji_total(text, folded, lex, irony)
    if irony and total > -1.0:
        total -= 1.0
    if total:
        total += math.copysign(min(text.count("!"), 4) * EXCLAMATION_BOOST, total)
    score = total / math.sqrt(total * total + ALPHA)
    label: Label = "positive" if score >= band else "negative" if score <= -band else "neutral"
    return Sentiment(round(score, 4), label, language, irony)


def _tokens(folded: str) -> tuple[list[str], list[int]]:
    """The words, and the clause (between , ; . ! ? and line breaks) each one is in."""
    tokens: list[str] = []
    clauses: list[int] = []
    for clause, part in enumerate(_CLAUSE.split(folded)):
        words = _WORD.findall(part)
        tokens += words
        clauses += [clause] * len(words)
    return tokens, clauses


def _word_valences(
    tokens: list[str],
    clauses: list[int],
    originals: list[str],
    lex: Lexicon,
    language: str,
    shouting: bool,
) -> list[float]:
    negators, boosters, dampeners = (_NEGATORS[language], _BOOSTERS[language], _DAMPENERS[language])
    contrast_at = max((i for i, t in enumerate(tokens) if t in _CONTRASTS), default=-1)
    valences: list[float] = []
    i = 0
    while i < len(tokens):
        valence, length = _phrase(tokens, i, lex)
        token = tokens[i]
        if valence is None:
            if token == "demais" and language == "pt":
                if i > 0 and tokens[i - 1] in _COPULAS:
                    valence = 2.4
                elif valences and i > 0:  # "caro demais": boost the word before
                    valences[-1] += math.copysign(BOOST * 2, valences[-1]) if valences[-1] else 0
                    i += 1
                    continue
            else:
                valence = lex.valence(token)
        if valence is None or valence == 0:
            i += length
            continue
        for distance, before in enumerate(reversed(tokens[max(0, i - 3) : i])):
            scale = (1.0, 0.95, 0.9)[distance]
            if before in boosters:
                valence += math.copysign(BOOST * scale, valence)
            elif before in dampeners:
                valence -= math.copysign(BOOST * scale, valence)
        if not shouting and i < len(originals) and _caps(originals[i]):
            valence += math.copysign(CAPS_BOOST, valence)
        window = range(max(0, i - NEGATION_WINDOW), i)
        if any(tokens[j] in negators and clauses[j] == clauses[i] for j in window):
            valence *= NEGATION_FACTOR  # a negation never reaches across a comma
        if contrast_at >= 0:
            valence *= AFTER_CONTRAST if i > contrast_at else BEFORE_CONTRAST
        valences.append(valence)
        i += length
    return valences


def _phrase(tokens: list[str], i: int, lex: Lexicon) -> tuple[float | None, int]:
    """The longest lexicon phrase starting at token i (up to five words), or (None, 1)."""
    for length in range(5, 1, -1):
        found = lex.phrases.get(tuple(tokens[i : i + length]))
        if found is not None and i + length <= len(tokens):
            return found, length
    return None, 1


def _caps(word: str) -> bool:
    return len(word) >= 3 and word.isupper()


def _emoji_total(text: str, folded: str, lex: Lexicon, irony: bool) -> float:
    """Emoji and emoticons, longest first so ❤️ is not also counted as ❤."""
    total = 0.0
    rest = text + " " + folded  # emoticons such as ":d" only match folded
    for symbol in sorted(lex.emoji, key=len, reverse=True):
        count = rest.count(symbol)
        if count:
            value = lex.emoji[symbol]
            total += (-abs(value) if irony else value) * min(count, 3)
            rest = rest.replace(symbol, " ")
    return total

"""Portuguese-aware text normalisation: folding, tokens, stopwords and a light stemmer.

Customers write "horario", "Horário" and "horários" for the same thing, and the
documents say "funcionamento" where a customer asks "funciona?". Every lexical
comparison in ChatwootAI (BM25 over knowledge chunks, the keyword router) goes
through `tokenize`, so a question and a document meet on the same terms:
lowercase, accents folded, stopwords dropped, and words reduced by a small,
deterministic suffix stripper in the spirit of RSLP (Orengo & Huyck, 2001).
Codes ("cc-2026-00020", "bp-002"), money ("r$", "69,90") and times ("10:00")
survive as single tokens, written one canonical way. Diminutives ("manchinhas")
are not stemmed away, because documents have words of their own that end alike
("cozinha"); `diminutive_bases` offers their bases to a caller that needs them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

_TOKEN = re.compile(r"r\$|[a-z0-9]+(?:[-.,:/][a-z0-9]+)*%?")
_SPACES = re.compile(r"\s+")
_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_HOUR = re.compile(r"(\d{1,2})h(\d{2})?")
_NUMBER = re.compile(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:,\d+)?")
_SEPARATORS = re.compile(r"[-.,:/]")

# fmt: off
STOPWORDS = frozenset((
    "a", "ao", "aos", "aquela", "aquelas", "aquele", "aqueles", "aquilo", "as", "ate", "com",
    "como", "contra", "da", "das", "de", "dela", "delas", "dele", "deles", "depois", "do", "dos",
    "e", "ela", "elas", "ele", "eles", "em", "entre", "era", "eram", "essa", "essas", "esse",
    "esses", "esta", "estas", "este", "estes", "estou", "estao", "estar", "eu", "foi", "for",
    "foram", "ha", "havia", "isso", "isto", "ja", "la", "lhe", "lhes", "mas", "me", "mesmo",
    "mesma", "meu", "meus", "minha", "minhas", "muito", "muita", "na", "nas", "nao", "nem", "no",
    "nos", "nossa", "nossas", "nosso", "nossos", "num", "numa", "o", "os", "ou", "para", "pela",
    "pelas", "pelo", "pelos", "per", "por", "pra", "pro", "qual", "quais", "quando", "que",
    "quem", "se", "sem", "ser", "sera", "seu", "seus", "so", "sua", "suas", "tambem", "te", "tem",
    "temos", "tenho", "ter", "teu", "tua", "tuas", "teus", "um", "uma", "umas", "uns", "voce",
    "voces", "vc", "vcs", "vos", "sao", "aqui", "ali", "ai", "onde", "quanto", "quanta",
    "quantos", "quantas", "porque", "pq", "entao", "sobre", "cada", "todo", "toda", "todos",
    "todas", "tudo", "algum", "alguma", "alguns", "algumas", "nenhum", "nenhuma", "feira", "mais",
    "menos", "ainda", "bem",
    # greetings, courtesy and filler verbs of a chat message
    "oi", "ola", "ei", "bom", "boa", "tarde", "noite", "obrigado", "obrigada", "obg", "favor",
    "gostaria", "queria", "quero", "preciso", "precisa", "precisam", "precisava", "saber",
    "sabe", "pode", "podem", "poderia", "poderiam", "consigo", "posso", "seria", "tb", "tbm",
    "ok", "sim", "ne", "tipo", "dizer", "diga", "informar", "informa", "alguem", "coisa",
    "coisas", "tempo", "sai", "vai", "vou", "faz", "fazem", "fazer", "faco", "faca", "fiz", "fez",
    "fui", "tive", "teve", "ontem",
    # English
    "the", "an", "of", "to", "is", "are", "was", "and", "or", "in", "on", "at", "for", "with",
    "do", "does", "you", "your", "what", "how", "when", "where", "which", "who", "we", "it",
    "this", "that", "can", "have", "has", "please",
))
# fmt: on
"""Function words, greetings and filler: Portuguese first, then a few English ones.

Question words ("quanto", "quando", "onde") are here too: they say what kind of
answer is wanted, which the offline model reads from the raw text, not from tokens.
"""

_PLURALS: tuple[tuple[str, str], ...] = (
    ("oes", "ao"), ("aes", "ao"), ("aos", "ao"), ("ais", "al"), ("eis", "el"), ("ois", "ol"),
    ("res", "r"), ("zes", "z"), ("ses", "s"), ("ns", "m"),
)  # fmt: skip
_NOUN_SUFFIXES: tuple[str, ...] = (
    "abilidade", "ibilidade", "amente", "amento", "imento", "idade", "mente", "encia", "ancia",
    "acao", "icao", "ucao", "agem", "ador", "edor", "idor", "eiro", "eira", "avel", "ivel",
    "ista", "ismo", "cao", "ia",
)  # fmt: skip
_VERB_SUFFIXES: tuple[str, ...] = (
    "ariam", "eriam", "iriam", "assem", "essem", "issem", "aram", "eram", "iram", "avam",
    "arao", "erao", "ando", "endo", "indo", "ados", "adas", "idos", "idas", "amos", "emos",
    "imos", "arem", "erem", "irem", "aria", "eria", "iria", "ado", "ada", "ido", "ida", "ava",
    "ar", "er", "ir", "am", "em", "ou", "iu", "ei",
)  # fmt: skip
"""RSLP-like rules, longest first: (plural, singular) pairs, noun and verb suffixes."""

MIN_STEM = 3
"""No rule may leave fewer letters than this: "pao" stays "pao", "dia" stays "dia"."""

SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("preço", "valor", "custa", "custo", "cobram", "pagar"),
    ("horário", "funcionamento", "abre", "fecha", "aberto"),
    ("endereço", "localização", "fica"),
    ("entrega", "frete", "envio", "enviam", "entregam", "receber", "chega", "mandar", "mandam"),
    ("disponível", "saiu", "sair", "liberado"),
    ("parcelar", "parcelas", "vezes"),
    ("convênio", "plano"),
    ("troca", "devolução", "devolver"),
    ("cupom", "desconto"),
    ("marcar", "agendar", "agendamento", "consulta"),
    ("cancelar", "desmarcar", "remarcar"),
    ("pagamento", "pagar", "pix", "cartão", "boleto"),
    ("estoque", "disponível", "disponibilidade"),
)
"""Everyday words a customer uses for what a document names differently.

Only a hint for ranking: a synonym counts for less than the word itself.
"""


def normalize(text: str) -> str:
    """Lowercase, accents folded (NFKD without combining marks), spaces collapsed."""
    # Decompose before case-folding: compatibility forms such as "℠" decompose to
    # capitals ("SM"), which must be folded too for normalize() to be idempotent.
    decomposed = unicodedata.normalize("NFKD", text).casefold()
    decomposed = unicodedata.normalize("NFKD", decomposed)
    folded = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _SPACES.sub(" ", folded).strip()


def tokenize(text: str) -> list[str]:
    """Search terms of `text`, in order: normalised, stopwords removed, stemmed."""
    tokens: list[str] = []
    for raw in _TOKEN.findall(normalize(text)):
        for word in _split(raw):
            if word in STOPWORDS:
                continue
            tokens.append(stem(word))
    return tokens


def _split(raw: str) -> list[str]:
    """One raw match as tokens: codes and numbers whole, word compounds in parts."""
    if raw == "r$" or any(char.isdigit() for char in raw):
        return [_canonical_number(raw)]
    parts = [part for part in _SEPARATORS.split(raw.rstrip("%")) if part]
    if "-" in raw and any(len(part) == 1 for part in parts):
        return ["".join(parts)]  # e-mail → email
    return parts


def _canonical_number(token: str) -> str:
    """One spelling per number: "10:00" and "10h" → "10h", "1.200,00" → "1200"."""
    if match := _TIME.fullmatch(token):
        hours, minutes = int(match[1]), match[2]
        return f"{hours}h" if minutes == "00" else f"{hours}h{minutes}"
    if match := _HOUR.fullmatch(token):
        hours, minutes = int(match[1]), match[2]
        return f"{hours}h" if not minutes or minutes == "00" else f"{hours}h{minutes}"
    if _NUMBER.fullmatch(token):
        number = token.replace(".", "")
        if number.endswith(",00"):
            number = number[:-3]
        return number
    return token


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The stem of one folded, lowercase word; words with digits are left alone.

    Steps, in order: plural to singular ("protetores" → "protetor", "paes" →
    "pao"); then one noun/adverb suffix ("funcionamento" → "funcion") or, if none,
    one verb ending ("entregam" → "entreg"; "troquei" → "troc", as "troca": a customer
    tells what they did in the first person); if neither applied, the final vowel
    ("funciona" → "funcion", "horario" → "horari"). Each rule keeps at least
    MIN_STEM letters, so short words pass unchanged.
    """
    if len(word) <= MIN_STEM or not word.isalpha():
        return word
    word = _singular(word)
    for suffix in _NOUN_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= MIN_STEM:
            return word[: -len(suffix)]
    for suffix in _VERB_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= MIN_STEM:
            root = word[: -len(suffix)]
            return _hard_consonant(root) if suffix == "ei" else root
    if word.endswith(("gue", "que")) and len(word) - 2 >= MIN_STEM:
        return word[:-2]
    if word[-1] in "aeo" and len(word) - 1 >= MIN_STEM:
        return word[:-1]
    return word


def _hard_consonant(root: str) -> str:
    """The spelling a root has before "a"/"o": "troqu" (troquei) → "troc" (troca)."""
    if root.endswith("qu"):
        return root[:-2] + "c"
    if root.endswith("gu"):
        return root[:-1]
    return root


_DIMINUTIVES = ("zinh", "inh")
"""Stem endings of a diminutive: "manchinhas" → "manchinh", "florzinha" → "florzinh"."""


def diminutive_bases(token: str) -> list[str]:
    """The stems `token` may be a diminutive of, most likely first ("manchinh" → "manch").

    Not part of `stem`: documents say "cozinha", "caminho" and "carteirinha", which
    are words of their own, so only a caller that finds a customer's word unknown
    should try its bases ("rostinho" → "rosto", "cafezinho" → "café").
    """
    bases: list[str] = []
    for suffix in _DIMINUTIVES:
        root = _hard_consonant(token[: -len(suffix)]) if token.endswith(suffix) else ""
        if len(root) < MIN_STEM:
            continue
        # "-zinho" follows the whole word (flor-zinha); "-inho" replaces its vowel (mesa → mesinha)
        words = (root,) if suffix == "zinh" else (root + "a", root + "o", root)
        for word in words:
            base = stem(word)
            if base != token and base not in bases:
                bases.append(base)
    return bases


def _singular(word: str) -> str:
    if word.endswith(("amos", "emos", "imos")):
        return word  # a verb ("entregamos"), not a plural
    for suffix, replacement in _PLURALS:
        if word.endswith(suffix) and len(word) - len(suffix) + len(replacement) >= MIN_STEM:
            return word[: -len(suffix)] + replacement
    if word.endswith(("as", "es", "os")) and len(word) - 1 >= MIN_STEM + 1:
        return word[:-1]
    return word


@lru_cache(maxsize=1)
def _synonym_index() -> dict[str, frozenset[str]]:
    index: dict[str, set[str]] = {}
    for group in SYNONYM_GROUPS:
        stems = {token for word in group for token in tokenize(word)}
        for token in stems:
            index.setdefault(token, set()).update(stems - {token})
    return {token: frozenset(others) for token, others in index.items()}


def synonyms(tokens: Iterable[str]) -> set[str]:
    """Stems related to any of `tokens` (see SYNONYM_GROUPS), minus the tokens themselves."""
    given = set(tokens)
    index = _synonym_index()
    related: set[str] = set()
    for token in given:
        related |= index.get(token, frozenset())
    return related - given

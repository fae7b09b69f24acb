"""Which language a customer wrote in: Portuguese, English or Spanish, offline.

A chat message is short ("oi", "how much?", "¿cuánto cuesta?"), which is where
statistical detectors guess: one word of three letters carries little signal. So
this is a small rule set that counts only evidence it trusts: letters one language
has and the others lack ("ã", "ç", "ñ", "¿"), and words that are common in one of
the three and rare or absent in the other two ("você", "gracias", "the"). Words
the languages share ("que", "de", "no", "ok", "site") and loanwords count for no
one. When the evidence is thin or split, `detect` says None and the caller keeps
the language it already had (the conversation's, else the domain's).

Codes are ISO 639-1 primary subtags: a domain's "pt-BR" is "pt", "en-US" is "en".
The region is dropped on purpose: the offline model's wording and the domains'
translations differ by language, not by country, and a customer from Portugal
writing to a Brazilian shop is still answered in the shop's Portuguese.
"""

from __future__ import annotations

import re
import unicodedata

LANGUAGES: tuple[str, ...] = ("pt", "en", "es")
"""The languages `detect` can name."""

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")

# fmt: off
_MARKERS: dict[str, frozenset[str]] = {
    "pt": frozenset((
        "oi", "ola", "voce", "voces", "vc", "vcs", "nao", "sao", "tambem", "obrigado", "obrigada",
        "obg", "brigado", "obrigadao", "tudo", "bem", "bom", "boa", "dia", "noite", "tarde",
        "quanto", "quanta", "quantos", "quantas", "custa", "custam", "qual", "quais", "onde",
        "quando", "posso", "pode", "podem", "tem", "tenho", "temos", "meu", "minha", "meus",
        "minhas", "seu", "sua", "pra", "pro", "com", "um", "uma", "uns", "umas", "do", "da",
        "dos", "das", "ao", "aos", "na", "nas", "em", "num", "numa", "isso", "esse", "essa",
        "este", "esta", "aqui", "ai", "ja", "ate", "agora", "hoje", "amanha", "ontem", "quero",
        "queria", "gostaria", "preciso", "saber", "entrega", "entregam", "frete", "gratis",
        "horario", "funciona", "abre", "fecha", "aberto", "consulta", "marcar", "pedido",
        "compra", "comprar", "valor", "preco", "parcelar", "parcela", "parcelas", "vezes",
        "cartao", "troca", "trocar", "devolucao", "endereco", "fica", "loja", "mim", "sim",
        "beleza", "valeu", "blz", "tchau", "logo", "muito", "muita", "mais", "menos", "ainda",
        "entao", "porque", "pq", "tb", "tbm", "ne", "ta", "to", "estou", "sai", "fazem", "faz",
        "vou", "vai", "atende", "atendem", "aceita", "aceitam", "chega", "receber", "depois",
        "antes", "semana", "sabado", "domingo", "desconto", "cupom", "produto", "produtos",
        "filho", "filha", "medico", "pediatra", "exame", "dinheiro", "falar", "pessoa",
        "atendente", "humano", "alguem", "pagar", "como", "para", "por", "nada", "algo",
        "envio", "vale", "claro", "favor", "mas", "dias",
    )),
    "es": frozenset((
        "hola", "gracias", "usted", "ustedes", "cuanto", "cuanta", "cuantos", "cuantas",
        "cuesta", "cuestan", "cual", "cuales", "donde", "cuando", "puedo", "puede", "pueden",
        "tienen", "tiene", "tengo", "tenemos", "mi", "mis", "su", "sus", "el", "los", "las",
        "del", "al", "una", "unos", "unas", "es", "son", "esta", "estan", "estoy", "hay", "muy",
        "pero", "tambien", "y", "con", "quiero", "queria", "quisiera", "necesito", "saber",
        "gratis", "horario", "abren", "cierran", "abierto", "cita", "pedido", "compra",
        "comprar", "precio", "cuotas", "tarjeta", "cambio", "devolucion", "direccion", "tienda",
        "si", "buenos", "buenas", "buen", "dia", "tardes", "noches", "adios", "hasta", "luego",
        "mucho", "mucha", "menos", "entonces", "porque", "ahora", "hoy", "manana", "ayer",
        "semana", "sabado", "domingo", "descuento", "producto", "productos", "hijo", "hija",
        "medico", "pediatra", "dinero", "hablar", "persona", "alguien", "aceptan", "llega",
        "recibir", "despues", "antes", "yo", "eso", "ese", "esa", "este", "aqui", "ya",
        "vosotros", "bueno", "favor", "entrega", "consulta", "marcar", "funciona", "abre",
        "fecha", "humano", "tarde", "envian", "envio", "pagar", "como", "para", "por", "nada",
        "algo", "vale", "claro", "mas", "dias", "ninos", "nino",
    )),
    "en": frozenset((
        "hi", "hello", "hey", "thanks", "thank", "thx", "please", "pls", "the", "is", "are",
        "was", "were", "be", "what", "whats", "what's", "how", "much", "many", "when", "where",
        "which", "who", "why", "do", "does", "did", "don't", "can", "could", "would", "should",
        "will", "you", "your", "i", "i'm", "im", "my", "we", "our", "us", "it", "it's", "this",
        "that", "there", "have", "has", "and", "or", "of", "to", "in", "on", "at", "for", "with",
        "from", "an", "ship", "ships", "yes", "yeah", "good", "morning", "afternoon", "evening",
        "night", "price",
        "prices", "cost", "costs", "shipping", "deliver", "free", "order", "open", "close",
        "closed", "hours", "store", "shop", "buy", "pay", "payment", "installments", "card",
        "exchange", "return", "refund", "address", "located", "want", "need", "know", "tell",
        "about", "any", "some", "today", "tomorrow", "week", "appointment", "book", "doctor",
        "pediatrician", "son", "daughter", "kid", "kids", "child", "talk", "speak", "person",
        "human", "someone", "agent", "bye", "get", "take", "accept", "also", "not", "now", "here",
        "then", "sure", "discount", "coupon", "product", "products", "stock", "available",
        "after", "before", "weekend", "saturday", "sunday", "insurance", "plan", "cheers",
    )),
}
"""Words that point at one language, accents folded. A word in two lists points at
neither: `_EXCLUSIVE` keeps only the words found in exactly one."""
# fmt: on

_EXCLUSIVE: dict[str, frozenset[str]] = {
    language: words.difference(*(other for name, other in _MARKERS.items() if name != language))
    for language, words in _MARKERS.items()
}

_LETTERS: dict[str, str] = {"pt": "ãõçâêôà", "es": "ñ¿¡", "en": ""}
"""Letters and marks only one of the three languages writes."""

_ENDINGS: dict[str, tuple[str, ...]] = {
    "pt": ("ção", "ções", "ão", "ões", "inho", "inha"),
    "es": ("ción", "ciones"),
    "en": ("ing", "tion", "ly", "ness"),
}
"""Word endings typical of one language; weak evidence, counted once per message."""

_LETTER_WEIGHT = 2.0
_WORD_WEIGHT = 1.0
_ENDING_WEIGHT = 0.5
_MIN_SCORE = 1.0
"""A language needs at least one trusted word or letter to be named."""
_MIN_LEAD = 1.0
"""...and must lead the runner-up by as much: a tie or a near tie is unsure."""


def detect(text: str) -> str | None:
    """'pt', 'en' or 'es' for `text`, or None when the evidence is thin or split."""
    scores = _scores(text)
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    if top < _MIN_SCORE or top - second < _MIN_LEAD:
        return None
    return best


def choose(text: str, fallback: str) -> str:
    """The language to answer `text` in: the detected one, else `fallback` as a code.

    `fallback` is a language tag ("pt-BR", "en", "es-MX"): the conversation's
    language when the caller knows it, else the domain's `language`.
    """
    return detect(text) or code(fallback)


def code(tag: str) -> str:
    """The primary subtag of a language tag, lowercase: "pt-BR" → "pt", "EN_us" → "en"."""
    primary = re.split(r"[-_]", tag.strip(), maxsplit=1)[0].lower()
    return primary or LANGUAGES[0]


def _scores(text: str) -> dict[str, float]:
    lowered = unicodedata.normalize("NFC", text).casefold().replace("\u2019", "'")
    scores = dict.fromkeys(LANGUAGES, 0.0)
    for language, letters in _LETTERS.items():
        if any(letter in lowered for letter in letters):
            scores[language] += _LETTER_WEIGHT
    words = _WORD.findall(lowered)
    seen: set[str] = set()
    for word in words:
        folded = _fold(word)
        if folded in seen:
            continue
        seen.add(folded)
        for language, exclusive in _EXCLUSIVE.items():
            if folded in exclusive:
                scores[language] += _WORD_WEIGHT
    for language, endings in _ENDINGS.items():
        if any(len(word) > 5 and word.endswith(endings) for word in words):
            scores[language] += _ENDING_WEIGHT
    return scores


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(char for char in decomposed if not unicodedata.combining(char))

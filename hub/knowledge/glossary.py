"""A customer's words in the documents' words: English, Spanish and colloquial Portuguese.

The sample businesses write their documents in Portuguese, and the offline model
matches words (BM25 over `text.tokenize` terms): "Is shipping free?" shares no
word with "O frete é grátis para pedidos a partir de R$ 199,00", nor does "sai
de graça" or "10x". `search_text` rewrites a question into the documents'
vocabulary before it is searched: a phrase table per language (the asking words,
"how much" → "quanto custa", and everyday commerce, health and home words), the
colloquial Portuguese that documents never write ("10x" → "10 vezes"), and the
domain's own aliases (`knowledge.aliases` in domain.yaml: "rímel" → "máscara de
cílios").

Each entry replaces the customer's phrase when the documents do not use it, and
is added beside it when they do ("de graça" is in a store's pickup policy, "grátis"
in its delivery one): a known word is never lost. Only a rewrite for searching:
the reply quotes the documents as written, and the customer's own text is what
language detection reads.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache

from hub.knowledge.text import normalize, tokenize

# fmt: off
ENGLISH: tuple[tuple[str, str], ...] = (
    ("how much is it", "quanto custa"), ("how much does", "quanto custa"),
    ("how much is", "quanto custa"), ("how much are", "quanto custa"),
    ("how much for", "quanto custa"), ("how much", "quanto custa"),
    ("how many hours", "quantas horas"), ("how many days", "quantos dias"),
    ("how long", "prazo"), ("what time", "que horas"), ("opening hours", "horario"),
    ("business hours", "horario"), ("business days", "dias uteis"),
    ("where is", "onde fica"), ("where are", "onde ficam"), ("where's", "onde fica"),
    ("located", "fica"), ("location", "endereco"), ("address", "endereco"),
    ("free shipping", "frete gratis"), ("shipping", "frete entrega"),
    ("delivery", "entrega"), ("deliver", "entregam"), ("ship", "entregam"),
    ("free", "gratis"), ("price", "preco"), ("cost", "custa"), ("costs", "custa"),
    ("pay in installments", "parcelar"), ("installments", "parcelas"),
    ("instalments", "parcelas"), ("installment", "parcela"), ("credit card", "cartao de credito"),
    ("card", "cartao"), ("discount", "desconto"), ("coupon", "cupom"),
    ("first order", "primeira compra"), ("first purchase", "primeira compra"),
    ("loyalty", "fidelidade"), ("points", "pontos"),
    ("stores", "lojas"), ("store", "loja"), ("shops", "lojas"), ("shop", "loja"),
    ("saturdays", "sabado"), ("saturday", "sabado"), ("sundays", "domingo"),
    ("sunday", "domingo"), ("holidays", "feriados"), ("weekdays", "segunda a sexta"),
    ("open", "abre"), ("close", "fecha"), ("closed", "fechado"),
    ("exchange", "troca"), ("returns", "devolucao"), ("return", "devolver"),
    ("refund", "reembolso"), ("warranty", "garantia"), ("guarantee", "garantia"),
    ("electrical products", "eletricos"), ("electrical", "eletricos"),
    ("electronics", "eletricos"), ("pick up", "retirar"), ("pickup", "retirada"),
    ("collect", "retirar"), ("outside", "fora"), ("state", "estado"),
    ("same day", "mesmo dia"), ("tracking", "rastreio"), ("order", "pedido"),
    ("orders", "pedidos"), ("assembly", "montagem"), ("assemble", "montar"),
    ("tv stand", "rack tv"), ("coffee maker", "cafeteira"), ("towels", "toalhas"),
    ("pans", "panelas"), ("cookware", "panelas"), ("glasses", "copos"),
    ("drawer organizer", "organizador gavetas"),
    ("vitamin c", "vitamina c"), ("serum", "serum"), ("sunscreen", "protetor solar"),
    ("mascara", "mascara de cilios"), ("cleanser", "gel de limpeza"),
    ("moisturizer", "hidratante"), ("moisturiser", "hidratante"),
    ("makeup remover", "demaquilante"), ("foundation", "base"), ("oily skin", "pele oleosa"),
    ("dry skin", "pele seca"), ("dark spots", "manchas"), ("skin assessment", "avaliacao de pele"),
    ("waterproof", "prova d agua"), ("in stock", "estoque"), ("available", "disponivel"),
    ("appointment", "consulta"), ("consultation", "consulta"), ("book", "marcar"),
    ("schedule", "marcar"), ("cancel", "cancelar"), ("reschedule", "remarcar"),
    ("specialist", "especialista"), ("pediatrician", "pediatra"),
    ("paediatrician", "pediatra"), ("cardiologist", "cardiologia"),
    ("dermatologist", "dermatologia"), ("gynecologist", "ginecologia"),
    ("gynaecologist", "ginecologia"), ("nutritionist", "nutricionista"),
    ("general practitioner", "clinica medica"), ("doctor", "medico"),
    ("health insurance", "convenio"), ("insurance", "convenio"), ("health plan", "convenio"),
    ("plans", "convenios"), ("accept", "aceita"), ("take", "aceita"),
    ("blood test", "exame de sangue"), ("lab test", "exame"), ("test results", "resultados"),
    ("results", "resultados"), ("fasting", "jejum"), ("last minute", "antecedencia"),
    ("cholesterol", "colesterol"), ("glucose", "glicose"), ("clinic", "clinica"),
    ("arrive", "chegar"), ("early", "antes"), ("phone number", "telefone"),
    ("phone", "telefone"), ("emergency", "emergencia"),
    ("when will", "quando"), ("when", "quando"), ("tests", "exames"), ("test", "exame"),
    ("son", "filho"), ("daughter", "filha"), ("child", "filho"), ("kid", "filho"),
    ("ready", "disponiveis"),
)
"""English → the documents' Portuguese, longest phrase first within each group."""

SPANISH: tuple[tuple[str, str], ...] = (
    ("cuanto cuesta", "quanto custa"), ("cuanto vale", "quanto custa"),
    ("cuanto sale", "quanto custa"), ("cuanto", "quanto"), ("precio", "preco"),
    ("envios", "frete entrega"), ("envio", "frete entrega"),
    ("horario de atencion", "horario"), ("horario", "horario"), ("atencion", "atendimento"),
    ("donde estan", "onde ficam"), ("donde esta", "onde fica"), ("donde", "onde"),
    ("direccion", "endereco"), ("tiendas", "lojas"), ("tienda", "loja"),
    ("abren", "abre"), ("cierran", "fecha"), ("cuotas", "parcelas"), ("tarjeta", "cartao"),
    ("descuento", "desconto"), ("cupon", "cupom"), ("devolucion", "devolucao"),
    ("cambio", "troca"),
    ("cardiologo", "cardiologia"), ("dermatologo", "dermatologia"),
    ("ginecologo", "ginecologia"),
    ("seguro medico", "convenio"), ("seguro", "convenio"), ("ayuno", "jejum"),
    ("analisis de sangre", "exame de sangue"), ("hijo", "filho"), ("hija", "filha"),
    ("recoger", "retirar"), ("montaje", "montagem"), ("cafetera", "cafeteira"),
)
"""Spanish → the documents' Portuguese."""

COLLOQUIAL: tuple[tuple[str, str], ...] = (
    ("sai de graca", "gratis"), ("sai gratis", "gratis"), ("de graca", "gratis"),
    ("frete free", "frete gratis"), ("em cima da hora", "antecedencia"),
    ("quanto ta", "quanto custa"), ("quanto que e", "quanto custa"),
    ("quanto sai", "quanto custa"), ("sai quanto", "quanto custa"),
    ("sai por quanto", "quanto custa"), ("fica quanto", "quanto custa"),
    ("fica em quanto", "quanto custa"), ("clinico geral", "clinica medica"),
    ("nutri", "nutricionista"), ("fone", "telefone"), ("tel", "telefone"),
    ("zap", "whatsapp"), ("whats", "whatsapp"), ("pegam", "aceitam"), ("pega", "aceita"),
    ("abri", "aberto"), ("abriu", "aberto"), ("usei", "usado"), ("hoje mesmo", "mesmo dia"),
    ("compra pequena", "pedidos abaixo"), ("compra for pequena", "pedidos abaixo"),
    ("pedido pequeno", "pedidos abaixo"), ("pedido for pequeno", "pedidos abaixo"),
)
"""Chat Portuguese → the documents' Portuguese; "10x" → "10 vezes" is a rule of its own."""
# fmt: on

FILLER: dict[str, frozenset[str]] = {
    "en": frozenset((
        "i", "i'm", "im", "me", "my", "mine", "we", "our", "us", "you", "your", "they", "them",
        "it", "it's", "its", "a", "an", "the", "is", "are", "was", "were", "be", "been", "am",
        "do", "does", "did", "can", "could", "would", "should", "will", "shall", "may", "might",
        "need", "want", "like", "get", "got", "have", "has", "had", "there", "any", "some",
        "for", "to", "of", "in", "on", "at", "by", "with", "from", "about", "if", "so", "just",
        "also", "please", "hi", "hello", "hey", "thanks", "what", "what's", "which", "who",
        "when", "how", "this", "that", "these", "those", "and", "or", "but", "up", "one",
        "much", "many", "know", "tell", "let", "well", "yes", "no", "not", "there's", "here",
    )),
    "es": frozenset((
        "el", "la", "los", "las", "un", "una", "unos", "unas", "del", "al", "es", "son", "su",
        "sus", "mi", "mis", "tu", "yo", "usted", "ustedes", "con", "y", "o", "de", "en", "por",
        "para", "que", "cual", "cuales", "hay", "muy", "tienen", "tiene", "puedo", "puede",
        "necesito", "quiero", "hola", "gracias", "favor", "se", "lo", "le", "les", "me",
        "estan", "esta", "como",
    )),
    "pt": frozenset(("ir",)),
}  # fmt: skip
"""Words of a language that say nothing to a search and that the table left as written;
dropped, since a word the documents never use counts against an answer."""

_INSTALMENTS = re.compile(r"\b(\d{1,2}) ?x\b")
_POSSESSIVE = re.compile(r"\b(?!(?:what|where|it|there|that|who|here|how|let)'s)(\w+)'s\b")
"""An English possessive ("the clinic's address"), not a contraction ("what's")."""
_PHRASE_BOUNDARY = r"(?<![\w'])"
_PHRASE_END = r"(?![\w'])"


def search_text(
    question: str,
    *,
    knows: Callable[[str], bool],
    aliases: Mapping[str, str] | None = None,
    language: str | None = None,
) -> str:
    """`question` in the documents' words, folded (see the module doc).

    `knows` tells whether the documents use a term (`LexicalIndex.knows`);
    `aliases` are the domain's own; `language` ("en", "es", else Portuguese)
    picks the phrase table, the colloquial one always applies.
    """
    text = normalize(question).replace("\u2019", "'")
    text = _INSTALMENTS.sub(r"\1 vezes parcelar", text)
    if language == "en":
        text = _POSSESSIVE.sub(r"\1", text)
    table = {"en": ENGLISH, "es": SPANISH}.get(language or "")
    if table is not None:
        text = _apply(text, _sorted(table), knows, FILLER[language or ""])
    text = _apply(text, _sorted(COLLOQUIAL), knows, FILLER["pt"])
    if aliases:
        own = sorted(((normalize(k), normalize(v)) for k, v in aliases.items()), key=_longest)
        text = _apply(text, own, knows, frozenset())
    return text


def _apply(
    text: str,
    table: Iterable[tuple[str, str]],
    knows: Callable[[str], bool],
    filler: frozenset[str],
) -> str:
    """`text` with the table's phrases rewritten and, elsewhere, `filler` words dropped."""
    pieces = _rewrite([(text, False)], table, knows)
    words = [
        piece if done else " ".join(w for w in piece.split() if w.strip("?!.,;:¿¡") not in filler)
        for piece, done in pieces
    ]
    return re.sub(r"\s+", " ", " ".join(words)).strip()


def _rewrite(
    pieces: list[tuple[str, bool]],
    table: Iterable[tuple[str, str]],
    knows: Callable[[str], bool],
) -> list[tuple[str, bool]]:
    """The table's phrases rewritten, leftmost first and, where several start at one
    place, the longest: "blood test results" is "blood test" + "results", not "test
    results". Rewritten pieces (True) are not rewritten again."""
    entries = dict(table)
    if not entries:
        return pieces
    pattern = _alternation(tuple(sorted(entries, key=lambda phrase: -len(phrase))))
    updated: list[tuple[str, bool]] = []
    for piece, done in pieces:
        if done:
            updated.append((piece, done))
            continue
        start = 0
        for match in pattern.finditer(piece):
            phrase = match[0]
            terms = tokenize(phrase)
            spoken = bool(terms) and all(knows(term) for term in terms)
            updated.append((piece[start : match.start()], False))
            updated.append((f"{phrase} {entries[phrase]}" if spoken else entries[phrase], True))
            start = match.end()
        updated.append((piece[start:], False))
    return [(piece, done) for piece, done in updated if piece.strip()]


def _sorted(table: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    return sorted(table, key=_longest)


def _longest(entry: tuple[str, str]) -> tuple[int, str]:
    return (-len(entry[0]), entry[0])


@lru_cache(maxsize=64)
def _alternation(phrases: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern for every phrase, longest first, on word boundaries."""
    choices = "|".join(re.escape(phrase) for phrase in phrases)
    return re.compile(f"{_PHRASE_BOUNDARY}(?:{choices}){_PHRASE_END}")

"""Answers from a domain's own documents: the lines that answer a question, verbatim.

This is the model-independent half of the offline model (`hub.offline.model`):
it does not generate. It finds the passages that answer the question (BM25 over
the domain's chunks), picks the lines of them that answer it best, and replies
with those lines under a short lead-in, or with the domain's `messages.unknown`
when the documents do not cover the question well enough.

How it decides, in short:
- terms: the question's own words, weaker synonyms ("custa" → "preço"), words
  that only ask for a kind of fact ("quanto custa", "prazo") weakened, a clause telling what
  the customer did ("comprei umas toalhas") weakened as the setting, a diminutive the
  documents never use read as its base ("manchinhas" → "manchas"), and a Brazilian
  place the documents never name turned into "other states/capitals, outside";
- unknown when the retrieved passages, or the lines chosen from them, cover too
  little of the question (IDF-weighted share: MIN_COVERAGE, MIN_ANSWER_COVERAGE);
  a line that gives the kind of fact asked covers the words that asked for it
  ("30 dias" answers "prazo");
- lines (sentences, bullet items) scored by their overlap with the question, a
  heading lending its words to its lines, boosted when they hold the kind of fact
  asked: a price, a time, a duration, an address;
- up to MAX_LINES lines, best passage first, each passage's lines in document
  order, at most MAX_REPLY_CHARS; a message of several questions (sentences, or
  clauses that each ask: "qual o endereço e até que horas abre?") that cannot be
  answered as a whole, or whose whole answer leaves a kind of fact asked out, is
  answered question by question. The lead-in names the kind of fact ("Sobre
  valores:") only when one kind was answered.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from hub.knowledge.chunking import Chunk, Sentence, sentences
from hub.knowledge.lexical import Hit, LexicalIndex
from hub.knowledge.text import diminutive_bases, normalize, synonyms, tokenize
from hub.offline.places import generic_places

CANDIDATES = 6
"""Passages retrieved per question; lines are chosen among them."""

RELATIVE_SCORE = 0.35
"""A passage below this share of the best BM25 score is not used."""

MIN_COVERAGE = 0.6
"""Share of the question (IDF-weighted) the passages must cover, or the answer is unknown."""

MIN_ANSWER_COVERAGE = 0.45
"""Share of the question the chosen lines (with their headings) must cover themselves."""

MIN_LINE_SCORE = 0.3
"""The best line must cover at least this share of the question by itself (or its heading)."""

SYNONYM_WEIGHT = 0.4
PLACE_WEIGHT = 0.6
NUMBER_WEIGHT = 0.5
FRAMING_WEIGHT = 0.3
"""Weight of the words that only ask for a kind of fact ("custa", "que horas")."""

NARRATIVE_WEIGHT = 0.3
"""Weight of the words of a clause telling what the customer did ("Comprei umas toalhas").

That clause is the setting, not what is asked ("e quero trocar, qual o prazo?"): at
full weight its product would outweigh the exchange policy the question is about,
and "comprei" would rank any passage saying "compra" first. Words the documents
never use keep their full weight: "Comprei um carro…" must stay unknown, and a noun
that only looks like such a verb ("vôlei") is not weakened.
"""

SYNONYM_CREDIT = 0.8
"""A question word counts as this much covered when only a synonym of it was found."""

HEADING_SHARE = 0.6
OUTER_HEADING_SHARE = 0.3
"""A passage's heading words count this much for each of its lines (outer headings less)."""

KIND_BOOST = 1.5
"""A line with the kind of fact asked (a price for "quanto custa") scores this much more."""

SAME_PASSAGE_RATIO = 0.5
OTHER_PASSAGE_RATIO = 0.8
NEW_INFORMATION = 0.25
"""A line of another passage must cover this much of the question that was not said yet."""

NEAR_TIE = 0.9
"""A line of another passage this close to the best is shown too (an ambiguous question)."""

REDUNDANT_SHARE = 0.7
MAX_LINES = 4
MAX_REPLY_CHARS = 700

_KIND_QUESTION: dict[str, re.Pattern[str]] = {
    "price": re.compile(r"\b(quanto custa|quanto (e|fica|sai)|preco|valor|custa|custo|cobra)"),
    "hours": re.compile(
        r"\b(horario|que horas|abre|abrem|fecha|fecham|funcionamento|aberto|aberta)"
        r"|(?<!como )\bfunciona\b"
    ),
    "duration": re.compile(
        r"\b(prazo|quando|quanto tempo|demora|quantos dias|validade|expira|jejum)"
    ),
    "place": re.compile(r"\b(onde|endereco|localiza|como chegar)"),
}
_KIND_ANSWER: dict[str, re.Pattern[str]] = {
    "price": re.compile(r"r\$ ?\d|\d+ ?%|\bgratis\b|\bgratuit"),
    "hours": re.compile(r"\b\d{1,2}(:\d{2}|h\b)"),
    "duration": re.compile(
        r"\b\d+ ?(dias?|horas?|meses|mes|minutos|semanas|anos?)\b|\b\d{1,2}:\d{2}"
    ),
    "place": re.compile(r"\b(rua|avenida|av\.|alameda|praca|rodovia|estrada|travessa)\b"),
}
_KIND_WORDS: dict[str, frozenset[str]] = {
    kind: frozenset(tokenize(words))
    for kind, words in {
        "price": "preço valor custa custo cobra",
        "hours": "horário funcionamento",
        "duration": "prazo demora",
        "place": "endereço localização",
    }.items()
}
"""Words that only name the kind of fact asked: weak terms, and said by a line giving the fact.

"Qual o prazo?" is answered by "em até 30 dias", which never says "prazo"; at full
weight, "prazo" would also outweigh what the question is about ("…devolver um aquário?").
"""
_ASKING = re.compile(_KIND_QUESTION["price"].pattern + r"|\bque horas\b")
"""Words that only ask for a kind of fact ("quanto custa", "que horas"): weak terms."""
_FRAMING = re.compile(
    r"\bcomo (funciona|faco|faz|que)\b|\b(bom dia|boa tarde|boa noite|tudo (bem|bom))\b"
)
"""Ways of asking and greeting that are not the subject ("como funciona a avaliação?")."""
_NARRATIVE = re.compile(r"\b[a-z]{3,}ei\b")
"""First-person past verbs ("comprei", "troquei", "marquei"): what the customer did."""
_PARTS = re.compile(r"[?!;\n]+|\.\s+")
"""Where one question of a message ends and the next begins."""
_CONJUNCTION = re.compile(r"(\s*,?\s+(?:e|and)\s+|\s*,\s+)", re.IGNORECASE)
"""Where a sentence may join two questions ("qual o endereço e até que horas abre")."""
_INTERROGATIVE = re.compile(
    r"^(?:e |ate |and )?(?:qual|quais|quanto|quanta|quantos|quantas|quando|onde|como"
    r"|por ?que|o que|que|what|when|where|how|which)\b"
)
"""A clause that opens with a question word asks something of its own."""
_GREETING = re.compile(
    r"^\W*(oi+|ola|bom dia|boa tarde|boa noite|hello|hi|hey|e ai|hola"
    r"|buen[oa]s (dias|tardes|noches))\b"
)
_THANKS = re.compile(r"\b(obrigad[oa]|valeu|agradec|thanks|thank you|gracias)")

_PHRASES: dict[str, dict[str, str]] = {
    "pt": {
        "price": "Sobre valores:",
        "hours": "Sobre o horário:",
        "duration": "Sobre prazos:",
        "place": "Sobre o endereço:",
        "default": "Aqui está o que encontrei nas nossas informações:",
        "closing": "Posso ajudar em mais alguma coisa?",
        "greeting": "Olá! Como posso ajudar?",
        "thanks": "Por nada! Se precisar de mais alguma coisa, é só chamar.",
    },
    "en": {
        "price": "About prices:",
        "hours": "About our hours:",
        "duration": "About time frames:",
        "place": "About the address:",
        "default": "Here is what I found in our information:",
        "closing": "Can I help with anything else?",
        "greeting": "Hello! How can I help?",
        "thanks": "You're welcome! Just ask if you need anything else.",
    },
    "es": {
        "price": "Sobre precios:",
        "hours": "Sobre el horario:",
        "duration": "Sobre plazos:",
        "place": "Sobre la dirección:",
        "default": "Esto es lo que encontré en nuestra información:",
        "closing": "¿Puedo ayudarte con algo más?",
        "greeting": "¡Hola! ¿En qué puedo ayudarte?",
        "thanks": "¡De nada! Si necesitas algo más, aquí estoy.",
    },
}
"""The model's own words per language code; the documents' lines are quoted as written."""


@dataclass(frozen=True)
class Query:
    """What the model reads from a question: weighted search terms and what is asked."""

    terms: dict[str, float]
    core: dict[str, float]
    kinds: frozenset[str]


@dataclass(frozen=True)
class Line:
    """A candidate line of a reply, with where it is from and how well it answers."""

    sentence: Sentence
    chunk: Chunk
    rank: int
    position: int
    score: float
    relevance: float
    terms: frozenset[str]
    covered: frozenset[str]
    kind: bool


@dataclass(frozen=True)
class Finding:
    """The answer to one question: what was asked, the lines chosen, the kind of fact."""

    query: Query
    lines: tuple[Line, ...]
    kind: str


def answer(
    index: LexicalIndex, question: str, *, unknown_reply: str, language: str = "pt-BR"
) -> str:
    """The reply to `question` from the indexed documents, or `unknown_reply`.

    A message of several questions that is not answerable as a whole, or whose whole
    answer leaves out a kind of fact it asks for (the hours of "the address and until
    when are you open?"), is answered question by question when that answers more;
    the questions the documents do not answer end the reply with `unknown_reply`
    instead of the closing question.
    """
    phrases = _phrases(language)
    whole = find(index, question)
    if whole is not None and _answered([whole]) >= whole.query.kinds:
        return _compose([whole], phrases, ending=phrases["closing"])
    parts = questions(question)
    findings = [find(index, part) for part in parts] if len(parts) > 1 else []
    found = [finding for finding in findings if finding is not None]
    if found and (whole is None or len(_answered(found)) > len(_answered([whole]))):
        ending = phrases["closing"] if len(found) == len(findings) else unknown_reply
        return _compose(found, phrases, ending=ending)
    if whole is not None:
        return _compose([whole], phrases, ending=phrases["closing"])
    if not understand(index, question).core:
        text = normalize(question)
        if _GREETING.search(text):
            return phrases["greeting"]
        if _THANKS.search(text):
            return phrases["thanks"]
    return unknown_reply


def questions(message: str) -> list[str]:
    """The questions of a message: its sentences, and the clauses of a sentence that
    each ask something ("Qual o endereço da loja e até que horas abre no sábado?").

    A clause starts a new question only when it and the clause before it both ask
    (a question word, or a kind of fact: price, hours, time frame, place); "o sérum
    e o protetor" stays one question.
    """
    found: list[str] = []
    for sentence in _PARTS.split(message):
        first, *rest = _CONJUNCTION.split(sentence.strip())
        current = first
        for joiner, clause in zip(rest[::2], rest[1::2], strict=True):
            if _asks(current) and _asks(clause):
                found.append(current)
                current = clause
            else:
                current += joiner + clause
        found.append(current)
    return [question for question in found if tokenize(question)]


def _asks(clause: str) -> bool:
    text = normalize(clause)
    return bool(_INTERROGATIVE.search(text)) or any(
        pattern.search(text) for pattern in _KIND_QUESTION.values()
    )


def _answered(findings: Sequence[Finding]) -> set[str]:
    """The kinds of fact asked (price, hours…) that the findings' lines give."""
    return set().union(*(_kinds_answered(f.query, f.lines) for f in findings))


def find(index: LexicalIndex, question: str) -> Finding | None:
    """The lines that answer `question`, or None when the documents do not answer it."""
    query = understand(index, question)
    if not query.core:
        return None
    hits = index.search_terms(query.terms, k=CANDIDATES)
    hits = [hit for hit in hits if hit.score >= RELATIVE_SCORE * hits[0].score]
    spoken = set().union(*(h.matched for h in hits)) | _kind_words(query, [h.chunk for h in hits])
    if not hits or _coverage(index, query, spoken) < MIN_COVERAGE:
        return None
    lines = _score_lines(index, query, hits)
    if not lines or max(line.relevance for line in lines) < MIN_LINE_SCORE:
        return None
    chosen = _choose(index, query, lines)
    said = set().union(*(line.covered for line in chosen))
    said |= _kind_words(query, [line.sentence for line in chosen])
    if _coverage(index, query, said) < MIN_ANSWER_COVERAGE:
        return None  # the passages speak to the question, but none of their lines does
    answered = _kinds_answered(query, chosen)
    kind = answered.pop() if len(answered) == 1 else "default"  # one lead-in for one kind only
    return Finding(query=query, lines=tuple(chosen), kind=kind)


def understand(index: LexicalIndex, question: str) -> Query:
    """Terms of the question: its own (numbers, "what kind" words and the setting a
    customer tells weaker, diminutives as their base), synonyms, and places the
    documents never name made generic."""
    text = normalize(question)
    kinds = frozenset(kind for kind, pattern in _KIND_QUESTION.items() if pattern.search(text))
    text, place_terms = generic_places(index, _FRAMING.sub(" ", text))
    framing = {token for match in _ASKING.finditer(text) for token in tokenize(match[0])}
    kind_words = {word for kind in kinds for word in _KIND_WORDS[kind]}
    if any(token not in kind_words and token not in framing for token in _terms(index, text)):
        # "Qual o prazo para devolver?": the kind word only frames the question. Alone
        # ("Qual o endereço?") it is what the question is about, and keeps its weight.
        framing |= kind_words
    verbs = {token for match in _NARRATIVE.finditer(text) for token in _terms(index, match[0])}
    setting = set(_terms(index, _setting(text)))
    core: dict[str, float] = {}
    for token in _terms(index, text):
        if token in framing:
            core[token] = FRAMING_WEIGHT
        elif (token in verbs or token in setting) and index.knows(token):
            core[token] = NARRATIVE_WEIGHT
        else:
            core[token] = NUMBER_WEIGHT if token[:1].isdigit() else 1.0
    terms = dict(core)
    for token in sorted(synonyms(core)):
        terms.setdefault(token, SYNONYM_WEIGHT)
    for token in place_terms:
        terms.setdefault(token, PLACE_WEIGHT)
    return Query(terms=terms, core=core, kinds=kinds)


def _setting(text: str) -> str:
    """The clauses of `text` that tell what the customer did and ask nothing
    ("comprei umas toalhas"), when some other clause is left to say what is asked."""
    clauses = [
        clause
        for sentence in _PARTS.split(text)
        for clause in _CONJUNCTION.split(sentence)[::2]
        if tokenize(clause)
    ]
    told = [clause for clause in clauses if _NARRATIVE.search(clause) and not _asks(clause)]
    return " ".join(told) if len(told) < len(clauses) else ""


def _terms(index: LexicalIndex, text: str) -> list[str]:
    return [_known_base(index, token) for token in tokenize(text)]


def _known_base(index: LexicalIndex, token: str) -> str:
    """`token`, or the word it is a diminutive of when only that one is in the documents.

    "manchinhas" asks about "manchas": an unknown word weighs the most in coverage,
    so reading a diminutive as itself would make a covered question look unknown.
    """
    if index.knows(token):
        return token
    return next((base for base in diminutive_bases(token) if index.knows(base)), token)


def _coverage(index: LexicalIndex, query: Query, found: Collection[str]) -> float:
    """The share (0…1) of the question, IDF-weighted, that `found` terms speak to.

    A question word only a synonym of which was found counts SYNONYM_CREDIT.
    """
    total = sum(weight * index.idf(term) for term, weight in query.core.items())
    covered = 0.0
    for term, weight in query.core.items():
        if term in found:
            covered += weight * index.idf(term)
        elif any(other in found for other in synonyms([term])):
            covered += SYNONYM_CREDIT * weight * index.idf(term)
    return covered / total if total else 0.0


def _score_lines(index: LexicalIndex, query: Query, hits: Sequence[Hit]) -> list[Line]:
    """Every line of the retrieved passages, best first, scored against the question."""
    total = sum(w * index.idf(t) for t, w in query.core.items()) or 1.0
    top = hits[0].score
    lines: list[Line] = []
    for rank, hit in enumerate(hits):
        title_terms = set(tokenize(hit.chunk.title))
        outer_terms = set(tokenize(hit.chunk.heading)) - title_terms
        relevance = 0.5 + 0.5 * hit.score / top
        for position, sentence in enumerate(sentences(hit.chunk.text)):
            own = frozenset(tokenize(sentence.text))
            mass = 0.0
            for term, weight in query.terms.items():
                if term in own:
                    mass += weight * index.idf(term)
                elif term in title_terms:
                    mass += HEADING_SHARE * weight * index.idf(term)
                elif term in outer_terms:
                    mass += OUTER_HEADING_SHARE * weight * index.idf(term)
            kind = any(_KIND_ANSWER[k].search(normalize(sentence.text)) for k in query.kinds)
            base = relevance * mass / total
            covered = own | title_terms | outer_terms
            lines.append(
                Line(
                    sentence=sentence,
                    chunk=hit.chunk,
                    rank=rank,
                    position=position,
                    score=base * KIND_BOOST if kind else base,
                    relevance=base,
                    terms=own,
                    covered=covered,
                    kind=kind,
                )
            )
    return sorted(lines, key=lambda line: (-line.score, line.rank, line.position))


def _choose(index: LexicalIndex, query: Query, ranked: Sequence[Line]) -> list[Line]:
    """The best line and those nearly as good, in reading order.

    A line of another passage must also say something the chosen lines don't
    (NEW_INFORMATION of the question) or tie with the best and cover as much of the
    question; a line whose words were all said already is skipped.
    When the question asks for a price, a time or a place and no chosen line has
    one, the best passage's line that has it is added.
    """
    best = ranked[0]
    chosen = [best]
    for line in ranked[1:]:
        if len(chosen) >= MAX_LINES or line.score <= 0:
            break
        if _redundant(line, set().union(*(c.terms for c in chosen))):
            continue
        said = set().union(*(c.terms | c.covered for c in chosen))
        if any(line.chunk is c.chunk for c in chosen):
            if line.score >= SAME_PASSAGE_RATIO * best.score:
                chosen.append(line)
        elif line.score >= OTHER_PASSAGE_RATIO * best.score and (
            _coverage(index, query, line.terms - said) >= NEW_INFORMATION
            or (
                line.score >= NEAR_TIE * best.score
                and _coverage(index, query, line.covered) >= _coverage(index, query, best.covered)
            )
        ):
            chosen.append(line)
    if query.kinds and not any(line.kind for line in chosen):
        chosen += [line for line in ranked if line.kind and line.chunk is best.chunk][:1]
    intros = [
        line
        for line in ranked
        if line.sentence.intro
        and any(c.chunk is line.chunk and c.position == line.position + 1 for c in chosen)
    ]
    unique: dict[tuple[int, int], Line] = {}
    for line in chosen + intros:
        unique.setdefault((line.rank, line.position), line)
    return sorted(unique.values(), key=lambda line: (line.rank, line.position))


def _redundant(line: Line, said: set[str]) -> bool:
    """Whether most of the line's words were said already (the same fact, told twice)."""
    return bool(line.terms) and len(line.terms & said) >= REDUNDANT_SHARE * len(line.terms)


def _kind_words(query: Query, texts: Sequence[Chunk | Sentence]) -> set[str]:
    """The words naming a kind of fact asked ("prazo") that one of `texts` gives ("15 dias")."""
    folded = [normalize(text.text) for text in texts]
    return {
        word
        for kind in query.kinds
        if any(_KIND_ANSWER[kind].search(text) for text in folded)
        for word in _KIND_WORDS[kind]
    }


def _kinds_answered(query: Query, lines: Sequence[Line]) -> set[str]:
    return {
        kind
        for kind in query.kinds
        if any(_KIND_ANSWER[kind].search(normalize(line.sentence.text)) for line in lines)
    }


def _compose(findings: Sequence[Finding], phrases: Mapping[str, str], *, ending: str) -> str:
    """Per finding a lead-in and its lines grouped by passage (the best first); then `ending`.

    A passage's lines are labelled with its heading when the heading names what
    its first line does not ("CC-103 Air Fryer …: Preço: R$ 349,90."). Passages
    that would take the reply past MAX_REPLY_CHARS are left out, and a line
    already said is not said again.
    """
    paragraphs: list[str] = []
    seen: set[str] = set()
    for finding in findings:
        lead = [phrases[finding.kind]]
        best_first = sorted(finding.lines, key=lambda line: (-line.score, line.rank))
        for rank in dict.fromkeys(line.rank for line in best_first):
            group = [
                line
                for line in finding.lines
                if line.rank == rank and line.sentence.text not in seen
            ]
            if not group:
                continue
            body = _block(group, finding.query)
            if (
                paragraphs
                and len("\n\n".join([*paragraphs, *lead, body, ending])) > MAX_REPLY_CHARS
            ):
                break
            paragraphs += [*lead, body]
            lead = []
            seen.update(line.sentence.text for line in group)
    return "\n\n".join([*paragraphs, ending])


def _block(group: Sequence[Line], query: Query) -> str:
    """One passage's chosen lines: prose joined, bullets one per line, maybe its heading."""
    body = ""
    for line in group:
        if line.sentence.bullet:
            body += "\n- " + line.sentence.text
        elif body.rsplit("\n", 1)[-1].startswith("- "):
            body += "\n" + line.sentence.text
        else:
            body += " " + line.sentence.text
    body = body.strip()
    title = group[0].chunk.title
    if (set(tokenize(title)) & set(query.terms)) - group[0].terms:
        return f"{title}:\n{body}" if body.startswith("- ") else f"{title}: {body}"
    return body


def _phrases(language: str) -> dict[str, str]:
    return _PHRASES.get(language.split("-")[0].lower(), _PHRASES["pt"])

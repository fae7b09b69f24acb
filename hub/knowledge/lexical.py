"""BM25 over a domain's chunks: the lexical half of knowledge retrieval.

Okapi BM25 (k1 = 1.2, b = 0.75) on `text.tokenize` terms. A chunk's innermost
heading counts twice and its outer headings once, because a heading says what
the whole passage is about ("Horário de funcionamento") even when its lines
don't repeat it. The index is built once per domain version and is immutable
afterwards, so any number of threads may search it at once.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hub.knowledge.chunking import HEADING_SEPARATOR, Chunk
from hub.knowledge.text import tokenize

K1 = 1.2
B = 0.75
TITLE_WEIGHT = 2
"""Occurrences a word of the innermost heading counts for (outer headings count once)."""


@dataclass(frozen=True)
class Hit:
    """One search result: the chunk, its BM25 score and the query terms it contains."""

    chunk: Chunk
    score: float
    matched: frozenset[str] = field(default_factory=frozenset)


def chunk_terms(chunk: Chunk) -> Counter[str]:
    """The term counts BM25 sees for a chunk: its text plus its weighted headings."""
    counts = Counter(tokenize(chunk.text))
    *outer, title = chunk.heading.split(HEADING_SEPARATOR) if chunk.heading else [""]
    for _ in range(TITLE_WEIGHT):
        counts.update(tokenize(title))
    for heading in outer:
        counts.update(tokenize(heading))
    return counts


class LexicalIndex:
    """An immutable BM25 index; `build` it from chunks, then `search` it."""

    def __init__(
        self,
        chunks: tuple[Chunk, ...],
        postings: dict[str, tuple[tuple[int, int], ...]],
        lengths: tuple[int, ...],
    ) -> None:
        self._chunks = chunks
        self._postings = postings
        self._lengths = lengths
        self._average_length = (sum(lengths) / len(lengths)) if lengths else 0.0

    @classmethod
    def build(cls, chunks: Iterable[Chunk]) -> LexicalIndex:
        """Index `chunks`; their order breaks ties between equal scores."""
        ordered = tuple(chunks)
        postings: dict[str, list[tuple[int, int]]] = {}
        lengths: list[int] = []
        for position, chunk in enumerate(ordered):
            counts = chunk_terms(chunk)
            lengths.append(sum(counts.values()))
            for term, count in sorted(counts.items()):
                postings.setdefault(term, []).append((position, count))
        return cls(
            ordered,
            {term: tuple(entries) for term, entries in postings.items()},
            tuple(lengths),
        )

    def __len__(self) -> int:
        return len(self._chunks)

    def __copy__(self) -> LexicalIndex:
        return self  # immutable: copies (pydantic, CrewAI) can share it

    def __deepcopy__(self, memo: dict[int, Any]) -> LexicalIndex:
        return self

    @property
    def chunks(self) -> tuple[Chunk, ...]:
        return self._chunks

    def idf(self, term: str) -> float:
        """BM25's inverse document frequency (always positive; highest for unseen terms)."""
        frequency = len(self._postings.get(term, ()))
        total = len(self._chunks)
        return math.log(1 + (total - frequency + 0.5) / (frequency + 0.5))

    def knows(self, term: str) -> bool:
        """Whether any chunk contains `term`."""
        return term in self._postings

    def search(self, query: str, k: int = 5) -> list[Hit]:
        """The `k` chunks that best match `query`, best first; none when nothing matches."""
        return self.search_terms(Counter(tokenize(query)), k=k)

    def search_terms(self, terms: Mapping[str, float], k: int = 5) -> list[Hit]:
        """Like `search`, for already tokenised terms, each with a weight (1.0 = normal)."""
        scores: dict[int, float] = {}
        matched: dict[int, set[str]] = {}
        for term, weight in terms.items():
            entries = self._postings.get(term)
            if not entries or weight <= 0:
                continue
            idf = self.idf(term)
            for position, count in entries:
                norm = 1 - B + B * self._lengths[position] / self._average_length
                gain = idf * count * (K1 + 1) / (count + K1 * norm)
                scores[position] = scores.get(position, 0.0) + weight * gain
                matched.setdefault(position, set()).add(term)
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[: max(k, 0)]
        return [
            Hit(self._chunks[position], round(score, 6), frozenset(matched[position]))
            for position, score in ranked
        ]

    def coverage(self, terms: Mapping[str, float], found: Collection[str]) -> float:
        """The share (0…1) of the terms' IDF-weighted mass that `found` contains.

        "How much of the question does this passage speak to": rare terms weigh
        more than common ones, and a term no chunk has weighs the most.
        """
        total = sum(weight * self.idf(term) for term, weight in terms.items())
        if total <= 0:
            return 0.0
        hit = sum(weight * self.idf(term) for term, weight in terms.items() if term in found)
        return hit / total

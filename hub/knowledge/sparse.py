"""Sparse term vectors for Qdrant: the lexical half of hybrid retrieval, in Portuguese.

Qdrant scores a sparse query against sparse documents by a dot product, and with
the collection's `Modifier.IDF` it multiplies each query term by its inverse
document frequency over the collection. So a document vector here carries BM25's
saturated term frequency and a query vector the term weights: together they are
BM25, computed by Qdrant. The terms are `hub.knowledge.text.tokenize`'s (accents
folded, plurals and verb endings stemmed, numbers and times spelled one way), so
"protetores solares" finds "Protetor solar" and "10h" finds "10:00".

Term ids are a stable 32-bit hash of the term: the vocabulary is open (any new
document brings new words) and Qdrant's sparse indices are u32. A collision
merges two rare terms at most, which costs a little precision and nothing else.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping

from hub.knowledge.chunking import Chunk
from hub.knowledge.lexical import K1, B, chunk_terms
from hub.knowledge.text import synonyms, tokenize

VERSION = 1
"""Bumped whenever the terms or weights change, so an index built the old way is rebuilt."""

REFERENCE_LENGTH = 60
"""BM25's average document length, fixed (in terms): with an incremental index the
real average moves as documents come and go, and unchanged chunks are not rewritten.
About the length of a FAQ section of the sample domains."""

SYNONYM_WEIGHT = 0.4
"""A customer's everyday word ("custa") also asks for the document's ("preço"), for less."""


def term_id(term: str) -> int:
    """The sparse index of a term: the first four bytes of its BLAKE2b digest."""
    return int.from_bytes(hashlib.blake2b(term.encode(), digest_size=4).digest(), "little")


def document_vector(chunk: Chunk) -> tuple[list[int], list[float]]:
    """A chunk's BM25 term weights (headings count, as in the in-process index)."""
    counts = chunk_terms(chunk)
    length = sum(counts.values())
    norm = 1 - B + B * length / REFERENCE_LENGTH
    weights = {term: count * (K1 + 1) / (count + K1 * norm) for term, count in counts.items()}
    return _as_vector(weights)


def query_terms(query: str) -> dict[str, float]:
    """The weighted terms of a question: its own words, and their synonyms for less."""
    own = Counter(tokenize(query))
    weights: dict[str, float] = {term: 1.0 for term in own}
    for related in synonyms(own):
        weights.setdefault(related, SYNONYM_WEIGHT)
    return weights


def query_vector(query: str) -> tuple[list[int], list[float]]:
    """The sparse vector of a question (empty when it has no searchable word)."""
    return _as_vector(query_terms(query))


def _as_vector(weights: Mapping[str, float]) -> tuple[list[int], list[float]]:
    merged: dict[int, float] = {}
    for term, weight in weights.items():
        index = term_id(term)
        merged[index] = merged.get(index, 0.0) + weight
    ordered = sorted(merged.items())
    return [index for index, _ in ordered], [round(weight, 6) for _, weight in ordered]

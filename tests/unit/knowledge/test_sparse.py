"""Sparse vectors: BM25 weights over Portuguese terms, for Qdrant's sparse search."""

from __future__ import annotations

from hub.knowledge import sparse
from hub.knowledge.chunking import Chunk
from hub.knowledge.lexical import K1


def test_term_ids_are_stable_across_processes_and_releases() -> None:
    # A changed hash would silently mismatch every stored vector: pin one value.
    assert sparse.term_id("protetor") == sparse.term_id("protetor")
    assert sparse.term_id("protetor") == 3213663086
    assert 0 <= sparse.term_id("x") < 2**32


def test_plurals_and_accents_of_a_question_hit_the_same_terms_as_the_document() -> None:
    chunk = Chunk("cosmetics", "catalogo.md", "Protetor solar", "Protetor solar facial FPS 50.")
    doc_indices, _ = sparse.document_vector(chunk)
    query_indices, _ = sparse.query_vector("protetores solares faciais")
    assert set(query_indices) <= set(doc_indices)


def test_a_question_s_synonyms_weigh_less_than_its_own_words() -> None:
    weights = sparse.query_terms("quanto custa o frete?")
    own = {term: weight for term, weight in weights.items() if weight == 1.0}
    related = {term: weight for term, weight in weights.items() if weight < 1.0}
    assert own and related
    assert all(weight == sparse.SYNONYM_WEIGHT for weight in related.values())


def test_repeated_words_saturate_instead_of_growing_without_bound() -> None:
    once = Chunk("d", "a.md", "", "entrega rápida")
    many = Chunk("d", "a.md", "", " ".join(["entrega"] * 30) + " rápida")
    term = sparse.term_id("entreg")
    weight_once = dict(zip(*sparse.document_vector(once), strict=True))[term]
    weight_many = dict(zip(*sparse.document_vector(many), strict=True))[term]
    assert weight_once < weight_many < K1 + 1


def test_a_question_with_only_stopwords_has_an_empty_vector() -> None:
    assert sparse.query_vector("o que é isso?") == ([], [])

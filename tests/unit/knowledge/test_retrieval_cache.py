"""The retrieval cache: the same query against the same chunks is searched once."""

from __future__ import annotations

from pathlib import Path

from hub.knowledge.base import DomainKnowledge
from hub.knowledge.chunking import load_chunks
from hub.knowledge.lexical import LexicalIndex
from hub.knowledge.retrieval_cache import RetrievalCache
from tests.conftest import SAMPLE_DOMAINS


def knowledge(cache: RetrievalCache, paths: list[str] | None = None) -> DomainKnowledge:
    chunks = load_chunks("retail", SAMPLE_DOMAINS / "retail", paths or ["knowledge/*.md"])
    return DomainKnowledge("retail", None, None, LexicalIndex.build(chunks), cache)


def test_a_repeated_query_is_served_from_the_cache_with_the_same_passages() -> None:
    seen: list[tuple[str, str]] = []
    cache = RetrievalCache(observer=lambda domain, result: seen.append((domain, result)))
    library = knowledge(cache)
    first = library.search("horário das lojas", k=3)
    again = library.search("Horário  das LOJAS", k=3)
    assert [h.chunk.sha256 for h in again] == [h.chunk.sha256 for h in first] != []
    assert seen == [("retail", "miss"), ("retail", "hit")]
    assert library.search("horário das lojas", k=4) and seen[-1] == ("retail", "miss")


def test_other_chunks_never_get_the_passages_of_the_old_ones() -> None:
    cache = RetrievalCache()
    whole = knowledge(cache)
    whole.search("horário das lojas")
    part = knowledge(cache, ["knowledge/nothing-*.md"])
    assert part.fingerprint != whole.fingerprint
    assert part.search("horário das lojas") == []
    assert (cache.hits, cache.misses) == (0, 2)


def test_the_least_recently_used_query_leaves_first() -> None:
    cache = RetrievalCache(capacity=2)
    library = knowledge(cache)
    for query in ("frete", "garantia", "frete", "montagem", "frete", "garantia"):
        library.search(query)
    assert len(cache) == 2
    assert (cache.hits, cache.misses) == (2, 4)


def test_a_failing_observer_never_breaks_a_search(tmp_path: Path) -> None:
    def broken(domain: str, result: str) -> None:
        raise RuntimeError("metrics down")

    library = knowledge(RetrievalCache(observer=broken))
    assert library.search("frete")

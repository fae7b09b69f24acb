"""Retrieval quality and cost: hit rate at 3 over the conversation tests' questions.

The questions are every customer turn of every domain's `tests/*.yaml` whose
expected facts (`reply_contains`) are in the domain's documents; a turn whose facts
come from a business tool (an order's status, free slots), whose facts no document
holds, or that expects a handoff is not a retrieval question and is left out
(counted). A question is a hit when the top 3 passages,
together, contain every expected fact (accent- and case-insensitive).

Measured for each way of searching: the in-process BM25 index (what the offline
model reads), Qdrant's sparse vectors alone, the dense MiniLM vectors alone, and
the hybrid (both, fused by reciprocal rank, what `knowledge_search` uses); plus
the ingest time from scratch and with nothing changed, the index size on disk and
the query latency.
"""

from __future__ import annotations

import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.domains.registry import DomainRegistry
from hub.knowledge.base import DENSE, KnowledgeBase, chunks_by_domain
from hub.knowledge.chunking import Chunk
from hub.knowledge.lexical import Hit, LexicalIndex
from hub.knowledge.text import normalize
from hub.settings import Settings

K = 3


@dataclass(frozen=True)
class Question:
    domain_id: str
    text: str
    facts: tuple[str, ...]


def questions(
    registry: DomainRegistry, chunks: dict[str, list[Chunk]]
) -> tuple[list[Question], int]:
    """The retrieval questions of every domain's conversation tests, and how many turns
    were left out because their facts are not in the documents."""
    found: list[Question] = []
    left_out = 0
    for domain_id, domain in sorted(registry.domains.items()):
        corpus = normalize(" ".join(chunk.text for chunk in chunks.get(domain_id, [])))
        for tests in domain.tests:
            for story in tests.stories:
                for step in story.steps:
                    facts = tuple(step.expect.reply_contains)
                    from_tools = set(step.expect.tools) - {"knowledge_search"}
                    in_documents = all(normalize(fact) in corpus for fact in facts)
                    if facts and in_documents and not from_tools and not step.expect.handoff:
                        found.append(Question(domain_id, step.customer, facts))
                    else:
                        left_out += 1
    return found, left_out


def is_hit(hits: list[Hit], facts: tuple[str, ...]) -> bool:
    text = normalize(" ".join(hit.chunk.text for hit in hits[:K]))
    return all(normalize(fact) in text for fact in facts)


def bench_retrieval(tmp: Path, domains_dir: Path) -> dict[str, Any]:
    registry = DomainRegistry(domains_dir, reload_interval=float("inf"))
    chunks = chunks_by_domain(registry.domains.values())
    asked, left_out = questions(registry, chunks)
    results: dict[str, Any] = {
        "questions": len(asked),
        "turns_left_out_not_retrieval": left_out,
        "chunks": sum(len(c) for c in chunks.values()),
    }
    for embeddings in ("none", "auto"):
        data_dir = tmp / f"retrieval-{embeddings}"
        shutil.rmtree(data_dir, ignore_errors=True)
        settings = Settings(data_dir=data_dir, domains_dir=domains_dir, embeddings=embeddings)
        base = KnowledgeBase.from_settings(settings)
        if embeddings == "auto" and base.embedder is None:
            results["dense"] = "model package not installed"
            continue
        label = "dense" if base.embedder else "sparse_only"
        started = time.perf_counter()
        base.ingest(chunks, prune=True)
        scratch = time.perf_counter() - started
        started = time.perf_counter()
        base.ingest(chunks, prune=True)
        unchanged = time.perf_counter() - started
        size = sum(p.stat().st_size for p in (data_dir / "qdrant").rglob("*") if p.is_file())
        results[f"ingest_{label}"] = {
            "from_scratch_seconds": round(scratch, 2),
            "nothing_changed_seconds": round(unchanged, 2),
            "index_bytes_on_disk": size,
        }
        results.update(searches(base, chunks, asked))
        base.close()
    return results


def searches(
    base: KnowledgeBase, chunks: dict[str, list[Chunk]], asked: list[Question]
) -> dict[str, Any]:
    """The figures of each way of searching that this knowledge base offers."""
    found: dict[str, Any] = {}
    libraries = {d: base.open(d, c)[0] for d, c in chunks.items()}
    if base.embedder is None:
        indexes = {d: LexicalIndex.build(c) for d, c in chunks.items()}
        found["bm25_in_process"] = measure(
            asked, lambda q: indexes[q.domain_id].search(q.text, k=K)
        )
        found["qdrant_sparse"] = measure(
            asked, lambda q: libraries[q.domain_id].search(q.text, k=K)
        )
    else:
        found["qdrant_dense"] = measure(asked, lambda q: dense_only(libraries[q.domain_id], q.text))
        found["qdrant_hybrid"] = measure(
            asked, lambda q: libraries[q.domain_id].search(q.text, k=K)
        )
    return found


def measure(asked: list[Question], search: Callable[[Question], list[Hit]]) -> dict[str, Any]:
    """Hit rate at 3 and median latency of one way of searching."""
    latencies, misses = [], []
    for question in asked:
        started = time.perf_counter()
        hits = search(question)
        latencies.append(time.perf_counter() - started)
        if not is_hit(hits, question.facts):
            misses.append(f"{question.domain_id}: {question.text}")
    return {
        "hit_rate_at_3": round(1 - len(misses) / len(asked), 3),
        "hits": len(asked) - len(misses),
        "query_ms_p50": round(statistics.median(latencies) * 1000, 2),
        "misses": misses,
    }


def dense_only(library: Any, query: str) -> list[Hit]:
    """The dense side of a hybrid search alone (for the comparison only)."""
    from hub.knowledge.base import _chunk

    vector = library._embedder.embed([query])[0].tolist()
    response = library._client.query_points(
        library.collection, query=vector, using=DENSE, limit=K, with_payload=True
    )
    return [Hit(_chunk(point.payload or {}), point.score) for point in response.points]

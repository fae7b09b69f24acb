"""The passages found for a query, kept in the process: customers ask the same things.

A search costs a dense embedding and a Qdrant query; the same query against the same
chunks finds the same passages. Entries are keyed by the domain, the knowledge's
fingerprint (its chunks' point ids: content hashes and vector recipe), the query as
searched (folded) and how many passages, so an edited document is never answered
from the passages of its old text. Least recently used entries leave first.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Literal

from hub import defaults
from hub.knowledge.lexical import Hit
from hub.knowledge.text import normalize

Lookup = Literal["hit", "miss"]
Observer = Callable[[str, Lookup], None]
"""Told of every lookup: the domain and whether it hit (the worker counts them)."""

Key = tuple[str, str, str, int]


class RetrievalCache:
    """A thread-safe LRU of search results shared by a process's domains."""

    def __init__(
        self,
        capacity: int = defaults.RETRIEVAL_CACHE_ENTRIES,
        observer: Observer | None = None,
    ) -> None:
        self.capacity = capacity
        self.observer = observer
        self._entries: OrderedDict[Key, tuple[Hit, ...]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(
        self, domain_id: str, fingerprint: str, query: str, k: int, search: Callable[[], list[Hit]]
    ) -> list[Hit]:
        """The hits of `query`: kept ones, else `search()`'s, kept for the next time."""
        key = (domain_id, fingerprint, normalize(query), k)
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                self.hits += 1
        if found is not None:
            self._observe(domain_id, "hit")
            return list(found)
        hits = search()
        with self._lock:
            self.misses += 1
            self._entries[key] = tuple(hits)
            self._entries.move_to_end(key)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)
        self._observe(domain_id, "miss")
        return hits

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _observe(self, domain_id: str, result: Lookup) -> None:
        if self.observer is not None:
            with contextlib.suppress(Exception):  # metrics never break a search
                self.observer(domain_id, result)

"""Process-wide CrewAI set-up, done once before the first crew is built.

CrewAI keeps a SQLite file of the latest kickoff outputs and guards it with a
file lock (or a Redis lock when the bare REDIS_URL is set), which serialises
concurrent kickoffs of a threaded worker. An in-process lock per name keeps the
file safe within the process and lets kickoffs of different crews overlap.
Its storage goes under our data dir instead of $HOME.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from hub.settings import Settings

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()
_prepared = False


@contextmanager
def _in_process_lock(name: str, *, timeout: float = 120) -> Iterator[None]:
    with _locks_guard:
        lock = _locks.setdefault(name, threading.Lock())
    if not lock.acquire(timeout=timeout):
        raise TimeoutError(f"CrewAI lock {name!r} not acquired within {timeout} s")
    try:
        yield
    finally:
        lock.release()


def prepare_crewai(settings: Settings) -> None:
    """Point CrewAI's storage at the data dir and install the in-process lock (idempotent)."""
    global _prepared
    if _prepared:
        return
    storage = (settings.data_dir / "crewai").resolve()
    storage.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("CREWAI_STORAGE_DIR", str(storage))
    from crewai_core.lock_store import set_lock_backend

    set_lock_backend(_in_process_lock)
    # Said once per model call for every model without a native tokenizer: noise.
    logging.getLogger("crewai.llms.base_llm").setLevel(logging.ERROR)
    _prepared = True

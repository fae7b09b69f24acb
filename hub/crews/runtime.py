"""Process-wide CrewAI set-up, done once before the first crew is built.

CrewAI guards its SQLite stores with a file lock (or a Redis lock when the bare
REDIS_URL is set), which serialises the threads of a worker; an in-process lock
per name keeps each file safe within the process instead. Our crews no longer
write the busiest of those files, the latest kickoff outputs (`ServiceCrew`).
CrewAI's storage goes under our data dir instead of $HOME.

Two of CrewAI's per-kickoff costs are pure functions of static things, and are
cached here (measured: a third of a kickoff's CPU with the offline model):
- every agent executor renders each tool's prompt block from the tool's argument
  schema (`format_description_for_llm`: a pydantic JSON schema, dereferenced),
  though name, schema class and description never change;
- every flow (an agent executor is one) whose state is a plain pydantic model
  defines a new `StateWithId(FlowState, state)` class for its initial state, and
  pydantic builds a class's validators and schema each time.
Both are patched only on the CrewAI version they were read from: on another one
CrewAI runs as shipped (and a log line says so).
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from importlib.metadata import version
from typing import Any

import structlog

from hub.settings import Settings

log = structlog.get_logger(__name__)

PATCHED_CREWAI = "1.15.30"
"""The CrewAI release whose internals the hot-path caches were written against."""

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
    cache_hot_paths()
    _prepared = True


def refreeze_heap() -> None:
    """After a domain's kit is replaced: if the process froze its start-up heap
    (`workers._build_runtime`), the old kit's reference cycles sit in the frozen
    generation, which is never collected. Thaw, collect, freeze again (a domain
    edit is rare; this costs one full collection)."""
    if gc.get_freeze_count() == 0:
        return
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def cache_hot_paths() -> bool:
    """Install the two caches described above; False (CrewAI untouched) on another
    CrewAI version. Idempotent."""
    installed = version("crewai")
    if installed != PATCHED_CREWAI:
        log.info("crewai hot-path caches not installed", crewai=installed, known=PATCHED_CREWAI)
        return False
    from crewai.flow.runtime import Flow
    from crewai.tools import base_tool, structured_tool

    if not getattr(structured_tool.format_description_for_llm, "cache_info", None):
        cached = lru_cache(maxsize=1024)(structured_tool.format_description_for_llm)
        structured_tool.format_description_for_llm = cached
        setattr(base_tool, "format_description_for_llm", cached)  # noqa: B010 (not re-exported)
    if not getattr(Flow._create_initial_state, "_chatwootai_cached", False):
        patched = _initial_state_with_cached_class(Flow._create_initial_state)
        setattr(Flow, "_create_initial_state", patched)  # noqa: B010 (mypy: a method)
    return True


def _initial_state_with_cached_class(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Flow._create_initial_state, with the `StateWithId` class made once per state type.

    Only the branch that defines the class is replaced (no `initial_state`, no
    extension state, a typed flow whose state is a pydantic model but not a
    FlowState); every other case runs CrewAI's own code.
    """
    from crewai.flow.runtime import FlowState
    from pydantic import BaseModel

    @lru_cache(maxsize=256)
    def state_with_id(state_type: type[BaseModel]) -> type[BaseModel]:
        return type("StateWithId", (FlowState, state_type), {"__module__": state_type.__module__})

    def create_initial_state(self: Any) -> Any:
        state_type = getattr(self, "_initial_state_t", None)
        if (
            self.initial_state is None
            and isinstance(state_type, type)
            and issubclass(state_type, BaseModel)
            and not issubclass(state_type, FlowState)
            and self._create_default_extension_state() is None
        ):
            instance = state_with_id(state_type)()
            if not getattr(instance, "id", None):
                object.__setattr__(instance, "id", str(uuid.uuid4()))
            return instance
        return original(self)

    create_initial_state._chatwootai_cached = True  # type: ignore[attr-defined]
    return create_initial_state

"""CrewAI 1.15.30: its locks, two per-kickoff computations, its task-output file, its clients.

CrewAI is imported only by processes that run crews: nothing here imports it at
module level, and each patch is installed once `crewai` is imported
(`hub.crews.runtime.prepare_crewai` imports it, then installs).

Two of CrewAI's per-kickoff costs are pure functions of static things, and are
cached (a third of a kickoff's CPU with the offline model):
- every agent executor renders each tool's prompt block from the tool's argument
  schema (`format_description_for_llm`: a pydantic JSON schema, dereferenced),
  though name, schema class and description never change;
- every flow (an agent executor is one) whose state is a plain pydantic model
  defines a new `StateWithId(FlowState, state)` class for its initial state, and
  pydantic builds a class's validators and schema each time.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from hub.patches.patch import Patch

CREWAI = "1.15.30"
"""The CrewAI release these patches were read from (requirements.lock)."""

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


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


def _set_lock_backend(backend: Callable[..., Any] | None) -> None:
    from crewai_core.lock_store import set_lock_backend

    set_lock_backend(backend)


LOCK_BACKEND = Patch(
    "crewai.lock_backend",
    package="crewai",
    version=CREWAI,
    module="crewai",
    summary="CrewAI's stores are guarded by an in-process lock per name, not a file lock",
    install=lambda: _set_lock_backend(_in_process_lock),
    remove=lambda: _set_lock_backend(None),
)
"""CrewAI guards its SQLite stores with a file lock in the system temp dir (or a
Redis lock when the bare REDIS_URL is set), which serialises the threads of a
worker and every process of the machine; a lock per name keeps each file safe
within the process instead, and the data dir is the process's own."""

_shipped: dict[str, Any] = {}


def _install_tool_prompts() -> None:
    from crewai.tools import base_tool, structured_tool

    shipped = _shipped.setdefault("render", structured_tool.format_description_for_llm)
    cached = lru_cache(maxsize=1024)(shipped)
    structured_tool.format_description_for_llm = cached
    setattr(base_tool, "format_description_for_llm", cached)  # noqa: B010 (not re-exported)


def _remove_tool_prompts() -> None:
    from crewai.tools import base_tool, structured_tool

    shipped = _shipped["render"]
    structured_tool.format_description_for_llm = shipped
    setattr(base_tool, "format_description_for_llm", shipped)  # noqa: B010 (not re-exported)


TOOL_PROMPTS = Patch(
    "crewai.tool_prompts",
    package="crewai",
    version=CREWAI,
    module="crewai",
    summary="a tool's prompt block is rendered once per name, schema and description",
    install=_install_tool_prompts,
    remove=_remove_tool_prompts,
)


def _install_flow_states() -> None:
    from crewai.flow.runtime import Flow

    shipped = _shipped.setdefault("_create_initial_state", Flow._create_initial_state)
    setattr(Flow, "_create_initial_state", _initial_state_with_cached_class(shipped))  # noqa: B010


def _remove_flow_states() -> None:
    from crewai.flow.runtime import Flow

    setattr(Flow, "_create_initial_state", _shipped["_create_initial_state"])  # noqa: B010


FLOW_STATES = Patch(
    "crewai.flow_states",
    package="crewai",
    version=CREWAI,
    module="crewai",
    summary="a flow's StateWithId class is built once per state type",
    install=_install_flow_states,
    remove=_remove_flow_states,
)


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

    return create_initial_state


TASK_OUTPUTS = Patch(
    "crewai.task_outputs",
    package="crewai",
    version=CREWAI,
    module="crewai",
    summary=(
        "a crew's task outputs stay in memory with it, not in the shared "
        "latest_kickoff_task_outputs.db"
    ),
)
"""Read by `hub.crews.service_crew.ServiceCrew`, which replaces a crew's private
`_task_output_handler` while it is installed."""

OPENAI_CLIENTS = Patch(
    "crewai.openai_clients",
    package="crewai",
    version=CREWAI,
    module="crewai",
    summary="OpenAI-compatible models share one pair of HTTP clients per endpoint and process",
)
"""Read by `hub.crews.llm.provider_llm`, which builds `hub.crews.pooled`'s model
(overriding `OpenAICompletion`'s private client builders) while it is installed."""

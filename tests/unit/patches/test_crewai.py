"""CrewAI's patches: per-kickoff hot paths cached (same results, computed once), its
locks in-process; removed, CrewAI as shipped."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from crewai.flow.runtime import Flow, FlowState
from pydantic import BaseModel, Field

from hub.patches.crewai import FLOW_STATES, LOCK_BACKEND, TOOL_PROMPTS
from tests.patch_kit import installed, removed


@pytest.fixture
def caches() -> Iterator[None]:
    with installed(TOOL_PROMPTS, FLOW_STATES):
        yield


class Counter(BaseModel):
    count: int = 0
    seen: list[str] = Field(default_factory=list)


class CountingFlow:
    """What `Flow._create_initial_state` reads of a flow typed `Flow[Counter]` (a plain
    pydantic state, as CrewAI's agent executor has)."""

    initial_state = None
    _initial_state_t = Counter

    def _create_default_extension_state(self) -> None:
        return None


@pytest.mark.usefixtures("caches")
def test_two_flows_share_one_state_class_but_never_a_state() -> None:
    assert FLOW_STATES.installed
    one: Any = Flow._create_initial_state(CountingFlow())  # type: ignore[arg-type]
    two: Any = Flow._create_initial_state(CountingFlow())  # type: ignore[arg-type]
    assert type(one) is type(two)  # built once, not per flow
    assert isinstance(one, FlowState) and isinstance(one, Counter)
    assert one.id and two.id and one.id != two.id
    one.seen.append("a")
    one.count = 3
    assert (two.count, two.seen) == (0, [])


@pytest.mark.usefixtures("caches")
def test_a_tool_s_prompt_block_is_rendered_once_and_reads_the_same() -> None:
    from crewai.tools import structured_tool
    from crewai.tools.base_tool import BaseTool

    class Lookup(BaseModel):
        order: str = Field(description="the order number, e.g. CC-2026-00020")

    class OrderStatus(BaseTool):  # type: ignore[misc]
        name: str = "order_status"
        description: str = "Status of an order."
        args_schema: type[BaseModel] = Lookup

        def _run(self, order: str) -> str:
            return order

    assert TOOL_PROMPTS.installed
    render = structured_tool.format_description_for_llm
    uncached = render.__wrapped__("order_status", Lookup, "Status of an order.")  # type: ignore[attr-defined]
    hits = render.cache_info().hits  # type: ignore[attr-defined]
    first, second = OrderStatus().formatted_description, OrderStatus().formatted_description
    assert first == second == uncached
    assert "CC-2026-00020" in first and "Status of an order." in first
    assert render.cache_info().hits >= hits + 1  # type: ignore[attr-defined]


@pytest.mark.usefixtures("caches")
def test_installing_the_caches_twice_wraps_nothing_twice() -> None:
    from crewai.tools import structured_tool

    assert TOOL_PROMPTS.installed and FLOW_STATES.installed
    render, create = structured_tool.format_description_for_llm, Flow._create_initial_state
    TOOL_PROMPTS.install()
    FLOW_STATES.install()
    assert structured_tool.format_description_for_llm is render
    assert Flow._create_initial_state is create


def test_removed_the_caches_leave_crewai_s_own_functions() -> None:
    from crewai.tools import base_tool, structured_tool

    with removed(TOOL_PROMPTS, FLOW_STATES):
        render = structured_tool.format_description_for_llm
        assert not hasattr(render, "cache_info")
        assert render.__module__ == "crewai.tools.structured_tool"
        assert base_tool.format_description_for_llm is render  # type: ignore[attr-defined]
        assert Flow._create_initial_state.__module__ == "crewai.flow.runtime"
        state: Any = Flow._create_initial_state(CountingFlow())  # type: ignore[arg-type]
        assert isinstance(state, Counter) and state.id


def test_crewai_s_locks_are_in_process_while_the_patch_is_installed() -> None:
    from crewai_core import lock_store

    with installed(LOCK_BACKEND):
        assert lock_store._backend is not None
        with lock_store.lock("chatwootai-test"):
            pass
    with removed(LOCK_BACKEND):
        assert lock_store._backend is None  # CrewAI's own file (or Redis) lock

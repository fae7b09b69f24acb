"""CrewAI's per-kickoff hot paths, cached: same results, computed once."""

from __future__ import annotations

from typing import Any

from crewai.flow.runtime import Flow, FlowState
from pydantic import BaseModel, Field

from hub.crews.runtime import cache_hot_paths  # before crewai: hub sets its environment


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


def test_two_flows_share_one_state_class_but_never_a_state() -> None:
    assert cache_hot_paths()
    one: Any = Flow._create_initial_state(CountingFlow())  # type: ignore[arg-type]
    two: Any = Flow._create_initial_state(CountingFlow())  # type: ignore[arg-type]
    assert type(one) is type(two)  # built once, not per flow
    assert isinstance(one, FlowState) and isinstance(one, Counter)
    assert one.id and two.id and one.id != two.id
    one.seen.append("a")
    one.count = 3
    assert (two.count, two.seen) == (0, [])


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

    assert cache_hot_paths()
    render = structured_tool.format_description_for_llm
    uncached = render.__wrapped__("order_status", Lookup, "Status of an order.")  # type: ignore[attr-defined]
    hits = render.cache_info().hits  # type: ignore[attr-defined]
    first, second = OrderStatus().formatted_description, OrderStatus().formatted_description
    assert first == second == uncached
    assert "CC-2026-00020" in first and "Status of an order." in first
    assert render.cache_info().hits >= hits + 1  # type: ignore[attr-defined]


def test_installing_the_caches_twice_wraps_nothing_twice() -> None:
    from crewai.tools import structured_tool

    assert cache_hot_paths()
    render, create = structured_tool.format_description_for_llm, Flow._create_initial_state
    assert cache_hot_paths()
    assert structured_tool.format_description_for_llm is render
    assert Flow._create_initial_state is create


def test_a_replaced_kit_s_cycles_are_collected_even_after_the_heap_was_frozen() -> None:
    import gc
    import weakref

    from hub.crews.runtime import refreeze_heap

    class Node:
        def __init__(self) -> None:
            self.me = self

    node = Node()
    alive = weakref.ref(node)
    gc.freeze()  # as a worker does at start: the cycle is now out of the collector's view
    try:
        del node
        gc.collect()
        assert alive() is not None  # frozen: never collected
        refreeze_heap()
        assert alive() is None
        assert gc.get_freeze_count() > 0  # and the heap is frozen again
    finally:
        gc.unfreeze()

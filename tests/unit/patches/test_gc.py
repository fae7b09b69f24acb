"""The worker's frozen heap: frozen only while the patch is installed, and a replaced
kit's cycles still collected."""

from __future__ import annotations

import gc
import weakref

from hub.patches.gc import FROZEN_HEAP, freeze_heap, refreeze_heap
from tests.patch_kit import installed, removed


def test_a_worker_s_heap_is_frozen_only_while_the_patch_is_installed() -> None:
    try:
        with removed(FROZEN_HEAP):
            freeze_heap()
            assert gc.get_freeze_count() == 0
        with installed(FROZEN_HEAP):
            freeze_heap()
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_a_replaced_kit_s_cycles_are_collected_even_after_the_heap_was_frozen() -> None:
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

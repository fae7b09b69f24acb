"""Python 3.11's garbage collector: a worker's start-up heap frozen out of its view.

Everything alive once a worker is ready (Celery, CrewAI, every domain's knowledge
and models: some 400,000 objects) lives as long as the process, yet each full
collection walked it again, every few messages. `gc.freeze` moves it to a
generation the collector never visits.
"""

from __future__ import annotations

import gc

from hub.patches.patch import PYTHON, Patch

FROZEN_HEAP = Patch(
    "gc.freeze",
    package=PYTHON,
    version="3.11",
    module="gc",
    summary="a worker's start-up heap is frozen out of the garbage collector's view",
    remove=gc.unfreeze,
)
"""Read by `freeze_heap` (a worker, once ready) and `refreeze_heap`."""


def freeze_heap() -> None:
    """Collect, then freeze everything alive, while `FROZEN_HEAP` is installed."""
    if FROZEN_HEAP.installed:
        gc.collect()
        gc.freeze()


def refreeze_heap() -> None:
    """After a domain's kit is replaced: if the process froze its start-up heap,
    the old kit's reference cycles sit in the frozen generation, which is never
    collected. Thaw, collect, freeze again (a domain edit is rare; this costs one
    full collection)."""
    if gc.get_freeze_count() == 0:
        return
    gc.unfreeze()
    gc.collect()
    gc.freeze()

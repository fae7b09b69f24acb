"""Dependency patches in place (or not) for one test, then as the run had them.

The patches are process-wide: a test about one patch installs it for its own
duration (so that it also runs when the suite runs with CHATWOOTAI_TEST_PATCHES=off),
and a test about a library as shipped removes it, and both leave the process as
they found it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from hub.patches import Patch


@contextmanager
def installed(*patches: Patch) -> Iterator[None]:
    """The patches in place for the block; those that were not are removed after it."""
    added = [patch for patch in patches if not patch.installed]
    for patch in added:
        patch.install()
    try:
        yield
    finally:
        for patch in reversed(added):
            patch.remove()


@contextmanager
def removed(*patches: Patch) -> Iterator[None]:
    """The libraries as shipped for the block; the patches that were in place come back."""
    taken = [patch for patch in patches if patch.installed]
    for patch in taken:
        patch.remove()
    try:
        yield
    finally:
        for patch in reversed(taken):
            patch.install()

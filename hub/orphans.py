"""Child processes that end with the process that started them.

On Linux a child can ask the kernel for a signal when its parent ends
(prctl PR_SET_PDEATHSIG), whether the parent returns, raises or is killed with
SIGKILL. Elsewhere there is no such request and `ending_with` returns None.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1
"""prctl(2) option: the signal the calling process gets when its parent ends."""


def ending_with(parent: int) -> Callable[[], None] | None:
    """A `preexec_fn` for subprocess.Popen: the child gets SIGTERM when `parent` ends.

    The kernel sends it when the *thread* that forked the child ends, so spawn from
    the main thread, and from a process with no other thread running (preexec_fn
    is unsafe with threads).
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent ended before prctl took effect
            os._exit(1)

    return preexec

"""Processes a test started, found in /proc rather than trusted to the code under test.

A redis-server works in the folder of its RDB file, so the embedded servers of a
data dir are the redis-servers whose working directory lies under it. The other
processes a command starts (its workers, gunicorn, a server's supervisor) inherit
CHATWOOTAI_DATA_DIR from it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

PROC = Path("/proc")
HAS_PROC = (PROC / "self" / "cwd").exists()

needs_proc = pytest.mark.skipif(not HAS_PROC, reason="finds processes through /proc")


def _live_pids() -> Iterator[int]:
    for entry in PROC.iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            yield int(entry.name)


def _is_under(path: str, folder: Path) -> bool:
    return Path(path).is_relative_to(folder.resolve())


def redis_servers(folder: Path) -> list[int]:
    """Running redis-servers whose RDB folder lies under `folder`."""
    found = []
    for pid in _live_pids():
        try:  # zombies and processes already gone have no exe
            exe = os.readlink(PROC / str(pid) / "exe")
            cwd = os.readlink(PROC / str(pid) / "cwd")
        except OSError:
            continue
        if Path(exe).name == "redis-server" and _is_under(cwd, folder):
            found.append(pid)
    return found


def processes_of(data_dir: Path) -> list[int]:
    """Running processes started with CHATWOOTAI_DATA_DIR=`data_dir`, or working under it."""
    wanted = f"CHATWOOTAI_DATA_DIR={data_dir}".encode()
    found = []
    for pid in _live_pids():
        try:
            os.readlink(PROC / str(pid) / "exe")
            environ = (PROC / str(pid) / "environ").read_bytes().split(b"\0")
            cwd = os.readlink(PROC / str(pid) / "cwd")
        except OSError:
            continue
        if wanted in environ or _is_under(cwd, data_dir):
            found.append(pid)
    return found


def wait_until_none(find: Callable[[], list[int]], timeout: float) -> list[int]:
    """Call `find()` until it returns no pid or `timeout` passes; return its last answer."""
    deadline = time.monotonic() + timeout
    while True:
        left = find()
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def kill_all(pids: list[int]) -> None:
    """SIGKILL each pid that still runs (a test's cleanup, whatever it left)."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)

"""The process that runs an embedded redis-server and stops it when its owner ends.

`python -m hub.redis_supervisor LOCK_FD GRACE_SECONDS REDIS_SERVER CONFIG`, started
by `hub.embedded_redis`. Its stdin is a pipe whose only writing end the owner
holds, so it reads end-of-file as soon as the owner ends, however it ends: a
return, an exception, a signal or SIGKILL (the kernel closes the pipe then). The
server then gets SIGTERM, on which it saves its RDB and exits, and SIGKILL if it
is still running after GRACE_SECONDS (Redis stays up when that save fails). On
Linux the server also gets SIGTERM if this process dies, so no way out leaves it
running. A server that dies while the owner lives (killed, out of memory) is
started again with the same command, so on the same socket and data files, and
clients reconnect to it; a server that keeps dying waits longer each time. The
flock on LOCK_FD, taken by the owner, is held by this process and by the server
until both are gone: it tells other processes a server is alive.

It imports only the standard library: one of these runs beside every embedded server.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType

from hub.orphans import ending_with

FAILED_START_SECONDS = 1.0
"""A first server that exits with an error sooner than this did not start (a bad config,
a corrupt file): it is not restarted, and the supervisor ends with its status."""
RESTART_DELAY_SECONDS = 0.2
"""The wait before starting a server that died, doubled while it keeps dying..."""
RESTART_MAX_DELAY_SECONDS = 5.0
"""...up to this."""
STEADY_SECONDS = 30.0
"""A server that ran this long before dying is restarted at once."""


def main(argv: list[str]) -> int:
    """Run the server until the owner ends; return its exit status."""
    lock_fd, grace, command = int(argv[0]), float(argv[1]), argv[2:]
    stopping = threading.Event()
    lock = threading.RLock()  # a stop and a restart never cross (stop may be a signal's)
    server = _start(command, lock_fd)

    def stop() -> None:
        with lock:
            if stopping.is_set():
                return
            stopping.set()
            running = server
        running.terminate()
        killer = threading.Timer(grace, running.kill)
        killer.daemon = True
        killer.start()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop()

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, on_signal)
    threading.Thread(target=_wait_for_owner, args=(stop,), daemon=True).start()
    delay = RESTART_DELAY_SECONDS
    first = True
    while True:
        started = time.monotonic()
        status = server.wait()
        ran = time.monotonic() - started
        if stopping.is_set():
            return 0
        if first and status > 0 and ran < FAILED_START_SECONDS:
            return status
        first = False
        if ran >= STEADY_SECONDS:
            delay = RESTART_DELAY_SECONDS
        wait, delay = (
            (0.0 if ran >= STEADY_SECONDS else delay),
            min(delay * 2, RESTART_MAX_DELAY_SECONDS),
        )
        print(f"redis-server ended ({status}) while its owner lives: restarting", file=sys.stderr)
        if stopping.wait(wait):
            return 0
        with lock:
            if stopping.is_set():
                return 0
            server = _start(command, lock_fd)
        if stopping.is_set():  # a signal's stop came while it started: it saw the old one
            server.terminate()


def _start(command: list[str], lock_fd: int) -> subprocess.Popen[bytes]:
    """The server, which ends with this process. The `preexec_fn` runs in the fork while
    the owner-watching thread waits in `os.read`, holding no lock the child could need."""
    return subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        pass_fds=(lock_fd,),
        preexec_fn=ending_with(os.getpid()),
    )


def _wait_for_owner(then: Callable[[], None]) -> None:
    """Block until the owner's end of stdin closes, then call `then`."""
    while os.read(0, 4096):
        pass
    then()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

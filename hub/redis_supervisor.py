"""The process that runs an embedded redis-server and stops it when its owner ends.

`python -m hub.redis_supervisor LOCK_FD GRACE_SECONDS REDIS_SERVER CONFIG`, started
by `hub.embedded_redis`. Its stdin is a pipe whose only writing end the owner
holds, so it reads end-of-file as soon as the owner ends, however it ends: a
return, an exception, a signal or SIGKILL (the kernel closes the pipe then). The
server then gets SIGTERM, on which it saves its RDB and exits, and SIGKILL if it
is still running after GRACE_SECONDS (Redis stays up when that save fails). On
Linux the server also gets SIGTERM if this process dies, so no way out leaves it
running. The flock on LOCK_FD, taken by the owner, is held by this process and by
the server until both are gone: it tells other processes a server is alive.

It imports only the standard library: one of these runs beside every embedded server.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from types import FrameType

from hub.orphans import ending_with


def main(argv: list[str]) -> int:
    """Run the server until it exits; return its exit status."""
    lock_fd, grace, command = int(argv[0]), float(argv[1]), argv[2:]
    server = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        pass_fds=(lock_fd,),
        preexec_fn=ending_with(os.getpid()),  # this process has no other thread yet
    )
    stopping = threading.Event()

    def stop() -> None:
        if stopping.is_set():
            return
        stopping.set()
        server.terminate()
        killer = threading.Timer(grace, server.kill)
        killer.daemon = True
        killer.start()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop()

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, on_signal)
    threading.Thread(target=_wait_for_owner, args=(stop,), daemon=True).start()
    status = server.wait()
    return 0 if stopping.is_set() else status


def _wait_for_owner(then: Callable[[], None]) -> None:
    """Block until the owner's end of stdin closes, then call `then`."""
    while os.read(0, 4096):
        pass
    then()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

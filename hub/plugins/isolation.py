"""One guarded way to call a plugin: its failures and its slowness stay its own.

Every hook call goes through `Guard.call`: the function runs on a bounded thread
pool and the caller waits at most the plugin's budget. An exception or an
overrun is logged with the domain, the plugin and the hook, and the call counts
as "no answer": the turn goes on without that plugin. A thread cannot be killed,
so an overrunning call keeps its thread until it returns; a plugin with
`MAX_IN_FLIGHT` calls still running is skipped outright, so one stuck plugin can
never take the whole pool from the others.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

import structlog

log = structlog.get_logger(__name__)

POOL_THREADS = 32
"""Threads shared by every plugin call of the process."""

MAX_IN_FLIGHT = 8
"""Calls of one plugin still running (overrun) beyond which it is skipped at once."""


@dataclass(frozen=True)
class Outcome:
    """How a guarded call ended: `ok` with its `value`, or why not."""

    ok: bool
    value: Any = None
    failure: str = ""
    seconds: float = 0.0


class Guard:
    """Runs plugin functions inside their time budget on a shared, bounded pool."""

    def __init__(self, threads: int = POOL_THREADS, max_in_flight: int = MAX_IN_FLIGHT) -> None:
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="plugin")
        self._max_in_flight = max_in_flight
        self._in_flight: dict[str, int] = {}
        self._lock = threading.Lock()

    def call(
        self,
        function: Callable[..., Any],
        arguments: dict[str, Any],
        *,
        budget: float,
        domain: str,
        plugin: str,
        hook: str,
    ) -> Outcome:
        """`function(**arguments)` within `budget` seconds; never raises."""
        where = {"domain": domain, "plugin": plugin, "hook": hook}
        with self._lock:
            if self._in_flight.get(plugin, 0) >= self._max_in_flight:
                log.error("plugin skipped: earlier calls still running", **where)
                return Outcome(False, failure="busy")
            self._in_flight[plugin] = self._in_flight.get(plugin, 0) + 1
        started = time.perf_counter()
        context = contextvars.copy_context()  # the turn's bound log fields follow the call
        try:
            future: Future[Any] = self._pool.submit(lambda: context.run(function, **arguments))
        except RuntimeError:  # the pool is shut down (the process is exiting)
            self._done(plugin)
            return Outcome(False, failure="stopped")
        future.add_done_callback(lambda _f: self._done(plugin))
        try:
            value = future.result(timeout=budget)
        except FutureTimeout:
            log.error("plugin timed out; skipped", budget_seconds=budget, **where)
            return Outcome(False, failure="timeout", seconds=time.perf_counter() - started)
        except Exception as error:  # the plugin's own bug, whatever it is
            log.error(
                "plugin failed; skipped",
                error=f"{type(error).__name__}: {str(error)[:300]}",
                exc_info=error,
                **where,
            )
            return Outcome(False, failure="error", seconds=time.perf_counter() - started)
        return Outcome(True, value, seconds=time.perf_counter() - started)

    def _done(self, plugin: str) -> None:
        with self._lock:
            self._in_flight[plugin] -= 1

    def close(self) -> None:
        """Stop taking calls; running ones finish on their own."""
        self._pool.shutdown(wait=False, cancel_futures=True)

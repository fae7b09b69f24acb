"""A worker started for every domain keeps consuming every domain's queue, new ones too.

`chatwootai worker` without `--domains` consumes every shard queue and the dedicated
queues of the domains loaded at start. A shared tenant added to the domains folder
later lands on a shard it already reads; one with `queue: dedicated` gets a queue of
its own, which such a worker would never read: this thread looks at the folder every
`CHATWOOTAI_RELOAD_INTERVAL_SECONDS` and asks the worker, through Celery's own
remote control (`add_consumer`, handled in the consumer's loop, so kombu is never
touched from two threads), to consume the new queues. A worker pinned to domains
(`--domains`) is left alone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

import structlog

from hub.domains.domain import Domain
from hub.domains.registry import DomainRegistry
from hub.queue import queue_of

log = structlog.get_logger(__name__)

ALL_DOMAINS_CONF = "chatwootai_all_domains"
"""The Celery setting `chatwootai worker` sets when it was started without `--domains`."""


def missing_queues(domains: Iterable[Domain], consumed: Iterable[str], shards: int) -> list[str]:
    """The queues of these domains (their own, or their shard) that the worker does not
    consume yet, sorted."""
    have = set(consumed)
    return sorted({queue_of(domain, shards) for domain in domains} - have)


class Subscriptions:
    """Adds the queues of new domains to a running worker (see the module doc)."""

    def __init__(
        self,
        registry: DomainRegistry,
        consumed: Callable[[], Iterable[str] | None],
        add: Callable[[str], None],
        interval: float,
        shards: int,
    ) -> None:
        self.registry = registry
        self.shards = shards
        """`CHATWOOTAI_QUEUE_SHARDS`: where a shared domain's messages go."""
        self.consumed = consumed
        """The names of the queues the worker consumes now (None: it is not consuming,
        starting or stopping)."""
        self.add = add
        """Asks the worker to consume one more queue."""
        self.interval = max(interval, 0.2)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> list[str]:
        """Reload the folder if due, and ask for every queue still missing; those asked for."""
        self.registry.maybe_reload()
        consumed = self.consumed()
        if consumed is None:
            return []
        missing = missing_queues(self.registry.domains.values(), consumed, self.shards)
        for queue in missing:
            self.add(queue)
            log.info("consuming the queue of a new domain", queue=queue)
        return missing

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="subscriptions", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception as error:  # the broker away a moment: try again next time
                log.warning("queue subscriptions not checked", error=str(error)[:200])

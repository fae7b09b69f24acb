"""The Celery worker side of ChatwootAI: `celery -A workers worker -Q chatwootai.shard.0,…`.

`app` is the Celery application with the `chatwootai.handle_message` task; each
worker process builds its runtime (one CrewFactory, every domain validated, the
ones `CHATWOOTAI_KITS_WARM` asks for prepared) when it starts, before taking its
first message.
"""

from __future__ import annotations

import os
from typing import Any

from celery import signals

from hub.logs import configure_logging
from hub.patches.gc import freeze_heap
from hub.queue import create_celery
from hub.settings import get_settings

app = create_celery(get_settings(), include=("workers.tasks",))
_drainers: dict[int, Any] = {}
"""The turn spool's drainer of each process (a forked child starts its own)."""


@signals.worker_process_init.connect  # type: ignore[untyped-decorator]
@signals.worker_init.connect  # type: ignore[untyped-decorator]
def _build_runtime(**_: Any) -> None:
    """Validate every domain at start, and prepare the crews of those
    `CHATWOOTAI_KITS_WARM` asks for (the others at their first message).

    Then everything alive leaves the garbage collector's view (`hub.patches.gc`,
    unless the patches are off). Metrics are summed in memory from now on and
    sent every second, and turns the database refused are written back every few
    seconds (`hub.store.spool`).
    """
    from hub import defaults
    from hub.store.spool import SpoolDrainer
    from workers.runtime import runtime

    configure_logging(get_settings())
    current = runtime()
    current.telemetry.start()
    if os.getpid() not in _drainers:  # both signals fire in a prefork child
        _drainers[os.getpid()] = SpoolDrainer(
            current.spool, current.factory.engine, defaults.TURN_SPOOL_DRAIN_SECONDS
        )
        _drainers[os.getpid()].start()
    freeze_heap()
    current.factory.mark_frozen()


@signals.worker_ready.connect  # type: ignore[untyped-decorator]
def _follow_new_domains(sender: Any = None, **_: Any) -> None:
    """A worker started for every domain (`chatwootai worker` without `--domains`) also
    consumes the queue of a domain added to the folder later (`workers.subscriptions`)."""
    from workers.runtime import runtime
    from workers.subscriptions import ALL_DOMAINS_CONF, Subscriptions

    if sender is None or not app.conf.get(ALL_DOMAINS_CONF):
        return
    consumer = sender

    def consumed() -> list[str] | None:
        task_consumer = consumer.task_consumer
        return None if task_consumer is None else [queue.name for queue in task_consumer.queues]

    def add(queue: str) -> None:
        app.control.add_consumer(queue, destination=[consumer.hostname])

    current = runtime()
    current.subscriptions = Subscriptions(
        current.registry,
        consumed,
        add,
        current.settings.reload_interval_seconds,
        current.settings.queue_shards,
    )
    current.subscriptions.start()


@signals.worker_process_shutdown.connect  # type: ignore[untyped-decorator]
@signals.worker_shutdown.connect  # type: ignore[untyped-decorator]
def _send_last_metrics(**_: Any) -> None:
    """A worker that stops sends the metrics of its last second too."""
    from workers.runtime import built

    current = built()
    if current is not None:
        if current.subscriptions is not None:
            current.subscriptions.stop()
        current.telemetry.stop()


__all__ = ["app"]

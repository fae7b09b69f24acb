"""The Celery worker side of ChatwootAI: `celery -A workers worker -Q chatwootai.shard.0,…`.

`app` is the Celery application with the `chatwootai.handle_message` task; each
worker process builds its runtime (one CrewFactory, domains prepared and
validated) when it starts, before taking its first message.
"""

from __future__ import annotations

from typing import Any

from celery import signals

from hub.logs import configure_logging
from hub.patches.gc import freeze_heap
from hub.queue import create_celery
from hub.settings import get_settings

app = create_celery(get_settings(), include=("workers.tasks",))


@signals.worker_process_init.connect  # type: ignore[untyped-decorator]
@signals.worker_init.connect  # type: ignore[untyped-decorator]
def _build_runtime(**_: Any) -> None:
    """Prepare domains and crews at start, not at the first message.

    Then everything alive leaves the garbage collector's view (`hub.patches.gc`,
    unless the patches are off). Metrics are summed in memory from now on and
    sent every second.
    """
    from workers.runtime import runtime

    configure_logging(get_settings())
    runtime().telemetry.start()
    freeze_heap()


@signals.worker_process_shutdown.connect  # type: ignore[untyped-decorator]
@signals.worker_shutdown.connect  # type: ignore[untyped-decorator]
def _send_last_metrics(**_: Any) -> None:
    """A worker that stops sends the metrics of its last second too."""
    from workers.runtime import built

    current = built()
    if current is not None:
        current.telemetry.stop()


__all__ = ["app"]

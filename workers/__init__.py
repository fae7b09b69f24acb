"""The Celery worker side of ChatwootAI: `celery -A workers worker -Q chatwootai.<domain>`.

`app` is the Celery application with the `chatwootai.handle_message` task; each
worker process builds its runtime (one CrewFactory, domains prepared and
validated) when it starts, before taking its first message.
"""

from __future__ import annotations

import gc
from typing import Any

from celery import signals

from hub.logs import configure_logging
from hub.queue import create_celery
from hub.settings import get_settings

app = create_celery(get_settings(), include=("workers.tasks",))


@signals.worker_process_init.connect  # type: ignore[untyped-decorator]
@signals.worker_init.connect  # type: ignore[untyped-decorator]
def _build_runtime(**_: Any) -> None:
    """Prepare domains and crews at start, not at the first message.

    Then everything alive (Celery, CrewAI, every domain's knowledge and models:
    some 400,000 objects) leaves the garbage collector's view: it lives as long as
    the process, yet each full collection walked it again, every few messages.
    Metrics are summed in memory from now on and sent every second.
    """
    from workers.runtime import runtime

    configure_logging(get_settings())
    runtime().telemetry.start()
    gc.collect()
    gc.freeze()


@signals.worker_process_shutdown.connect  # type: ignore[untyped-decorator]
@signals.worker_shutdown.connect  # type: ignore[untyped-decorator]
def _send_last_metrics(**_: Any) -> None:
    """A worker that stops sends the metrics of its last second too."""
    from workers.runtime import built

    current = built()
    if current is not None:
        current.telemetry.stop()


__all__ = ["app"]

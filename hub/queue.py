"""The Celery application shared by the receiver (which only sends) and the workers.

One queue per domain (`chatwootai.<domain>`), at-least-once delivery.

`task_acks_late` + `task_reject_on_worker_lost`: a message is acknowledged only
after its task finished, so a worker that dies mid-turn (even by SIGKILL) leaves
it to be redelivered after the broker's visibility timeout. Replies stay
exactly-once on top of that thanks to the reply record in `workers.tasks`.
"""

from __future__ import annotations

from celery import Celery
from redis import Redis

from hub import defaults, patches
from hub.kvstore import redis_url
from hub.settings import Settings

HANDLE_MESSAGE = "chatwootai.handle_message"
"""The task name the receiver sends to; stable, readable in Flower."""

PRIORITY_URGENT = 0
PRIORITY_NORMAL = 6
"""Message priorities. On Redis, kombu keeps one list per priority step and a worker
pops the lowest step first (0 is the most urgent), so an urgent message overtakes a
backlog: it is the next one any free worker thread takes. Every other message is
sent at PRIORITY_NORMAL; a message sent without one would land on step 0."""

PRIORITY_STEPS = [0, 3, 6, 9]
"""kombu's Redis priority lists: `chatwootai.<domain>` (0), `…\x06\x163`, `…\x06\x166`, …"""


def priority_of(urgent: bool) -> int:
    """The Celery priority of a message."""
    return PRIORITY_URGENT if urgent else PRIORITY_NORMAL


def queue_name(domain_id: str) -> str:
    """The queue of one domain: `chatwootai.<domain>`."""
    return f"{defaults.REDIS_KEY_PREFIX}.{domain_id}"


def queue_keys(domain_id: str) -> list[str]:
    """The Redis lists holding a domain's queued messages, most urgent first."""
    name = queue_name(domain_id)
    return [name] + [f"{name}\x06\x16{step}" for step in PRIORITY_STEPS if step]


def queued_count(client: Redis, domain_id: str) -> int:
    """How many messages wait on a domain's queue, all priorities together."""
    pipe = client.pipeline(transaction=False)
    for key in queue_keys(domain_id):
        pipe.llen(key)
    return sum(int(size) for size in pipe.execute())


def broker_url(url: str) -> str:
    """Kombu spells a Redis unix socket `redis+socket://`; redis-py spells it `unix://`."""
    if url.startswith("unix://"):
        path, _, query = url.removeprefix("unix://").partition("?")
        return f"redis+socket://{path}" + (f"?{query}" if query else "")
    return url


def create_celery(settings: Settings, *, include: tuple[str, ...] = ()) -> Celery:
    """A Celery app on the configured (or embedded) Redis broker.

    The receiver sends by task name and needs no task code; workers pass
    `include=("workers.tasks",)`.
    """
    patches.install(settings)
    app = Celery("chatwootai", include=list(include))
    # A promise: the broker URL (and an embedded Redis, when none is configured) is
    # resolved when a connection is first needed, not when a module imports the app.
    app.add_defaults(lambda: {"broker_url": broker_url(redis_url(settings))})
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_default_queue=queue_name(defaults.DEFAULT_DOMAIN),
        task_default_priority=PRIORITY_NORMAL,
        broker_transport_options={
            "priority_steps": PRIORITY_STEPS,
            "visibility_timeout": settings.visibility_timeout_seconds,
            # kombu looks for messages past their visibility timeout every 10th sweep
            # of 10 s by default: a dead worker's message waited ~100 s more.
            "unacked_restore_interval": defaults.UNACKED_RESTORE_SECONDS,
            "unacked_restore_throttle": 1,
            "socket_timeout": 5,
            "socket_connect_timeout": 2,
        },
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        # Task events cost a few Redis PUBLISHes per message; Flower switches them on
        # (enable_events) while it watches, so the default is off.
        worker_send_task_events=False,
        task_send_sent_event=False,  # one PUBLISH less per webhook; workers report the rest
        enable_utc=True,
    )
    return app

"""The Celery application shared by the receiver (which only sends) and the workers.

Queues that do not grow with the tenants: every domain shares one of a fixed number
of shard queues (`chatwootai.shard.<n>`, CHATWOOTAI_QUEUE_SHARDS), picked by a stable
hash of its id, on which its messages are claimed fairly among the shard's tenants
(`hub.conversation.fairness`); a domain with `queue: dedicated` keeps a queue of its
own (`chatwootai.<domain>`), which workers can be pinned to. At-least-once delivery.

`task_acks_late` + `task_reject_on_worker_lost`: a message is acknowledged only
after its task finished, so a worker that dies mid-turn (even by SIGKILL) leaves
it to be redelivered after the broker's visibility timeout. Replies stay
exactly-once on top of that thanks to the reply record in `workers.tasks`.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

from celery import Celery
from redis import Redis

from hub import defaults, patches
from hub.domains.domain import Domain
from hub.kvstore import redis_url
from hub.settings import Settings

HANDLE_MESSAGE = "chatwootai.handle_message"
"""The task that answers the message it carries: what a dedicated queue holds (and
retries and replays on any queue); stable, readable in Flower."""

CLAIM_TURN = "chatwootai.claim_turn"
"""The task a shard queue holds: a token that claims the next message of the shard's
tenants in fair order (`hub.conversation.fairness`) and answers it."""

ENQUEUE_MESSAGE = "chatwootai.enqueue_message"
"""A delayed re-check of a shared tenant's message: when it is due, the message joins
its tenant's line again (with a token), so re-checks are claimed fairly too."""

SHARD_PREFIX = f"{defaults.REDIS_KEY_PREFIX}.shard."

PRIORITY_URGENT = 0
PRIORITY_NORMAL = 6
"""Message priorities. On Redis, kombu keeps one list per priority step and a worker
pops the lowest step first (0 is the most urgent), so an urgent message overtakes a
backlog: it is the next one any free worker thread takes. Every other message is
sent at PRIORITY_NORMAL; a message sent without one would land on step 0."""

PRIORITY_STEPS = [0, 3, 6, 9]
"""kombu's Redis priority lists: `chatwootai.shard.3` (0), `…\x06\x163`, `…\x06\x166`, …"""


def priority_of(urgent: bool) -> int:
    """The Celery priority of a message."""
    return PRIORITY_URGENT if urgent else PRIORITY_NORMAL


def queue_name(domain_id: str) -> str:
    """The dedicated queue of one domain: `chatwootai.<domain>`."""
    return f"{defaults.REDIS_KEY_PREFIX}.{domain_id}"


def shard_of(domain_id: str, shards: int) -> int:
    """A domain's shard: CRC-32 of its id, the same in every process and release
    (Python's `hash()` of a str changes with each interpreter start)."""
    if shards < 1:
        raise ValueError(f"shards must be at least 1, not {shards}")
    return zlib.crc32(domain_id.encode("utf-8")) % shards


def shard_queue(number: int) -> str:
    """The shared queue `chatwootai.shard.<n>`."""
    return f"{SHARD_PREFIX}{number}"


def is_shard(queue: str) -> bool:
    """Whether `queue` is a shared (shard) queue rather than a dedicated one."""
    return queue.startswith(SHARD_PREFIX)


def dedicated(domain: Domain) -> bool:
    """Whether a domain has a queue of its own (`queue: dedicated`)."""
    return domain.spec.queue == "dedicated"


def queue_for(domain_id: str, *, dedicated: bool, shards: int) -> str:
    """The queue a domain's messages go on: its own, or its shard."""
    return queue_name(domain_id) if dedicated else shard_queue(shard_of(domain_id, shards))


def queue_of(domain: Domain, shards: int) -> str:
    """`queue_for` of a loaded domain."""
    return queue_for(domain.id, dedicated=dedicated(domain), shards=shards)


def consumed_queues(domains: Iterable[Domain], shards: int, *, every_shard: bool) -> list[str]:
    """The queues a worker for `domains` consumes: their dedicated queues and the shards
    of the shared ones; `every_shard` (a worker for all domains) adds every shard, so a
    tenant added later is served without a restart."""
    queues = {queue_of(domain, shards) for domain in domains}
    if every_shard:
        queues.update(shard_queue(number) for number in range(shards))
    shard_names = sorted((q for q in queues if is_shard(q)), key=lambda q: int(q.rsplit(".")[-1]))
    return shard_names + sorted(q for q in queues if not is_shard(q))


def queue_keys(queue: str) -> list[str]:
    """The Redis lists holding a queue's messages, most urgent first."""
    return [queue] + [f"{queue}\x06\x16{step}" for step in PRIORITY_STEPS if step]


def queued_count(client: Redis, queue: str) -> int:
    """How many task messages wait on a queue, all priorities together."""
    pipe = client.pipeline(transaction=False)
    for key in queue_keys(queue):
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
        task_default_queue=shard_queue(0),
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

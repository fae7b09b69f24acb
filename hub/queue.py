"""The Celery application shared by the receiver (which only sends) and the workers.

One queue per domain (`chatwootai.<domain>`), at-least-once delivery.

`task_acks_late` + `task_reject_on_worker_lost`: a message is acknowledged only
after its task finished, so a worker that dies mid-turn (even by SIGKILL) leaves
it to be redelivered after the broker's visibility timeout. Replies stay
exactly-once on top of that thanks to the reply record in `workers.tasks`.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import kombu
import redis
import structlog
from celery import Celery
from kombu import serialization
from kombu.transport import redis as kombu_redis
from kombu.utils.uuid import uuid
from redis import Redis

from hub import defaults
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


PATCHED_KOMBU = "5.7.0"
"""The kombu release `reuse_broker_clients` and `TaskPublisher` were written against
(requirements.lock)."""

log = structlog.get_logger(__name__)


def reuse_broker_clients() -> bool:
    """Make kombu's Redis channels reuse one client instead of building one per command.

    kombu 5.7 builds a new `redis.Redis` for every publish, every unacked-message
    record and every acknowledgement (`Channel.conn_or_acquire`). Building one costs
    more CPU than the LPUSH it sends: its constructor copies some 200 response
    callbacks. The client is only a front for the channel's connection pool, and
    redis-py clients are safe to share between threads, so each channel keeps one,
    built again when kombu replaces the pool (after a fork or a disconnect).
    Installed once, and only on the kombu release it was written for; another
    release runs as shipped. Returns whether the patch is in place.
    """
    channel = kombu_redis.Channel
    if getattr(channel.conn_or_acquire, "reuses_clients", False):
        return True
    if kombu.__version__ != PATCHED_KOMBU:
        log.info("kombu clients not reused: untested kombu", kombu=kombu.__version__)
        return False

    @contextmanager
    def conn_or_acquire(self: Any, client: Any = None) -> Iterator[Any]:
        if client:
            yield client
            return
        pool = self.pool
        cached = self.__dict__.get("_chatwootai_client")
        if cached is None or cached[0] is not pool:
            cached = (pool, self._create_client())
            self.__dict__["_chatwootai_client"] = cached
        yield cached[1]

    conn_or_acquire.reuses_clients = True  # type: ignore[attr-defined]
    channel.conn_or_acquire = conn_or_acquire  # type: ignore[method-assign]
    return True


PERSISTENT = 2
"""AMQP delivery mode of a task message (what Celery's own publish sets)."""


class TaskPublisher:
    """Writes task messages into the caller's Redis MULTI instead of publishing them.

    The receiver appends a message to its conversation's mailbox and queues its task
    in one transaction: both happen or neither does, in one round trip, and without
    kombu's publish path (a producer from the pool, the retry wrapper, a declare
    check), which was most of a webhook's CPU. The message is built by Celery
    (`as_task_v2`) and routed by kombu's own Redis channel, which hands its final
    LPUSH to the caller through kombu's publish-batch hook: the bytes, the priority
    list and the delivery info are kombu's, as a worker and a visibility-timeout
    redelivery expect. The default exchange routes by queue name, with no binding.
    """

    def __init__(self, app: Celery) -> None:
        self.app = app
        self._channel: Any = None
        self._pid = 0

    @staticmethod
    def supported() -> bool:
        """Whether the installed kombu is the release whose publish-batch hook this
        relies on; with another, the receiver publishes through `send_task`."""
        return kombu.__version__ == PATCHED_KOMBU

    def add(
        self,
        pipe: redis.client.Pipeline,
        name: str,
        args: list[Any],
        *,
        queue: str,
        priority: int,
        argsrepr: str,
    ) -> str:
        """Queue the task `name(*args)` on `queue` when `pipe` executes; its task id."""
        task_id = uuid()
        conf = self.app.conf
        # What `Celery.send_task` passes, so a worker sees the message it would have sent.
        message = self.app.amqp.as_task_v2(
            task_id,
            name,
            args=args,
            kwargs={},
            argsrepr=argsrepr,
            kwargsrepr="{}",
            ignore_result=None,
            reply_to=self.app.thread_oid,
            time_limit=conf.task_time_limit,
            soft_time_limit=conf.task_soft_time_limit,
        )
        content_type, content_encoding, body = serialization.dumps(  # type: ignore[no-untyped-call]
            message.body, serializer=conf.task_serializer
        )
        channel = self._kombu_channel()
        prepared = channel.prepare_message(
            body,
            priority,
            content_type,
            content_encoding,
            message.headers,
            {
                **message.properties,
                "argsrepr": argsrepr,
                "kwargsrepr": "{}",
                "delivery_mode": PERSISTENT,
            },
        )
        channel.basic_publish(prepared, "", queue, _publish_batch=_IntoPipeline(pipe))
        return str(task_id)

    def _kombu_channel(self) -> Any:
        """This process's channel (a forked process builds its own)."""
        if self._channel is None or self._pid != os.getpid():
            connection = self.app.connection_for_write()
            self._channel = connection.default_channel  # pings Redis: a socket is open
            self._pid = os.getpid()
            # Closed with the publisher, not left for the garbage collector to find open.
            weakref.finalize(self, connection.release)
        return self._channel


class _IntoPipeline:
    """kombu's publish-batch hook: the Redis commands of a publish, queued on a pipeline."""

    def __init__(self, pipe: redis.client.Pipeline) -> None:
        self.pipe = pipe

    def add(self, name: str, *args: Any) -> None:
        getattr(self.pipe, name)(*args)


def create_celery(settings: Settings, *, include: tuple[str, ...] = ()) -> Celery:
    """A Celery app on the configured (or embedded) Redis broker.

    The receiver sends by task name and needs no task code; workers pass
    `include=("workers.tasks",)`.
    """
    reuse_broker_clients()
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

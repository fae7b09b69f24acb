"""kombu 5.7.0: one Redis client per channel, and tasks written into the caller's MULTI.

Both read kombu's Redis transport (`kombu.transport.redis.Channel`) as it is in
that release: its `conn_or_acquire`, `prepare_message` and the `_publish_batch`
hook of `basic_publish`.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import redis
from kombu import serialization
from kombu.transport import redis as kombu_redis
from kombu.utils.uuid import uuid

from hub.patches.patch import Patch

if TYPE_CHECKING:
    from celery import Celery

KOMBU = "5.7.0"
"""The kombu release these patches were read from (requirements.lock)."""

_shipped_conn_or_acquire = kombu_redis.Channel.conn_or_acquire


@contextmanager
def _conn_or_acquire(self: Any, client: Any = None) -> Iterator[Any]:
    """`Channel.conn_or_acquire`, yielding the channel's one client; a connection error
    when the channel's connection is gone (kombu would raise AttributeError)."""
    if client:
        yield client
        return
    transport = self.connection
    if transport is None or getattr(transport, "client", None) is None:
        raise redis.ConnectionError("the broker connection of this channel was closed")
    pool = self.pool
    cached = self.__dict__.get("_chatwootai_client")
    if cached is None or cached[0] is not pool:
        cached = (pool, self._create_client())
        self.__dict__["_chatwootai_client"] = cached
    yield cached[1]


def _install_channel_client() -> None:
    kombu_redis.Channel.conn_or_acquire = _conn_or_acquire  # type: ignore[method-assign]


def _remove_channel_client() -> None:
    kombu_redis.Channel.conn_or_acquire = _shipped_conn_or_acquire  # type: ignore[method-assign]


CHANNEL_CLIENT = Patch(
    "kombu.channel_client",
    package="kombu",
    version=KOMBU,
    module="kombu.transport.redis",
    summary=(
        "kombu's Redis channels reuse one client instead of building a redis.Redis "
        "for every publish, unacked-message record and acknowledgement, and a channel "
        "whose connection was closed raises a connection error (celery/kombu#970)"
    ),
    install=_install_channel_client,
    remove=_remove_channel_client,
)
"""kombu builds a new `redis.Redis` per command (`Channel.conn_or_acquire`), which
costs more CPU than the LPUSH it sends: its constructor copies some 200 response
callbacks. The client is only a front for the channel's connection pool, and
redis-py clients are safe to share between threads, so each channel keeps one,
built again when kombu replaces the pool (after a fork or a disconnect).

When Redis goes away, Celery closes the broker connection: its channels lose their
transport (`channel.connection`, or the transport's `client`, becomes None). A
worker thread that finishes a task then acknowledges it on the old channel, and
kombu, building a pool from the missing connection, raises `AttributeError:
'NoneType' object has no attribute 'hostname'` (or `'client'`; celery/kombu#970),
which Celery does not take for a connection error. The patched method raises
`redis.ConnectionError` instead, which Celery's acknowledgement logs and its
consumer answers by reconnecting; the message stays unacknowledged and comes back
after the visibility timeout, answered once thanks to the reply records."""

TASK_PUBLISHER = Patch(
    "kombu.task_publisher",
    package="kombu",
    version=KOMBU,
    module="kombu.transport.redis",
    summary=(
        "the receiver writes a task message into its mailbox transaction through "
        "kombu's publish-batch hook, instead of Celery's send_task after it"
    ),
)
"""Read by the receiver: with it, `TaskPublisher`; without it, `send_task`."""

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
    Used only while `TASK_PUBLISHER` is installed.
    """

    def __init__(self, app: Celery) -> None:
        self.app = app
        self._channel: Any = None
        self._pid = 0

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

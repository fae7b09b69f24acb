"""The broker side of the queue in real Redis: kombu channels reuse their Redis client, and
tasks written into a transaction are the messages Celery would publish."""

from __future__ import annotations

import gc
import json
import threading
import warnings
from collections.abc import Iterator
from typing import Any

import kombu
import kombu.pools
import pytest
import redis
from celery import Celery
from kombu.transport import redis as kombu_redis

from hub.patches.kombu import CHANNEL_CLIENT, TASK_PUBLISHER, TaskPublisher
from hub.queue import (
    HANDLE_MESSAGE,
    PRIORITY_URGENT,
    create_celery,
    queue_keys,
    queue_name,
    queued_count,
)
from hub.settings import Settings
from tests.conftest import TEST_REDIS_URL
from tests.patch_kit import installed, removed

pytestmark = pytest.mark.integration


@pytest.fixture
def app(redis_client: redis.Redis) -> Iterator[Celery]:
    # kombu's connection pools are process-wide: an earlier test's producer would
    # otherwise hand these tests a channel whose client is built already.
    kombu.pools.reset()
    celery = create_celery(Settings(redis_url=TEST_REDIS_URL))
    yield celery
    celery.close()


@pytest.fixture
def channel_client() -> Iterator[None]:
    with installed(CHANNEL_CLIENT):
        yield


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every Redis client a kombu channel builds for commands (not its BRPOP client)."""
    clients: list[object] = []
    create = kombu_redis.Channel._create_client

    def counting(self: Any, asynchronous: bool = False) -> Any:
        client = create(self, asynchronous=asynchronous)
        if not asynchronous:
            clients.append(client)
        return client

    monkeypatch.setattr(kombu_redis.Channel, "_create_client", counting)
    return clients


def publish(app: Celery, n: int, queue: str = "chatwootai.retail") -> None:
    for i in range(n):
        app.send_task(HANDLE_MESSAGE, args=[{"n": i}], queue=queue, priority=6)


@pytest.mark.usefixtures("channel_client")
def test_the_patch_is_in_place_on_the_pinned_kombu() -> None:
    assert CHANNEL_CLIENT.applies()
    patched = kombu_redis.Channel.conn_or_acquire
    CHANNEL_CLIENT.install()  # installing again wraps nothing twice
    assert kombu_redis.Channel.conn_or_acquire is patched
    assert CHANNEL_CLIENT.installed


@pytest.mark.usefixtures("channel_client")
def test_publishing_many_tasks_builds_one_client_and_every_task_arrives(
    app: Celery, built: list[object], redis_client: redis.Redis
) -> None:
    publish(app, 25)
    assert queued_count(redis_client, queue_name("retail")) == 25
    assert len(built) == 1


def test_without_the_patch_kombu_builds_a_client_per_publish_and_every_task_arrives(
    app: Celery, built: list[object], redis_client: redis.Redis
) -> None:
    with removed(CHANNEL_CLIENT):
        publish(app, 25)
    assert queued_count(redis_client, queue_name("retail")) == 25
    assert len(built) >= 25


@pytest.mark.usefixtures("channel_client")
def test_a_replaced_connection_pool_gets_a_new_client(
    app: Celery, built: list[object], redis_client: redis.Redis
) -> None:
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        with channel.conn_or_acquire() as first:
            pass
        with channel.conn_or_acquire() as again:
            assert again is first
        channel._disconnect_pools()  # what kombu does after a fork
        with channel.conn_or_acquire() as fresh:
            assert fresh is not first
            assert fresh.connection_pool is channel.pool
            fresh.lpush("chatwootai.retail", "x")
    assert redis_client.llen("chatwootai.retail") == 1


def test_threads_publishing_at_once_lose_nothing(app: Celery, redis_client: redis.Redis) -> None:
    threads = [threading.Thread(target=publish, args=(app, 20)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert queued_count(redis_client, queue_name("retail")) == 120


def test_a_task_written_into_a_transaction_is_the_message_celery_would_publish(
    app: Celery, redis_client: redis.Redis
) -> None:
    args = [{"domain": "retail", "text": "Olá, qual o horário?"}]
    app.send_task(
        HANDLE_MESSAGE,
        args=args,
        queue="chatwootai.retail",
        priority=6,
        argsrepr="retail:account=1",
        kwargsrepr="{}",
    )
    pipe = redis_client.pipeline(transaction=True)
    task_id = TaskPublisher(app).add(
        pipe,
        HANDLE_MESSAGE,
        args,
        queue="chatwootai.retail",
        priority=6,
        argsrepr="retail:account=1",
    )
    pipe.execute()
    normal = queue_keys(queue_name("retail"))[2]
    assert redis_client.llen(normal) == 2
    ours, celerys = (json.loads(raw) for raw in redis_client.lrange(normal, 0, 1))
    assert ours["headers"]["id"] == ours["headers"]["root_id"] == task_id
    assert ours["properties"]["correlation_id"] == task_id
    # The default exchange routes by queue name: a redelivery needs no binding.
    assert ours["properties"]["delivery_info"] == {
        "exchange": "",
        "routing_key": "chatwootai.retail",
    }
    for message in (ours, celerys):
        for header in ("id", "root_id"):
            message["headers"].pop(header)
        for field in ("correlation_id", "delivery_tag", "delivery_info"):
            message["properties"].pop(field)
    assert ours == celerys


def test_an_urgent_task_goes_on_the_most_urgent_list(
    app: Celery, redis_client: redis.Redis
) -> None:
    pipe = redis_client.pipeline(transaction=True)
    TaskPublisher(app).add(
        pipe, HANDLE_MESSAGE, [{}], queue="chatwootai.health", priority=PRIORITY_URGENT, argsrepr=""
    )
    pipe.execute()
    assert redis_client.llen(queue_keys(queue_name("health"))[0]) == 1
    assert queued_count(redis_client, queue_name("health")) == 1


def test_the_publisher_is_used_only_on_the_kombu_it_was_written_for() -> None:
    assert TASK_PUBLISHER.applies()
    assert not TASK_PUBLISHER.applies("9.0.0")


def test_a_publisher_that_is_dropped_closes_its_broker_connection(
    app: Celery, redis_client: redis.Redis
) -> None:
    publisher = TaskPublisher(app)
    pipe = redis_client.pipeline(transaction=True)
    publisher.add(pipe, HANDLE_MESSAGE, [{}], queue="chatwootai.retail", priority=6, argsrepr="")
    pipe.execute()
    channel = publisher._channel
    assert channel._async_pool is not None  # the channel pinged Redis when it was built
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del publisher
        gc.collect()
    assert channel._async_pool is None and channel._pool is None
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


def _closed_channels() -> Iterator[Any]:
    """A channel whose connection Celery closed (Redis went away), and one whose
    transport lost its client: what a worker thread acknowledges on after an outage."""
    closed = kombu.Connection(TEST_REDIS_URL)
    channel = closed.default_channel
    channel.client.ping()
    closed.close()
    yield channel
    orphan = kombu.Connection(TEST_REDIS_URL)
    channel = orphan.default_channel
    orphan.transport.client = None
    channel._pool = None
    yield channel
    orphan.release()


def test_a_channel_whose_connection_closed_raises_a_connection_error_not_a_crash(
    redis_client: redis.Redis,
) -> None:
    with installed(CHANNEL_CLIENT):
        for channel in _closed_channels():
            with pytest.raises(redis.ConnectionError), channel.conn_or_acquire() as client:
                client.ping()
            assert isinstance(redis.ConnectionError(), channel.connection_errors or ())


def test_without_the_patch_kombu_crashes_on_a_channel_whose_connection_closed(
    redis_client: redis.Redis,
) -> None:
    with removed(CHANNEL_CLIENT):
        for channel in _closed_channels():
            crash = pytest.raises(AttributeError, match="'NoneType' object has no attribute")
            with crash, channel.conn_or_acquire() as client:
                client.ping()

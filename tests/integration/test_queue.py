"""The broker side of the queue in real Redis: kombu channels reuse their Redis client."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from celery import Celery
from kombu.transport import redis as kombu_redis

from hub.queue import HANDLE_MESSAGE, create_celery, queued_count, reuse_broker_clients
from hub.settings import Settings
from tests.conftest import TEST_REDIS_URL

pytestmark = pytest.mark.integration


@pytest.fixture
def app(redis_client: redis.Redis) -> Iterator[Celery]:
    celery = create_celery(Settings(redis_url=TEST_REDIS_URL))
    yield celery
    celery.close()


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


def test_the_patch_is_in_place_on_the_pinned_kombu() -> None:
    assert reuse_broker_clients()
    assert reuse_broker_clients()  # installing again wraps nothing twice
    assert kombu_redis.Channel.conn_or_acquire.reuses_clients  # type: ignore[attr-defined]


def test_publishing_many_tasks_builds_one_client_and_every_task_arrives(
    app: Celery, built: list[object], redis_client: redis.Redis
) -> None:
    publish(app, 25)
    assert queued_count(redis_client, "retail") == 25
    assert len(built) == 1


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
    assert queued_count(redis_client, "retail") == 120

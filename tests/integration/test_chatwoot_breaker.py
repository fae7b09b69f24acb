"""The circuit breaker per Chatwoot host, shared through real Redis, against the fake."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from structlog.testing import capture_logs

from hub.chatwoot.breaker import Breaker, BreakerSettings
from hub.chatwoot.client import ChatwootClient
from hub.exceptions import ChatwootAPIError, ChatwootUnavailableError
from tests.fakes.chatwoot import FakeChatwoot

pytestmark = pytest.mark.integration

TOKEN = "token-casa"


@pytest.fixture
def fake_chatwoot() -> Iterator[FakeChatwoot]:
    with FakeChatwoot({TOKEN: 3}) as server:
        yield server


def workers(
    fake: FakeChatwoot, client: redis.Redis, n: int, **settings: Any
) -> list[ChatwootClient]:
    """`n` clients, as `n` worker processes hold, sharing one circuit through Redis."""
    shared = BreakerSettings(**{"failures": 3, "cooldown_seconds": 0.3, **settings})
    return [
        ChatwootClient(
            fake.url,
            max_attempts=2,
            sleep=lambda _: None,
            breaker=Breaker(client, "chatwoot.test", shared),
        )
        for _ in range(n)
    ]


def post(client: ChatwootClient, conversation: int = 1) -> dict[str, Any]:
    return client.send_message(3, conversation, "Olá!", token=TOKEN)


def test_a_chatwoot_down_for_everyone_is_detected_once_and_then_left_alone(
    fake_chatwoot: FakeChatwoot, redis_client: redis.Redis
) -> None:
    fake_chatwoot.down_for(60)
    clients = workers(fake_chatwoot, redis_client, 3)
    with capture_logs() as logs:
        for round_ in range(10):
            for client in clients:
                with pytest.raises(ChatwootAPIError) as caught:
                    post(client, round_)
                assert caught.value.retryable
    assert len(fake_chatwoot.requests("/messages")) == 3  # the threshold, not 10 × 3 × 2
    opened = [line for line in logs if line["event"] == "chatwoot is down: circuit opened"]
    assert len(opened) == 1 and opened[0]["log_level"] == "error"


def test_an_open_circuit_says_when_to_come_back(
    fake_chatwoot: FakeChatwoot, redis_client: redis.Redis
) -> None:
    fake_chatwoot.down_for(60)
    (client,) = workers(fake_chatwoot, redis_client, 1, cooldown_seconds=5)
    for _ in range(2):
        with pytest.raises(ChatwootAPIError):
            post(client)
    with pytest.raises(ChatwootUnavailableError) as caught:
        post(client)
    assert 4 < caught.value.retry_in <= 5
    assert 4 < client.unavailable_for() <= 5


def test_after_the_cooldown_one_probe_goes_through_and_its_success_closes_the_circuit(
    fake_chatwoot: FakeChatwoot, redis_client: redis.Redis
) -> None:
    back = fake_chatwoot.down_for(0.2)
    first, second = workers(fake_chatwoot, redis_client, 2)
    for _ in range(2):
        with pytest.raises(ChatwootAPIError):
            post(first)
    time.sleep(max(0.0, back - time.time()) + 0.35)  # Chatwoot back, cooldown over
    seen = len(fake_chatwoot.requests("/messages"))
    assert post(second)["content"] == "Olá!"  # the probe
    assert post(first)["content"] == "Olá!"  # closed again: everyone posts
    assert len(fake_chatwoot.requests("/messages")) == seen + 2


def test_a_failed_probe_keeps_the_circuit_open_for_twice_as_long(
    fake_chatwoot: FakeChatwoot, redis_client: redis.Redis
) -> None:
    fake_chatwoot.down_for(60)
    (client,) = workers(fake_chatwoot, redis_client, 1, cooldown_seconds=0.3)
    for _ in range(2):
        with pytest.raises(ChatwootAPIError):
            post(client)
    time.sleep(0.35)
    seen = len(fake_chatwoot.requests("/messages"))
    with pytest.raises(ChatwootUnavailableError):  # the probe fails; the retry is refused
        post(client)
    assert len(fake_chatwoot.requests("/messages")) == seen + 1
    assert 0.45 < client.unavailable_for() <= 0.6


def test_while_one_probe_is_under_way_the_others_wait(redis_client: redis.Redis) -> None:
    breaker = Breaker(redis_client, "chatwoot.test", BreakerSettings(failures=1))
    breaker.failed("send_message", "HTTP 500", probe=False)
    redis_client.delete(breaker.key("open"))  # the cooldown is over
    assert breaker.admit("send_message") is True
    with pytest.raises(ChatwootUnavailableError):
        breaker.admit("send_message")


def test_a_chatwoot_that_just_came_back_gets_at_most_the_drain_rate_each_second(
    redis_client: redis.Redis,
) -> None:
    now = [1000.2]
    breaker = Breaker(
        redis_client,
        "chatwoot.test",
        BreakerSettings(failures=1, drain_rate=4),
        clock=lambda: now[0],
    )
    breaker.failed("send_message", "HTTP 500", probe=False)
    redis_client.delete(breaker.key("open"))
    assert breaker.admit("send_message")
    breaker.succeeded(probe=True)
    admitted = 0
    for _ in range(10):
        try:
            breaker.admit("send_message")
            admitted += 1
        except ChatwootUnavailableError as refused:
            assert refused.retry_in == 1.0
    assert admitted == 4
    now[0] += 1  # the next second
    breaker.admit("send_message")


def test_successful_calls_clear_the_count_so_scattered_failures_open_nothing(
    redis_client: redis.Redis,
) -> None:
    breaker = Breaker(redis_client, "chatwoot.test", BreakerSettings(failures=3))
    for _ in range(5):
        breaker.failed("send_message", "HTTP 502", probe=False)
        breaker.failed("send_message", "HTTP 502", probe=False)
        breaker.succeeded(probe=False)
    assert breaker.admit("send_message") is False
    assert breaker.unavailable_for() == 0


def test_without_redis_the_breaker_lets_every_call_through(
    fake_chatwoot: FakeChatwoot,
) -> None:
    gone = redis.Redis(port=1, socket_connect_timeout=0.2, decode_responses=True)
    client = ChatwootClient(
        fake_chatwoot.url, sleep=lambda _: None, breaker=Breaker(gone, "chatwoot.test")
    )
    assert post(client)["content"] == "Olá!"
    assert client.unavailable_for() == 0

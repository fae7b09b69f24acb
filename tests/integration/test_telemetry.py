"""Worker metrics in real Redis: summed in memory, sent every second, never lost to a
Redis outage, and sent at once by processes that never started the flusher."""

from __future__ import annotations

import time

import pytest
import redis

from hub.telemetry import Telemetry

pytestmark = pytest.mark.integration


def test_started_telemetry_sums_a_second_of_metrics_into_one_write(
    redis_client: redis.Redis,
) -> None:
    telemetry = Telemetry(redis_client, flush_seconds=3600)
    telemetry.start()
    assert telemetry.started
    try:
        with telemetry.batch():
            telemetry.observe("crew_seconds", "health", 1.5)
            telemetry.count("messages_handled", "health", "replied")
        telemetry.observe("crew_seconds", "health", 2.0)
        telemetry.count("messages_handled", "health", "replied")
        assert redis_client.hgetall("chatwootai:metrics:crew_seconds") == {}
        telemetry.flush()
        assert redis_client.hgetall("chatwootai:metrics:crew_seconds") == {
            "health|le=2.5": "2",
            "health|sum": "3.5",
        }
        assert redis_client.hget("chatwootai:metrics:messages_handled", "health|replied") == "2"
        telemetry.count("messages_handled", "health", "silent")
    finally:
        telemetry.stop()
    assert not telemetry.started
    assert redis_client.hget("chatwootai:metrics:messages_handled", "health|silent") == "1"


def test_the_background_thread_sends_the_metrics_without_being_asked(
    redis_client: redis.Redis,
) -> None:
    telemetry = Telemetry(redis_client, flush_seconds=0.05)
    telemetry.start()
    try:
        telemetry.count("replies", "retail", "answer")
        deadline = time.monotonic() + 10
        while not redis_client.hget("chatwootai:metrics:replies", "retail|answer"):
            assert time.monotonic() < deadline, "the flusher never sent the count"
            time.sleep(0.01)
    finally:
        telemetry.stop()
    assert redis_client.hget("chatwootai:metrics:replies", "retail|answer") == "1"


def test_metrics_that_redis_refused_are_sent_with_the_next_flush(
    redis_client: redis.Redis,
) -> None:
    down = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    telemetry = Telemetry(down, flush_seconds=3600)
    telemetry.start()
    try:
        telemetry.count("failures", "retail", "chatwoot_error")
        telemetry.observe("reply_seconds", "retail", 0.2)
        telemetry.flush()  # Redis unreachable: nothing raised, nothing lost
        telemetry.count("failures", "retail", "chatwoot_error")
        telemetry.redis = redis_client
    finally:
        telemetry.stop()
        down.close()
    assert redis_client.hget("chatwootai:metrics:failures", "retail|chatwoot_error") == "2"
    assert redis_client.hget("chatwootai:metrics:reply_seconds", "retail|le=0.25") == "1"

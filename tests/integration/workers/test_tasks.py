"""The Celery task around the handler: retries, and dead letters instead of silence."""

from __future__ import annotations

import os
import time
from types import SimpleNamespace
from typing import Any

import pytest
import redis
from structlog.testing import capture_logs

from hub.chatwoot.client import ChatwootClient
from hub.conversation.deadletter import DeadLetters
from hub.conversation.mailbox import Mailbox
from hub.exceptions import ChatwootAPIError, ChatwootUnavailableError
from hub.settings import Settings
from hub.store.spool import TurnSpool
from hub.telemetry import Telemetry
from workers import tasks
from workers.answer import Handled
from workers.middleware import Metrics
from workers.runtime import WorkerRuntime

pytestmark = pytest.mark.integration


class StubRegistry:
    def chatwoot_token(self, _account_id: int, _settings: Settings) -> str | None:
        return None


class StubRuntime:
    """Only what the task itself touches: the dead-letter list, the mailbox, the settings
    and a Chatwoot client that is not configured (its calls are logged, not sent)."""

    def __init__(self, client: redis.Redis) -> None:
        self.settings = Settings(chatwoot_retry_seconds=0.3)
        self.dead_letters = DeadLetters(client)
        self.mailbox = Mailbox(client)
        self.telemetry = Telemetry(client)
        self.middleware = Metrics(self.telemetry)
        self.chatwoot = ChatwootClient(None)
        self.registry = StubRegistry()


def payload(**changes: Any) -> dict[str, Any]:
    return {
        "domain": "retail",
        "account_id": 3,
        "conversation_id": 1,
        "inbox_id": 31,
        "message_id": 10,
        "text": "oi",
        "received_at": time.time(),
        **changes,
    }


@pytest.fixture
def runtime(redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> StubRuntime:
    stub = StubRuntime(redis_client)
    monkeypatch.setattr(tasks, "runtime", lambda: stub)
    monkeypatch.setattr(tasks, "backoff", lambda _retries, _cap: 0.0)
    return stub


def test_a_malformed_queue_message_is_dead_lettered(runtime: StubRuntime) -> None:
    result = tasks.handle_message.apply(args=[{"domain": "retail"}]).get()
    assert result == "dead_letter"
    (entry,) = runtime.dead_letters.all()
    assert entry["reason"] == "invalid_payload"


def test_a_chatwoot_outage_is_retried_for_the_retry_time_then_dead_lettered(
    runtime: StubRuntime, monkeypatch: pytest.MonkeyPatch, redis_client: redis.Redis
) -> None:
    attempts: list[float] = []

    def failing(_rt: WorkerRuntime, _message: object) -> None:
        attempts.append(time.time())
        time.sleep(0.02)
        raise ChatwootAPIError("send_message: HTTP 503", status=503, retryable=True)

    monkeypatch.setattr(tasks, "handle", failing)
    with capture_logs() as logs:
        result = tasks.handle_message.apply(args=[payload()])
    assert result.get(propagate=False) == "dead_letter"
    assert len(attempts) > 6  # time, not a count: more than the old six retries
    assert attempts[-1] - attempts[0] >= 0.3 - 0.05
    (entry,) = runtime.dead_letters.all()
    assert entry["reason"] == "chatwoot_unavailable"
    assert "HTTP 503" in entry["error"] and entry["at"] >= attempts[-1]
    assert redis_client.hgetall("chatwootai:metrics:dead_letters") == {
        "retail|chatwoot_unavailable": "1"
    }
    (unanswered,) = [line for line in logs if line["event"] == "conversation left unanswered"]
    assert unanswered["log_level"] == "error"
    assert unanswered["conversation_id"] == 1 and unanswered["dead_letter"] == entry["id"]


def test_a_message_failing_longer_than_six_retries_is_still_answered_in_the_retry_time(
    runtime: StubRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime.settings = Settings()  # 30 minutes
    attempts = []

    def flaky(_rt: WorkerRuntime, message: object) -> Handled:
        attempts.append(1)
        if len(attempts) <= 10:
            raise ChatwootAPIError("send_message: HTTP 500", status=500, retryable=True)
        return Handled("replied")

    monkeypatch.setattr(tasks, "handle", flaky)
    assert tasks.handle_message.apply(args=[payload()]).get() == "replied"
    assert len(attempts) == 11
    assert runtime.dead_letters.all() == []


def test_while_chatwoot_s_circuit_is_open_no_turn_is_started(
    runtime: StubRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_for = [5.0, 0.0]
    monkeypatch.setattr(runtime.chatwoot, "unavailable_for", lambda: open_for.pop(0))
    turns = []

    def answering(_rt: WorkerRuntime, _message: object) -> Handled:
        turns.append(1)
        return Handled("replied")

    monkeypatch.setattr(tasks, "handle", answering)
    assert tasks.handle_message.apply(args=[payload()]).get() == "replied"
    assert turns == [1]  # the open circuit's attempt ran no turn


def test_a_retry_waits_for_the_circuit_and_the_backoff_is_capped() -> None:
    refused = ChatwootUnavailableError("circuit open", retry_in=7.0)
    assert 7.0 <= tasks.retry_delay(refused, 0, 60.0) <= 8.0
    for retries in (0, 3, 30):
        delay = tasks.retry_delay(ChatwootAPIError("HTTP 500", retryable=True), retries, 60.0)
        expected = min(60.0, tasks.BACKOFF_BASE_SECONDS * 2**retries)
        assert expected / 2 <= delay <= expected


def test_a_permanent_chatwoot_error_is_not_retried(
    runtime: StubRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts = []

    def refused(_rt: WorkerRuntime, _message: object) -> None:
        attempts.append(1)
        raise ChatwootAPIError("send_message: HTTP 404", status=404, retryable=False)

    monkeypatch.setattr(tasks, "handle", refused)
    assert tasks.handle_message.apply(args=[payload()]).get() == "dead_letter"
    assert len(attempts) == 1


def test_a_bug_in_the_handler_keeps_the_message_for_an_operator(
    runtime: StubRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_rt: WorkerRuntime, _message: object) -> None:
        raise KeyError("oops")

    monkeypatch.setattr(tasks, "handle", broken)
    assert tasks.handle_message.apply(args=[payload()]).get() == "dead_letter"
    entry = runtime.dead_letters.all()[0]
    assert entry["reason"] == "unexpected"
    assert entry["message"]["message_id"] == 10


def test_outcomes_are_counted_for_the_metrics(
    runtime: StubRuntime, redis_client: redis.Redis
) -> None:
    tasks.handle_message.apply(args=[{"domain": "retail"}]).get()
    assert redis_client.hgetall("chatwootai:metrics:messages_handled") == {
        "retail|dead_letter": "1"
    }


def test_a_worker_s_start_up_heap_is_kept_out_of_the_garbage_collector(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gc

    import workers
    import workers.runtime

    class Built:
        def __init__(self) -> None:
            self.telemetry = Telemetry(redis.Redis(), flush_seconds=3600)
            self.spool = TurnSpool(redis.Redis())
            self.factory = SimpleNamespace(engine=None, mark_frozen=lambda: None)

    built: list[Built] = []
    drainers: dict[int, Any] = {}
    monkeypatch.setattr(workers.runtime, "runtime", lambda: built.append(Built()) or built[0])
    monkeypatch.setattr(workers, "_drainers", drainers)
    monkeypatch.setattr(workers, "configure_logging", lambda _settings: None)
    before = gc.get_freeze_count()
    try:
        workers._build_runtime()
        assert len(built) == 1
        assert gc.get_freeze_count() > before
        assert built[0].telemetry.started  # metrics are summed and sent each second
        assert list(drainers) == [os.getpid()]  # spooled turns are written back
    finally:
        gc.unfreeze()
        for drainer in drainers.values():
            drainer.stop()
        for runtime in built:
            runtime.telemetry.stop()
            runtime.telemetry.redis.close()


def test_a_busy_message_comes_back_just_after_a_dead_holder_s_lock_would_expire() -> None:
    assert tasks.recheck_delay(0.0) == tasks.RECHECK_MARGIN_SECONDS  # no lock left
    assert tasks.recheck_delay(4.0) == 4.0 + tasks.RECHECK_MARGIN_SECONDS
    assert tasks.recheck_delay(10_000.0) == tasks.RECHECK_SECONDS  # never later than before


def test_retries_and_rechecks_are_published_again_while_redis_is_away_for_a_minute() -> None:
    policy = tasks.REPUBLISH_POLICY
    waits = [
        min(policy["interval_start"] + n * policy["interval_step"], policy["interval_max"])
        for n in range(policy["max_retries"])
    ]
    assert 60 <= sum(waits) <= 90

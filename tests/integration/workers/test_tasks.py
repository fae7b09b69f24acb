"""The Celery task around the handler: retries, and dead letters instead of silence."""

from __future__ import annotations

import time
from typing import Any

import pytest
import redis

from hub.conversation.deadletter import DeadLetters
from hub.conversation.mailbox import Mailbox
from hub.exceptions import ChatwootAPIError
from hub.telemetry import Telemetry
from workers import tasks
from workers.middleware import Metrics
from workers.runtime import WorkerRuntime

pytestmark = pytest.mark.integration


class StubRuntime:
    """Only what the task itself touches: the dead-letter list and the mailbox."""

    def __init__(self, client: redis.Redis) -> None:
        self.dead_letters = DeadLetters(client)
        self.mailbox = Mailbox(client)
        self.telemetry = Telemetry(client)
        self.middleware = Metrics(self.telemetry)


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
    monkeypatch.setattr(tasks, "backoff", lambda _retries: 0.0)
    return stub


def test_a_malformed_queue_message_is_dead_lettered(runtime: StubRuntime) -> None:
    result = tasks.handle_message.apply(args=[{"domain": "retail"}]).get()
    assert result == "dead_letter"
    (entry,) = runtime.dead_letters.all()
    assert entry["reason"] == "invalid_payload"


def test_a_chatwoot_outage_is_retried_then_dead_lettered(
    runtime: StubRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts = []

    def failing(_rt: WorkerRuntime, _message: object) -> None:
        attempts.append(1)
        raise ChatwootAPIError("send_message: HTTP 503", status=503, retryable=True)

    monkeypatch.setattr(tasks, "handle", failing)
    result = tasks.handle_message.apply(args=[payload()])
    assert len(attempts) == tasks.MAX_RETRIES + 1
    assert result.get(propagate=False) == "dead_letter"
    assert runtime.dead_letters.all()[0]["reason"] == "ChatwootAPIError"


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

    built: list[Built] = []
    monkeypatch.setattr(workers.runtime, "runtime", lambda: built.append(Built()) or built[0])
    monkeypatch.setattr(workers, "configure_logging", lambda _settings: None)
    before = gc.get_freeze_count()
    try:
        workers._build_runtime()
        assert len(built) == 1
        assert gc.get_freeze_count() > before
        assert built[0].telemetry.started  # metrics are summed and sent each second
    finally:
        gc.unfreeze()
        for runtime in built:
            runtime.telemetry.stop()
            runtime.telemetry.redis.close()

"""Redis restarted under load loses no accepted message: a real worker process, the
receiver, the fake Chatwoot, and a Redis of the test's own that goes away mid-load.

Customers post as Chatwoot does: a webhook answered 500 is sent again a moment
later. Every message the receiver accepted (200) must be answered exactly once,
by the same worker process, which reconnects by itself.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient

from hub.embedded_redis import EmbeddedRedis
from tests.e2e.conftest import ACCOUNTS, WorkerProcess, message_created, post_signed, receiver_for
from tests.fakes.chatwoot import FakeChatwoot
from tests.fakes.redis_server import RedisServer
from tests.figures import report
from tests.processes import needs_proc, redis_servers

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.long]
"""Run by `make bench` (`--only outages` / `pytest -m long`), not by `make test`: CI's time."""

CUSTOMERS = 40
SPREAD_SECONDS = 8.0
"""The customers' first posts are spread over this long; the outage is in the middle."""
OUTAGE_AT_SECONDS = 2.5
OUTAGE_SECONDS = 3.0
RETRY_EVERY_SECONDS = 0.5
"""Chatwoot sends a webhook answered 500 again (its job retries, shortened)."""
GIVE_UP_SECONDS = 60.0
SLOW_CHATWOOT_SECONDS = 0.3
WORKER_SETTINGS = {"CHATWOOTAI_WORKER_CONCURRENCY": "4"}


@dataclass
class Load:
    """What the customers posted and what the receiver answered them."""

    accepted: dict[int, int] = field(default_factory=dict)
    """conversation → message id of the post answered 200."""
    refused: int = 0
    """Posts answered 500 (sent again)."""
    statuses: list[int] = field(default_factory=list)
    error: BaseException | None = None
    """What stopped the posting thread, if anything did."""


def post_like_chatwoot(client: FlaskClient, load: Load, started: float) -> None:
    """Each customer's message at its time, sent again every RETRY_EVERY_SECONDS while
    the receiver answers 500 (one thread: the posts of a Chatwoot job queue)."""
    try:
        _post_all(client, load, started)
    except BaseException as error:  # seen by the test's thread
        load.error = error


def _post_all(client: FlaskClient, load: Load, started: float) -> None:
    due = {
        n: started + n * SPREAD_SECONDS / CUSTOMERS for n in range(CUSTOMERS)
    }  # customer → when to post next
    deadline = started + GIVE_UP_SECONDS
    while due and time.time() < deadline:
        now = time.time()
        for n, when in sorted(due.items(), key=lambda item: item[1]):
            if when > now:
                continue
            conversation, message = 7300 + n, 97300 + n
            event = message_created("retail", conversation, message, "Qual o horário das lojas?")
            status = post_signed(client, event).status_code
            load.statuses.append(status)
            if status == 200:
                load.accepted[conversation] = message
                del due[n]
            else:
                assert status == 500, status
                load.refused += 1
                due[n] = time.time() + RETRY_EVERY_SECONDS
        time.sleep(0.02)


def replies_to(fake: FakeChatwoot, conversation_id: int) -> list[dict[str, Any]]:
    return [
        body
        for body in fake.messages(conversation_id, account_id=ACCOUNTS["retail"][0])
        if not body.get("private")
    ]


def _worker_problems(worker: WorkerProcess) -> str:
    """The worker's warnings and errors, for a failure's message."""
    wanted = ('"warning"', '"error"', "Traceback", "Error")
    return "".join(line for line in worker.output if any(w in line for w in wanted))[-6000:]


def run_through_outage(
    outage: Callable[[], None],
    client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
    worker: WorkerProcess,
) -> dict[str, float]:
    """Post the load, run `outage` in its middle, check exactly once; the figures."""
    load = Load()
    fake_chatwoot.delay_responses(SLOW_CHATWOOT_SECONDS)  # turns under way when Redis goes
    started = time.time()
    poster = threading.Thread(target=post_like_chatwoot, args=(client, load, started))
    poster.start()
    time.sleep(OUTAGE_AT_SECONDS)
    outage()
    poster.join(timeout=GIVE_UP_SECONDS + 5)
    assert not poster.is_alive()
    assert load.error is None, repr(load.error)
    assert len(load.accepted) == CUSTOMERS, (len(load.accepted), sorted(set(load.statuses)))

    conversations = list(load.accepted)
    answered = fake_chatwoot.wait_for(
        lambda: all(replies_to(fake_chatwoot, c) for c in conversations),
        timeout=90,
        raise_on_timeout=False,
    )
    unanswered = [c for c in conversations if not replies_to(fake_chatwoot, c)]
    assert answered, (unanswered, _worker_problems(worker))
    answered_at = time.time()
    time.sleep(3)  # a second reply would show up now
    twice = [c for c in conversations if len(replies_to(fake_chatwoot, c)) != 1]
    assert twice == [], twice
    assert worker.process.poll() is None
    crashed = [line for line in worker.output if "has no attribute" in line]
    assert crashed == [], crashed[:3]
    return {
        "refused_posts": load.refused,
        "accepted": len(load.accepted),
        "all_answered_after_seconds": round(answered_at - started, 1),
    }


def test_a_redis_restarted_under_load_loses_no_accepted_message(
    tmp_path: Path,
    start_worker: Callable[..., WorkerProcess],
    service_env: dict[str, str],
    fake_chatwoot: FakeChatwoot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = RedisServer(tmp_path / "redis-server")
    server.start()
    try:
        env = {**service_env, "CHATWOOTAI_REDIS_URL": server.url}
        state = redis.Redis.from_url(server.url, decode_responses=True, socket_timeout=5)
        client = receiver_for(env, state, monkeypatch)
        worker = start_worker(env={**env, **WORKER_SETTINGS})

        figures = run_through_outage(
            lambda: server.restart_after(OUTAGE_SECONDS), client, fake_chatwoot, worker
        )
        report("redis_restart", figures)
        assert figures["refused_posts"] > 0  # the outage did refuse posts, and they came back
    finally:
        server.stop(kill=True)


@needs_proc
def test_the_embedded_redis_killed_under_load_comes_back_with_every_accepted_message(
    data_dir: Path,
    start_worker: Callable[..., WorkerProcess],
    service_env: dict[str, str],
    fake_chatwoot: FakeChatwoot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    embedded = EmbeddedRedis(data_dir / "redis" / "chatwootai.rdb")
    embedded.start()  # this test owns it; the worker and the receiver only connect
    try:
        env = {**service_env, "CHATWOOTAI_REDIS_URL": embedded.url}
        state = redis.Redis.from_url(embedded.url, decode_responses=True, socket_timeout=5)
        client = receiver_for(env, state, monkeypatch)
        worker = start_worker(env={**env, **WORKER_SETTINGS})

        def kill() -> None:
            (pid,) = redis_servers(data_dir)
            os.kill(pid, signal.SIGKILL)  # the supervisor starts it again

        figures = run_through_outage(kill, client, fake_chatwoot, worker)
        report("embedded_redis_killed", figures)
    finally:
        embedded.stop()

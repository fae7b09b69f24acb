"""A worker SIGKILLed mid-turn while busy-loop processes saturate every CPU: each
conversation still gets exactly one reply, every round. Real worker processes on the
real model path (a slow fake OpenAI server), the receiver, real Redis, fake Chatwoot.

CHATWOOTAI_TEST_KILL_ROUNDS rounds (1 by default; the bench's outages run sets 5).
What a killed worker's message waits for, in order: its visibility timeout (short
here), kombu's next sweep for unacknowledged messages (UNACKED_RESTORE_SECONDS),
then the dead holder's conversation lock, which expires LOCK_TTL_SECONDS after its
last renewal; the redelivered task, finding it busy, comes back just after that.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask.testing import FlaskClient

from hub import defaults
from hub.conversation.lock import LOCK_TTL_SECONDS
from tests.e2e.conftest import ACCOUNTS, WorkerProcess, message_created, post_signed
from tests.fakes.chatwoot import FakeChatwoot
from tests.fakes.openai_server import FakeOpenAI
from tests.figures import report

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.long]
"""Run by `make bench` (`--only outages`), not by `make test`: CI's time."""

ROUNDS = int(os.environ.get("CHATWOOTAI_TEST_KILL_ROUNDS", "1"))
CONVERSATIONS = 4
MODEL_SECONDS = 6.0
"""The model's delay while the doomed worker waits on it."""
VISIBILITY_SECONDS = 10
REPLY_BOUND_SECONDS = VISIBILITY_SECONDS + defaults.UNACKED_RESTORE_SECONDS + LOCK_TTL_SECONDS + 30
"""Generous over the chain above: the machine is saturated on purpose."""
HOGS_PER_CPU = 2


def _spin() -> None:
    while True:
        pass


@contextmanager
def cpu_hog() -> Iterator[None]:
    """Busy-loop processes, HOGS_PER_CPU per CPU, for the block's duration."""
    context = multiprocessing.get_context("fork")
    hogs = [
        context.Process(target=_spin, daemon=True)
        for _ in range(HOGS_PER_CPU * (os.cpu_count() or 1))
    ]
    for hog in hogs:
        hog.start()
    try:
        yield
    finally:
        for hog in hogs:
            hog.kill()
        for hog in hogs:
            hog.join()


def replies_to(fake: FakeChatwoot, conversation_id: int) -> list[dict[str, Any]]:
    return [
        body
        for body in fake.messages(conversation_id, account_id=ACCOUNTS["retail"][0])
        if not body.get("private")
    ]


def test_a_worker_killed_mid_turn_under_a_cpu_hog_leaves_exactly_one_reply_each_round(
    start_worker: Callable[..., WorkerProcess],
    receiver_client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
    fake_openai: FakeOpenAI,
) -> None:
    model = {
        "CHATWOOTAI_LLM": "openai/fake-model",
        "CHATWOOTAI_LLM_BASE_URL": fake_openai.url,
        "CHATWOOTAI_LLM_API_KEY": "sk-local",
        "CHATWOOTAI_VISIBILITY_TIMEOUT_SECONDS": str(VISIBILITY_SECONDS),
    }
    survivor = start_worker("--concurrency", "1", env=model, wait=False)  # every round's
    figures = []
    for round_ in range(ROUNDS):
        fake_openai.delay_seconds = MODEL_SECONDS
        asked = len(fake_openai.requests)
        doomed = start_worker("--concurrency", str(CONVERSATIONS), env=model, wait=False)
        survivor.wait_ready()
        doomed.wait_ready()
        conversations = [7600 + 10 * round_ + n for n in range(CONVERSATIONS)]
        with cpu_hog():
            for conversation in conversations:
                event = message_created(
                    "retail", conversation, conversation + 90000, "Qual o horário?"
                )
                assert post_signed(receiver_client, event).status_code == 200
            # Every turn is waiting on the model: the doomed worker holds most of them.
            fake_chatwoot.wait_for(
                lambda a=asked: len(fake_openai.requests) >= a + CONVERSATIONS, timeout=60
            )
            os.kill(doomed.process.pid, signal.SIGKILL)
            doomed.process.wait()
            killed_at = time.time()
            fake_openai.delay_seconds = 0
            fake_chatwoot.wait_for(
                lambda c=conversations: all(replies_to(fake_chatwoot, x) for x in c),
                timeout=REPLY_BOUND_SECONDS,
            )
            last_reply = time.time() - killed_at
        time.sleep(3)  # a second reply would show up now
        counts = {c: len(replies_to(fake_chatwoot, c)) for c in conversations}
        assert set(counts.values()) == {1}, (round_, counts)
        figures.append(round(last_reply, 1))
    report(
        "contention",
        {
            "rounds": ROUNDS,
            "conversations_per_round": CONVERSATIONS,
            "exactly_once_rounds": ROUNDS,
            "last_reply_after_kill_seconds": figures,
        },
    )

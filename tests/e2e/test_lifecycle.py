"""Stopping the service: SIGTERM drains what is in flight and loses nothing.

A deploy or `docker stop` sends SIGTERM. A worker must finish the turns it
started (exactly one reply each) and leave the rest queued for the next worker;
the receiver must answer the webhooks it is reading and take no new ones.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from flask.testing import FlaskClient

from hub.chatwoot.signature import sign
from tests.conftest import ROOT
from tests.e2e.conftest import SECRET, WorkerProcess, message_created, post_signed
from tests.fakes.chatwoot import FakeChatwoot
from tests.fakes.openai_server import FakeOpenAI
from tests.queue_kit import queued_messages

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DRAIN_BOUND_SECONDS = 60
"""Generous: the in-flight turns take a few model delays, on a shared, busy machine."""


def replied(fake_chatwoot: FakeChatwoot, conversations: range) -> dict[int, int]:
    """Public replies Chatwoot accepted, per conversation (0 for none)."""
    return {c: len(fake_chatwoot.messages(conversation_id=c)) for c in conversations}


def test_a_worker_told_to_stop_finishes_its_turns_and_leaves_the_rest_queued(
    start_worker: Callable[..., WorkerProcess],
    receiver_client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
    fake_openai: FakeOpenAI,
    redis_client: redis.Redis,
) -> None:
    slow_model = {
        "CHATWOOTAI_LLM": "openai/fake-model",
        "CHATWOOTAI_LLM_BASE_URL": fake_openai.url,
        "CHATWOOTAI_LLM_API_KEY": "sk-local",
    }
    fake_openai.delay_seconds = 3
    first = start_worker("--concurrency", "2", env=slow_model)
    conversations = range(4401, 4405)
    for conversation in conversations:
        text = "Qual o horário de funcionamento?"
        response = post_signed(
            receiver_client, message_created("retail", conversation, conversation, text)
        )
        assert response.json["outcome"] == "queued"
    fake_chatwoot.wait_for(lambda: len(fake_openai.requests) >= 2, timeout=30)

    first.process.send_signal(signal.SIGTERM)
    assert first.process.wait(timeout=DRAIN_BOUND_SECONDS) == 0, "".join(first.output[-30:])
    finished = replied(fake_chatwoot, conversations)
    assert sorted(finished.values()) == [0, 0, 1, 1], finished  # both turns in flight, once
    assert queued_messages(redis_client, "retail") == 2  # the others, untouched
    assert not redis_client.hlen("unacked"), "a finished or unstarted message left unacked"

    fake_openai.delay_seconds = 0
    start_worker(env=slow_model)
    fake_chatwoot.wait_for(lambda: all(replied(fake_chatwoot, conversations).values()), timeout=60)
    fake_chatwoot.wait_for(lambda: False, timeout=4, raise_on_timeout=False)  # any duplicate
    assert replied(fake_chatwoot, conversations) == dict.fromkeys(conversations, 1)


class ServeProcess:
    """`chatwootai serve` (gunicorn) as a child process on a free port."""

    def __init__(self, env: dict[str, str], workers: int) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        cli = str(Path(sys.executable).parent / "chatwootai")
        argv = [cli, "serve", "--port", str(self.port), "--workers", str(workers)]
        self.process = subprocess.Popen(
            argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                    conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                    if conn.recv(64).startswith(b"HTTP/1.1 200"):
                        return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"chatwootai serve did not start (exit {self.process.poll()})")

    def begin_webhook(self, conversation: int) -> tuple[socket.socket, bytes]:
        """Send a signed webhook's headers only, and return once a gunicorn worker holds it.

        `Expect: 100-continue` makes gunicorn answer `100 Continue` when a worker has
        parsed the headers: from then on the request is in flight, waiting for its body.
        """
        body = json.dumps(message_created("retail", conversation, conversation, "oi")).encode()
        ts = str(int(time.time()))
        head = (
            "POST /webhooks/chatwoot HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"X-Chatwoot-Signature: {sign(SECRET, ts, body)}\r\nX-Chatwoot-Timestamp: {ts}\r\n"
            "Expect: 100-continue\r\n\r\n"
        )
        conn = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        conn.sendall(head.encode())
        assert conn.recv(64) == b"HTTP/1.1 100 Continue\r\n\r\n"
        return conn, body

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def start_receiver(service_env: dict[str, str]) -> Iterator[Callable[[int], ServeProcess]]:
    started: list[ServeProcess] = []

    def start(workers: int) -> ServeProcess:
        receiver = ServeProcess({**service_env, "CHATWOOTAI_LOG_LEVEL": "WARNING"}, workers)
        started.append(receiver)
        receiver.wait_ready()
        return receiver

    yield start
    for receiver in started:
        receiver.stop()


def read_all(conn: socket.socket) -> bytes:
    chunks = []
    try:
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    conn.close()
    return b"".join(chunks)


def test_the_receiver_told_to_stop_answers_the_webhooks_in_flight_and_takes_no_new_ones(
    start_receiver: Callable[[int], ServeProcess], redis_client: redis.Redis
) -> None:
    receiver = start_receiver(2)
    in_flight = [receiver.begin_webhook(conversation) for conversation in (4501, 4502)]

    receiver.process.send_signal(signal.SIGTERM)
    # gunicorn's master closes its listener at once; the workers still hold theirs until
    # they exit, so a late connection may be taken by the kernel but is never served.
    try:
        late = socket.create_connection(("127.0.0.1", receiver.port), timeout=30)
        late.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    except ConnectionRefusedError:
        late = None
    for conn, body in in_flight:
        conn.sendall(body)
    answers = [read_all(conn) for conn, _ in in_flight]

    assert receiver.process.wait(timeout=DRAIN_BOUND_SECONDS) == 0
    for answer in answers:
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        assert b'"outcome":"queued"' in answer.replace(b" ", b"")
    assert queued_messages(redis_client, "retail") == 2
    if late is not None:
        assert read_all(late) == b"", "a connection made after SIGTERM was served"
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", receiver.port), timeout=5).close()

"""`chatwootai flower` next to a real worker: it sees the worker and its tasks, ids only."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from hub.chatwoot.client import MAX_ATTEMPTS
from hub.cli import main
from tests.conftest import ROOT
from tests.e2e.conftest import WorkerProcess, message_created, post_signed
from tests.fakes.chatwoot import FakeChatwoot

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CREDENTIALS = "admin:flower-secret"
QUESTION = "Qual o horário de funcionamento das lojas?"
CUSTOMER_DETAILS = ("horário", "funcionamento", "Maria", "Silva", "+5541999990000")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FlowerProcess:
    """`python -m hub flower` as a child process, with its output captured."""

    def __init__(self, env: dict[str, str], port: int) -> None:
        self.port = port
        self.output: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hub", "flower", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)

    def get(self, path: str, credentials: str | None = CREDENTIALS) -> tuple[int, Any]:
        """GET `path`; the JSON body when there is one, else the text."""
        headers = {}
        if credentials is not None:
            headers["Authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read().decode()
        finally:
            conn.close()
        try:
            return response.status, json.loads(body)
        except ValueError:
            return response.status, body

    def wait_until(self, what: str, check: Callable[[], bool], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if check():
                    return
            except OSError:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"Flower: {what} not seen:\n" + "".join(self.output[-40:]))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def watched_worker(
    service_env: dict[str, str], start_worker: Callable[..., WorkerProcess]
) -> Iterator[tuple[FlowerProcess, WorkerProcess]]:
    """A retail worker and a Flower on the same broker, once Flower has switched events on."""
    worker = start_worker("--domains", "retail")
    flower = FlowerProcess(
        {**service_env, "CHATWOOTAI_FLOWER_BASIC_AUTH": CREDENTIALS}, free_port()
    )
    try:
        flower.wait_until("its health check", lambda: flower.get("/healthcheck", None)[0] == 200)
        # Task events are off by default; Flower's enable_events broadcast turns them on.
        flower.wait_until(
            "the worker enabling task events",
            lambda: any("enabled by remote" in line for line in worker.output),
        )
        yield flower, worker
    finally:
        flower.stop()


def flower_task(flower: FlowerProcess, task_id: str) -> dict[str, Any]:
    status, tasks = flower.get("/api/tasks")
    assert status == 200, tasks
    task: dict[str, Any] = tasks.get(task_id) or {}
    return task


def test_flower_shows_the_domain_worker_and_its_task_without_customer_text(
    watched_worker: tuple[FlowerProcess, WorkerProcess],
    receiver_client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
) -> None:
    flower, _worker = watched_worker
    status, workers = flower.get("/api/workers?refresh=1")
    assert status == 200
    names = list(workers)
    assert any(name.startswith("chatwootai-retail@") for name in names), names

    response = post_signed(receiver_client, message_created("retail", 6100, 61001, QUESTION))
    assert response.json["outcome"] == "queued"
    task_id = response.json["task_id"]
    fake_chatwoot.wait_for(lambda: fake_chatwoot.messages(6100), timeout=30)
    flower.wait_until(
        "the task succeeding", lambda: flower_task(flower, task_id).get("state") == "SUCCESS"
    )

    task = flower_task(flower, task_id)
    assert task["name"] == "chatwootai.claim_turn"  # retail shares a shard: its token
    assert task["worker"].startswith("chatwootai-retail@")
    assert task["args"] == "chatwootai.shard.5 for retail:account=3:conversation=6100:message=61001"
    assert task["kwargs"] == "{}"
    assert task["result"] == "'replied'"
    shown = json.dumps(flower.get("/api/tasks")[1], ensure_ascii=False)
    for detail in CUSTOMER_DETAILS:
        assert detail not in shown


def test_a_retried_task_still_shows_ids_only(
    watched_worker: tuple[FlowerProcess, WorkerProcess],
    receiver_client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
) -> None:
    flower, _worker = watched_worker
    # Every attempt of the first post fails: the client gives up and the task retries.
    fake_chatwoot.fail_next(MAX_ATTEMPTS, status=503, path="/messages")
    response = post_signed(receiver_client, message_created("retail", 6200, 62001, QUESTION))
    task_id = response.json["task_id"]
    fake_chatwoot.wait_for(lambda: fake_chatwoot.messages(6200), timeout=30)
    flower.wait_until(
        "the retried task succeeding",
        lambda: flower_task(flower, task_id).get("state") == "SUCCESS",
    )
    task = flower_task(flower, task_id)
    assert task["retries"] == 1
    assert task["args"] == "chatwootai.shard.5 for retail:account=3:conversation=6200:message=62001"
    shown = json.dumps(flower.get("/api/tasks")[1], ensure_ascii=False)
    for detail in CUSTOMER_DETAILS:
        assert detail not in shown


def test_flower_refuses_requests_without_the_password(
    watched_worker: tuple[FlowerProcess, WorkerProcess],
) -> None:
    flower, _worker = watched_worker
    assert flower.get("/api/workers", credentials=None)[0] == 401
    assert flower.get("/api/tasks", credentials=None)[0] == 401
    assert flower.get("/", credentials=None)[0] == 401
    assert flower.get("/api/tasks", credentials="admin:wrong")[0] == 401
    assert flower.get("/api/tasks")[0] == 200


def test_flower_will_not_listen_beyond_loopback_without_a_password() -> None:
    result = CliRunner().invoke(main, ["flower", "--address", "0.0.0.0"])
    assert result.exit_code == 1
    assert "CHATWOOTAI_FLOWER_BASIC_AUTH" in result.output

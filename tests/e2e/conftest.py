"""End-to-end fixtures: a real Celery worker process, the receiver, fake Chatwoot."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient

from hub.chatwoot.signature import sign
from hub.domains.registry import DomainRegistry
from hub.queue import create_celery
from hub.settings import Settings
from hub.web import Receiver, create_app
from tests.conftest import ROOT, SAMPLE_DOMAINS, TEST_REDIS_URL, child_env
from tests.fakes.chatwoot import FakeChatwoot

SECRET = "segredo-do-webhook"
TOKENS = {"cosmetics": "token-bela-pele", "health": "token-vida-plena", "retail": "token-casa"}
ACCOUNTS = {"cosmetics": (1, 11), "health": (2, 21), "retail": (3, 31)}


class WorkerProcess:
    """`python -m hub worker` as a child process, with its output captured."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.output: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hub", "worker", *args],
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

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(" ready." in line for line in self.output):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError("worker did not start:\n" + "".join(self.output[-40:]))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def service_env(
    tmp_path: Path, redis_client: redis.Redis, fake_chatwoot: FakeChatwoot
) -> dict[str, str]:
    """Environment shared by the worker process and the in-test receiver; the fake
    Chatwoot knows each sample domain's token as its account's bot token."""
    for domain, token in TOKENS.items():
        fake_chatwoot.bot_token(token, ACCOUNTS[domain][0])
    env = child_env()
    env.update(
        {
            "CHATWOOTAI_REDIS_URL": TEST_REDIS_URL,
            "CHATWOOTAI_CHATWOOT_URL": fake_chatwoot.url,
            "CHATWOOTAI_WEBHOOK_SECRET": SECRET,
            "CHATWOOTAI_DOMAINS_DIR": str(SAMPLE_DOMAINS),
            "CHATWOOTAI_DATA_DIR": str(tmp_path / "var"),
            "CHATWOOTAI_LOG_FORMAT": "json",
            # A fresh dense index costs each new worker seconds of CPU; hybrid search
            # is tested in-process (tests/integration/crews/test_tenant_isolation.py).
            "CHATWOOTAI_EMBEDDINGS": "none",
            # One message per test mostly: no burst wait (tests/e2e/test_conversations.py
            # sets its own window).
            "CHATWOOTAI_BURST_WINDOW_SECONDS": "0",
            "CHATWOOTAI_COSMETICS_TOKEN": TOKENS["cosmetics"],
            "CHATWOOTAI_HEALTH_TOKEN": TOKENS["health"],
            "CHATWOOTAI_RETAIL_TOKEN": TOKENS["retail"],
            "HOME": str(tmp_path / "home"),
        }
    )
    return env


@pytest.fixture
def start_worker(service_env: dict[str, str]) -> Iterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(*args: str, env: dict[str, str] | None = None, wait: bool = True) -> WorkerProcess:
        """A worker process, ready unless `wait` is False (then call `wait_ready()`:
        several workers start faster side by side)."""
        worker = WorkerProcess({**service_env, **(env or {})}, *args)
        started.append(worker)
        if wait:
            worker.wait_ready()
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def receiver_client(
    service_env: dict[str, str], redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> FlaskClient:
    """The real receiver app, in-process, on the same Redis and broker as the worker."""
    return receiver_for(service_env, redis_client, monkeypatch)


def receiver_for(
    service_env: dict[str, str], redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> FlaskClient:
    """The receiver app built from `service_env`'s settings, as `receiver_client`."""
    for name, value in service_env.items():
        if name.startswith("CHATWOOTAI_"):
            monkeypatch.setenv(name, value)
    settings = Settings()
    receiver = Receiver(
        settings,
        redis_client,
        DomainRegistry(settings.domains_dir),
        create_celery(settings),
    )
    return create_app({"RECEIVER": receiver, "TESTING": True}).test_client()


def message_created(
    domain: str,
    conversation_id: int,
    message_id: int,
    content: str,
    *,
    status: str = "pending",
    sender: dict[str, Any] | None = None,
    message_type: str = "incoming",
    private: bool = False,
) -> dict[str, Any]:
    """A `message_created` payload shaped like Chatwoot's."""
    account_id, inbox_id = ACCOUNTS[domain]
    contact = {
        "id": 500 + conversation_id,
        "name": "Maria Silva",
        "phone_number": "+5541999990000",
        "email": None,
        "identifier": None,
        "custom_attributes": {},
        "thumbnail": "",
    }
    return {
        "event": "message_created",
        "id": message_id,
        "content": content,
        "content_type": "text",
        "content_attributes": {},
        "message_type": message_type,
        "private": private,
        "created_at": "2026-11-26T14:00:00.000Z",
        "source_id": None,
        "sender": contact if sender is None else sender,
        "inbox": {"id": inbox_id, "name": "WhatsApp"},
        "account": {"id": account_id, "name": domain},
        "conversation": {
            "id": conversation_id,
            "inbox_id": inbox_id,
            "status": status,
            "channel": "Channel::Whatsapp",
            "labels": [],
            "custom_attributes": {},
            "additional_attributes": {},
            "priority": None,
            "meta": {"sender": contact, "assignee": None, "team": None},
            "messages": [
                {"id": message_id, "content": content, "message_type": 0, "private": private}
            ],
            "contact_inbox": {"source_id": "abc"},
            "timestamp": 1764165600,
            "created_at": 1764165600,
        },
    }


def post_signed(
    client: FlaskClient,
    payload: dict[str, Any],
    *,
    secret: str = SECRET,
    delivery: str | None = None,
    timestamp: int | None = None,
) -> Any:
    """POST the payload as Chatwoot 4.13+ does: raw body, signature and delivery id."""
    body = json.dumps(payload).encode()
    ts = str(timestamp if timestamp is not None else int(time.time()))
    return client.post(
        "/webhooks/chatwoot",
        data=body,
        content_type="application/json",
        headers={
            "X-Chatwoot-Signature": sign(secret, ts, body),
            "X-Chatwoot-Timestamp": ts,
            "X-Chatwoot-Delivery": delivery or str(uuid.uuid4()),
        },
    )

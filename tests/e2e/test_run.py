"""`chatwootai run` on embedded defaults: starts, answers, stops cleanly on SIGTERM,
and leaves nothing running however it ends."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLE_DOMAINS, child_env
from tests.e2e.conftest import message_created
from tests.fakes.chatwoot import FakeChatwoot
from tests.processes import HAS_PROC, needs_proc, processes_of, redis_servers, wait_until_none

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(port: int, path: str) -> tuple[int, dict[str, object]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    return response.status, json.loads(body) if body.startswith(b"{") else {}


def metrics_text(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/metrics")
        return conn.getresponse().read().decode()
    finally:
        conn.close()


def start_run(
    tmp_path: Path, port: int, chatwoot_url: str, console_port: int = 0
) -> subprocess.Popen[str]:
    """`chatwootai run` on the embedded defaults, data under `tmp_path / "var"`; the
    console on `console_port` (0: none)."""
    env = child_env()
    env.update(
        {
            "CHATWOOTAI_DATA_DIR": str(tmp_path / "var"),
            "CHATWOOTAI_DOMAINS_DIR": str(SAMPLE_DOMAINS),
            "CHATWOOTAI_CHATWOOT_URL": chatwoot_url,
            "CHATWOOTAI_RETAIL_TOKEN": "token-casa",
            "HOME": str(tmp_path / "home"),
        }
    )
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hub",
            "run",
            "--port",
            str(port),
            "--console-port",
            str(console_port),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, like a shell job
    )


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def wait_ready(process: subprocess.Popen[str], port: int) -> None:
    deadline = time.monotonic() + 90
    ready = False
    while time.monotonic() < deadline and process.poll() is None:
        try:
            status, _ = get(port, "/readyz")
            ready = status == 200
        except OSError:
            pass
        if ready:
            break
        time.sleep(0.3)
    assert ready, "the receiver never became ready"


@pytest.mark.parametrize("stop", ["SIGTERM to run", "Ctrl-C in its terminal"])
def test_run_serves_with_an_embedded_redis_and_stops_cleanly(
    stop: str, tmp_path: Path, data_dir: Path, fake_chatwoot: FakeChatwoot
) -> None:
    port, console_port = free_port(), free_port()
    fake_chatwoot.bot_token("token-casa", 3)
    process = start_run(tmp_path, port, fake_chatwoot.url, console_port)
    try:
        wait_ready(process, port)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        payload = message_created("retail", 8800, 88001, "Qual o horário de funcionamento?")
        conn.request(
            "POST",
            "/webhooks/chatwoot",
            body=json.dumps(payload),
            headers={"Content-Type": "application/json"},
        )
        response = conn.getresponse()
        answer = json.loads(response.read())
        conn.close()
        assert response.status == 200
        assert answer["outcome"] == "queued"
        fake_chatwoot.wait_for(lambda: fake_chatwoot.messages(), timeout=60)
        assert "22:00" in fake_chatwoot.messages()[0]["content"]
        # Two gunicorn processes, one count: whichever answers the scrape sums both.
        queued = 'chatwootai_messages_queued_total{domain="retail"} 1.0'
        assert all(queued in metrics_text(port) for _ in range(6))
        deadline = time.monotonic() + 90
        while not (_listening(console_port) and get(console_port, "/healthz")[0] == 200):
            assert time.monotonic() < deadline, "the console never answered"
            time.sleep(0.3)
    finally:
        if stop == "SIGTERM to run":
            process.send_signal(signal.SIGTERM)
        else:  # the terminal sends SIGINT to the whole foreground group
            os.killpg(process.pid, signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert f"http://127.0.0.1:{port}/webhooks/chatwoot" in output
    assert f"Console: http://127.0.0.1:{console_port}/" in output
    assert "unix://" in output  # the embedded Redis
    assert (tmp_path / "var" / "redis").is_dir()
    if HAS_PROC:  # nothing outlives run: its Redis stopped before it exited
        assert redis_servers(data_dir) == []
        assert processes_of(data_dir) == []


@needs_proc
def test_run_killed_outright_leaves_no_process_behind(
    tmp_path: Path, data_dir: Path, fake_chatwoot: FakeChatwoot
) -> None:
    port = free_port()
    process = start_run(tmp_path, port, fake_chatwoot.url)
    try:
        wait_ready(process, port)
        assert len(redis_servers(data_dir)) == 1
        # run, its Redis and that one's supervisor, the worker, gunicorn and its 2 workers
        assert len(processes_of(data_dir)) >= 7
    finally:
        process.kill()
        process.wait(timeout=30)
    try:
        assert wait_until_none(lambda: processes_of(data_dir), 60) == []
    finally:
        assert process.stdout is not None
        process.stdout.close()  # its children wrote to it too

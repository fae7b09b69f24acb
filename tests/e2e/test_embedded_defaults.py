"""A worker on the embedded defaults owns its Redis, and nothing of it outlives it.

`chatwootai run` is tested in test_run.py; the processes are found in /proc.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_DOMAINS, child_env
from tests.e2e.conftest import WorkerProcess
from tests.processes import needs_proc, processes_of, redis_servers, wait_until_none

pytestmark = [pytest.mark.integration, pytest.mark.slow, needs_proc]


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_worker_on_the_embedded_defaults_leaves_no_redis_server_when_it_stops(
    stop: signal.Signals, tmp_path: Path, data_dir: Path
) -> None:
    env = child_env()
    env.update(
        {
            "CHATWOOTAI_DATA_DIR": str(data_dir),
            "CHATWOOTAI_DOMAINS_DIR": str(SAMPLE_DOMAINS),
            "CHATWOOTAI_EMBEDDINGS": "none",
            "HOME": str(tmp_path / "home"),
        }
    )
    worker = WorkerProcess(env)
    try:
        worker.wait_ready()
        assert len(redis_servers(data_dir)) == 1
        worker.process.send_signal(stop)
        worker.process.wait(timeout=60)
    finally:
        worker.stop()
    if stop == signal.SIGTERM:  # a warm shutdown, then the exit handlers
        assert redis_servers(data_dir) == []
    assert wait_until_none(lambda: processes_of(data_dir), 30) == []

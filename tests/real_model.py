"""The real local model for the tests and the bench: llama-server on the cached GGUF.

`make real-model` (scripts/real_model.py) installs both into the user's cache
folder; `serving()` starts the server on a free port and stops it afterwards.
Real-model tests carry the `real_model` marker and are left out of a plain
`pytest` run (the model takes ~2 GB and both CPUs of a small machine); `.ci/run`
runs them on purpose, with CHATWOOTAI_TEST_REAL_MODEL=require so a missing build
fails instead of skipping.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "real_model.py"
MODEL = "openai/qwen2.5-coder-1.5b-instruct"
"""CHATWOOTAI_LLM for the real model (llama-server ignores the name, logs keep it)."""
TIMEOUT_SECONDS = 300.0
"""A call's timeout: a long prompt on a busy 2-core machine takes a minute or more."""
MAX_TOKENS = 400
"""A call's token cap in the tests and the bench: a reply of five sentences is ~150."""
START_SECONDS = 180.0
REQUIRE = os.environ.get("CHATWOOTAI_TEST_REAL_MODEL") == "require"


def script() -> ModuleType:
    """scripts/real_model.py as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("chatwootai_real_model", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def installed() -> bool:
    """Whether the model and llama-server are in the cache."""
    return bool(script().installed())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serving(log: Path | None = None) -> Iterator[str]:
    """llama-server on the cached model, on a free port: yields its `…/v1` base URL."""
    real = script()
    port = free_port()
    command = [
        str(real.server_path()),
        "-m",
        str(real.model_path()),
        *real.SERVER_ARGS,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    output = log.open("wb") if log is not None else subprocess.DEVNULL
    process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"llama-server exited with {process.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("llama-server did not load the model in time")
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if log is not None and hasattr(output, "close"):
            output.close()


def require_installed() -> None:
    """Skip (fail with CHATWOOTAI_TEST_REAL_MODEL=require) when the model is not installed."""
    if installed():
        return
    message = "the real model is not installed: run `make real-model`"
    if REQUIRE:
        pytest.fail(message)
    pytest.skip(message)

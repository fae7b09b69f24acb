"""Fixtures shared by every test: real services, isolated settings, sample domains.

Real-service fixtures skip when the service is down on a developer machine, and
fail when CHATWOOTAI_REQUIRE_SERVICES=1 (CI), so nothing silently goes untested.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from hypothesis import settings as hypothesis_settings

import hub  # noqa: F401  (sets CrewAI's no-network environment before any test imports it)
from hub.embedded_redis import stop_embedded_servers
from hub.logs import configure_logging
from hub.patches import install as install_patches
from hub.settings import Settings, get_settings
from tests.domain_tree import DomainTree
from tests.fakes.chatwoot import fake_chatwoot  # noqa: F401  (shared fixture)
from tests.fakes.openai_server import fake_openai  # noqa: F401  (shared fixture)
from tests.processes import kill_all, processes_of

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DOMAINS = ROOT / "domains"
hypothesis_settings.register_profile("ci", deadline=None, print_blob=True)
hypothesis_settings.load_profile("ci")

REQUIRE_SERVICES = os.environ.get("CHATWOOTAI_REQUIRE_SERVICES") == "1"
TEST_REDIS_URL = os.environ.get("CHATWOOTAI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TEST_PATCHES = os.environ.get("CHATWOOTAI_TEST_PATCHES")
"""`off`: the run's settings, in the test process and in every process a test starts,
say CHATWOOTAI_PATCHES=off (every dependency as shipped); unset, the default (on)."""


def child_env() -> dict[str, str]:
    """The environment of a process a test starts: this one's without the CHATWOOTAI_
    variables, but for the run's CHATWOOTAI_PATCHES."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATWOOTAI_")}
    if TEST_PATCHES:
        env["CHATWOOTAI_PATCHES"] = TEST_PATCHES
    return env


def service_missing(what: str, error: Exception) -> None:
    """Skip locally, fail in CI: a required service that is down is a broken build."""
    message = f"{what} is not reachable: {error}"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} (CHATWOOTAI_REQUIRE_SERVICES=1)")
    pytest.skip(message)


@pytest.fixture(autouse=True, scope="session")
def _readable_logs() -> None:
    """Tests log like a terminal session (and never render megabytes of locals)."""
    configure_logging(Settings(log_format="console", log_level="WARNING"))


@pytest.fixture(autouse=True, scope="session")
def _dependency_patches() -> None:
    """The run's dependency patches, decided once at the start as a process decides them:
    on, or off with CHATWOOTAI_TEST_PATCHES=off (a test about one patch installs or
    removes it for its own duration, `tests.patch_kit`)."""
    install_patches(Settings(patches="off" if TEST_PATCHES == "off" else "on"))


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Each test sees only its own CHATWOOTAI_ variables and a private data dir."""
    for name in list(os.environ):
        keep = name.startswith("CHATWOOTAI_TEST_") or name == "CHATWOOTAI_REQUIRE_SERVICES"
        if name.startswith("CHATWOOTAI_") and not keep:
            monkeypatch.delenv(name)
    monkeypatch.setenv("CHATWOOTAI_DATA_DIR", str(tmp_path / "var"))
    # Dense embeddings cost seconds of CPU per fresh index; tests that are about them
    # (and the tenant-isolation test, in production's hybrid mode) ask for them.
    monkeypatch.setenv("CHATWOOTAI_EMBEDDINGS", "none")
    monkeypatch.setenv("CHATWOOTAI_DOMAINS_DIR", str(SAMPLE_DOMAINS))
    if TEST_PATCHES:
        monkeypatch.setenv("CHATWOOTAI_PATCHES", TEST_PATCHES)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    stop_embedded_servers()  # any this test started in-process, on its data dir


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    """The test's CHATWOOTAI_DATA_DIR. Whatever still runs on it when the test ends,
    passed or failed (a command, its children, an embedded redis-server), is killed."""
    folder = tmp_path / "var"
    yield folder
    kill_all(processes_of(folder))


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    """A real Redis on an empty database, flushed before and after the test."""
    client = redis.Redis.from_url(TEST_REDIS_URL, decode_responses=True, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as error:
        service_missing(f"Redis at {TEST_REDIS_URL}", error)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def sample_domains(tmp_path: Path) -> Path:
    """A private copy of the shipped domains, free to edit."""
    target = tmp_path / "domains"
    shutil.copytree(SAMPLE_DOMAINS, target)
    return target


@pytest.fixture
def tree(tmp_path: Path) -> DomainTree:
    """An empty domain tree; call `.minimal()` for a valid starting point."""
    root = tmp_path / "domains"
    root.mkdir()
    return DomainTree(root)

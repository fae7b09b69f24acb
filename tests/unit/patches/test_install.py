"""The one install of every dependency patch: decided once and logged in one line, off as
a whole with CHATWOOTAI_PATCHES=off, and off for a package that is not the release a
patch was read from."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from hub.patches import PATCHES, Patch, Plan, install
from hub.patches.patch import PYTHON, installed_version
from hub.settings import Settings, get_settings
from tests.conftest import ROOT, child_env
from tests.patch_kit import removed


def pins() -> dict[str, str]:
    lines = (ROOT / "requirements.lock").read_text().splitlines()
    return dict(line.split("==", 1) for line in lines if "==" in line)


def test_every_patch_is_written_for_the_release_the_lock_file_pins() -> None:
    pinned = pins()
    for patch in PATCHES:
        if patch.package != PYTHON:
            assert pinned[patch.package] == patch.version, patch.name
        assert patch.applies(), patch.name


@pytest.mark.parametrize("patch", PATCHES, ids=lambda patch: patch.name)
def test_a_patch_for_another_release_of_its_package_stays_off_with_a_warning(
    patch: Patch,
) -> None:
    with removed(patch):
        plan = Plan.of([patch], enabled=True, versions={patch.package: "0.0.1"})
        with capture_logs() as logs:
            plan.log()
        plan.install()
        assert not patch.installed
    assert plan.on == ()
    (line,) = logs
    assert line["log_level"] == "warning"
    assert line["on"] == []
    why = line["off"][patch.name]
    assert f"{patch.package} 0.0.1 is installed" in why
    assert f"{patch.package} {patch.version}" in why
    assert "runs as shipped" in why


def test_with_the_patches_on_every_patch_written_for_its_installed_release_is_on() -> None:
    plan = Plan.of(PATCHES, enabled=True)
    assert plan.on == PATCHES
    assert plan.off == {}
    with capture_logs() as logs:
        plan.log()
    assert logs == [
        {
            "event": "dependency patches",
            "log_level": "info",
            "on": [patch.name for patch in PATCHES],
            "off": {},
        }
    ]


def test_with_the_patches_off_every_patch_is_off_and_the_line_says_why() -> None:
    plan = Plan.of(PATCHES, enabled=False)
    assert plan.on == ()
    with capture_logs() as logs:
        plan.log()
    (line,) = logs
    assert line["log_level"] == "info"
    assert line["off"] == {patch.name: "CHATWOOTAI_PATCHES=off" for patch in PATCHES}


def test_a_patch_is_installed_once_when_its_module_is_imported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    patch = Patch(
        "tests.waiting",
        package=PYTHON,
        version=installed_version(PYTHON),
        module="tests_module_nobody_imports",
        summary="counts its installs",
        install=lambda: calls.append("installed"),
    )
    plan = Plan.of([patch], enabled=True)
    plan.install()
    assert calls == [] and not patch.installed  # a process never imports a library for it
    monkeypatch.setitem(sys.modules, "tests_module_nobody_imports", types.ModuleType("m"))
    plan.install()
    plan.install()
    assert calls == ["installed"] and patch.installed


def test_the_first_install_decides_for_the_whole_process() -> None:
    first = install(get_settings())
    assert install(get_settings()) is first
    assert install(Settings(patches="off" if first.on else "on")) is first


SCRIPT = """
import gc, http.client, json, sys
from hub.logs import configure_logging
from hub.settings import get_settings
settings = get_settings()
configure_logging(settings)
from hub.queue import create_celery
from hub.chatwoot.client import ChatwootClient
create_celery(settings)
ChatwootClient(None)
crewai_before_its_set_up = "crewai" in sys.modules
from hub.crews.runtime import prepare_crewai
prepare_crewai(settings)
from hub.patches import PATCHES
from hub.patches.gc import freeze_heap
freeze_heap()
from crewai.tools import structured_tool
from crewai_core import lock_store
from kombu.transport import redis as kombu_redis
print(json.dumps({
    "installed": [patch.name for patch in PATCHES if patch.installed],
    "crewai_before_its_set_up": crewai_before_its_set_up,
    "parse_headers": http.client.parse_headers.__module__,
    "conn_or_acquire": kombu_redis.Channel.conn_or_acquire.__module__,
    "prompt_cache": hasattr(structured_tool.format_description_for_llm, "cache_info"),
    "lock_backend": lock_store._backend is not None,
    "frozen": gc.get_freeze_count() > 0,
}))
"""


def run_process(tmp_path: Path, patches: str) -> tuple[dict[str, object], list[dict[str, object]]]:
    """What a process that sets up Celery, the Chatwoot client and CrewAI has installed,
    and its log lines about patches."""
    env = child_env()
    env.update(
        {
            "CHATWOOTAI_PATCHES": patches,
            "CHATWOOTAI_DATA_DIR": str(tmp_path / "var"),
            "CHATWOOTAI_LOG_FORMAT": "json",
            "HOME": str(tmp_path / "home"),
        }
    )
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    said = [line for line in lines if line.get("event") == "dependency patches"]
    return json.loads(done.stdout.splitlines()[-1]), said


@pytest.mark.slow
def test_a_process_with_the_patches_on_installs_every_one_and_says_so_once(
    tmp_path: Path,
) -> None:
    state, said = run_process(tmp_path, "on")
    names = [patch.name for patch in PATCHES]
    assert state == {
        "installed": names,
        "crewai_before_its_set_up": False,
        "parse_headers": "hub.patches.http_client",
        "conn_or_acquire": "hub.patches.kombu",
        "prompt_cache": True,
        "lock_backend": True,
        "frozen": True,
    }
    (line,) = said
    assert (line["level"], line["on"], line["off"]) == ("info", names, {})


@pytest.mark.slow
def test_a_process_with_the_patches_off_runs_every_dependency_as_shipped(
    tmp_path: Path,
) -> None:
    state, said = run_process(tmp_path, "off")
    assert state == {
        "installed": [],
        "crewai_before_its_set_up": False,
        "parse_headers": "http.client",
        "conn_or_acquire": "kombu.transport.redis",
        "prompt_cache": False,
        "lock_backend": False,
        "frozen": False,
    }
    (line,) = said
    assert line["on"] == []
    assert line["off"] == {patch.name: "CHATWOOTAI_PATCHES=off" for patch in PATCHES}

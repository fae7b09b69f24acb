"""`chatwootai chat`: the production HubCrew in a terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def chat(tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATWOOTAI_")}
    env.update({"CHATWOOTAI_DATA_DIR": str(tmp_path), "HOME": str(tmp_path / "home")})
    return subprocess.run(
        [sys.executable, "-m", "hub", "chat", *args],
        env=env,
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_one_turn_prints_the_real_opening_hours_and_exits_zero(tmp_path: Path) -> None:
    result = chat(tmp_path, "--domain", "retail", "--message", "Qual o horário de funcionamento?")
    assert result.returncode == 0, result.stderr
    assert "10:00" in result.stdout and "22:00" in result.stdout
    assert "14:00" in result.stdout  # Sundays and holidays


def test_an_interactive_session_answers_each_line_until_end_of_input(tmp_path: Path) -> None:
    result = chat(
        tmp_path,
        "--domain",
        "health",
        "--show-route",
        stdin="Vocês aceitam Hapvida?\nQual o endereço?\n",
    )
    assert result.returncode == 0, result.stderr
    assert "Hapvida" in result.stdout
    assert "Afonso Pena" in result.stdout
    assert "[rota:" in result.stderr


def test_an_unknown_domain_fails_with_the_known_ones(tmp_path: Path) -> None:
    result = chat(tmp_path, "--domain", "padaria", "--message", "oi")
    assert result.returncode == 1
    assert "no domain 'padaria'" in result.stderr

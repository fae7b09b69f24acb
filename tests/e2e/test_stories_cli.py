"""`chatwootai test`: the real command, as a developer or CI runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, child_env

pytestmark = pytest.mark.slow


def chatwootai_test(
    tmp_path: Path, *args: str, domains: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = child_env()
    env.update({"CHATWOOTAI_DATA_DIR": str(tmp_path / "var"), "HOME": str(tmp_path / "home")})
    if domains is not None:
        env["CHATWOOTAI_DOMAINS_DIR"] = str(domains)
    return subprocess.run(
        [sys.executable, "-m", "hub", "test", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_retail_stories_pass_offline_without_touching_the_configured_database(
    tmp_path: Path,
) -> None:
    result = chatwootai_test(tmp_path, "retail")  # the contract's form: `chatwootai test [ID...]`
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS  retail  vendas.yaml:11  parcelamento no cartão" in result.stdout
    assert "FAIL" not in result.stdout
    assert "model offline · database throwaway SQLite" in result.stdout
    assert not (tmp_path / "var" / "chatwootai.sqlite3").exists()


def test_a_story_expecting_something_false_fails_and_says_what(
    tmp_path: Path, sample_domains: Path
) -> None:
    stories = sample_domains / "retail" / "tests" / "vendas.yaml"
    text = stories.read_text(encoding="utf-8")
    stories.write_text(
        text.replace('reply_contains: ["10"]', 'reply_contains: ["10", "24 vezes sem juros"]'),
        encoding="utf-8",
    )

    result = chatwootai_test(
        tmp_path, "--domain", "retail", "--story", "parcelamento", domains=sample_domains
    )

    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL  retail  vendas.yaml:11  parcelamento no cartão" in result.stdout
    assert "✗ reply: expected to contain '24 vezes sem juros'" in result.stdout
    assert "reply: " in result.stdout  # what the bot did say
    assert "1 story: 0 passed, 1 failed" in result.stdout


def test_an_unknown_domain_is_a_configuration_error(tmp_path: Path) -> None:
    result = chatwootai_test(tmp_path, "--domain", "padaria")
    assert result.returncode == 2
    assert "no domain 'padaria'" in result.stderr

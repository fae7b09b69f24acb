"""The `chatwootai` command: domains list, show and validate; what serve says at start."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from hub.cli import main
from tests.conftest import ROOT, SAMPLE_DOMAINS


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_validate_accepts_the_shipped_domains() -> None:
    code, out, err = run("domains", "validate", str(SAMPLE_DOMAINS))
    assert code == 0, err
    assert "4 domain(s) valid: cosmetics, default, health, retail" in out


def test_validate_reads_the_configured_folder_when_none_is_given() -> None:
    code, out, _ = run("domains", "validate")
    assert code == 0
    assert "valid" in out


def test_validate_names_file_line_and_key_of_every_error(sample_domains: Path) -> None:
    sales = sample_domains / "cosmetics/crews/sales.yaml"
    text = sales.read_text(encoding="utf-8")
    sales.write_text(text.replace("    role:", "    rol:", 1), encoding="utf-8")
    support = sample_domains / "retail/crews/support.yaml"
    support_text = support.read_text(encoding="utf-8")
    agent_line = next(line for line in support_text.splitlines() if line.startswith("    agent:"))
    support.write_text(support_text.replace(agent_line, "    agent: ninguem"), encoding="utf-8")
    default = sample_domains / "default/domain.yaml"
    default.write_text(
        default.read_text(encoding="utf-8").replace("extends: _base", "extends: health"),
        encoding="utf-8",
    )
    health = sample_domains / "health/domain.yaml"
    health.write_text(
        health.read_text(encoding="utf-8").replace("extends: _base", "extends: default"),
        encoding="utf-8",
    )

    code, _, err = run("domains", "validate", str(sample_domains))

    assert code == 1
    lines = err.splitlines()

    def line_of(path: Path, pattern: str) -> int:
        source = path.read_text(encoding="utf-8").splitlines()
        return next(i for i, line in enumerate(source, 1) if re.search(pattern, line))

    assert f"{sales}:{line_of(sales, r'^    rol:')}: crews.sales.agents." in "\n".join(lines)
    assert any("unknown key 'rol'; did you mean 'role'?" in line for line in lines)
    agent_errors = [line for line in lines if "no agent named 'ninguem'" in line]
    assert agent_errors and agent_errors[0].startswith(
        f"{support}:{line_of(support, 'agent: ninguem')}: crews.support.tasks."
    )
    for path in (default, health):
        cycle = f"{path}:{line_of(path, '^extends:')}: extends: inheritance cycle:"
        assert any(line.startswith(cycle) for line in lines), lines
    assert "invalid: cosmetics, default, health, retail" in lines[-1]


SAMPLE_TOKENS = {
    "CHATWOOTAI_COSMETICS_TOKEN": "token-bela-pele",
    "CHATWOOTAI_HEALTH_TOKEN": "token-vida-plena",
    "CHATWOOTAI_RETAIL_TOKEN": "token-casa",
    "CHATWOOTAI_CHATWOOT_TOKEN": "token-geral",
}


def set_tokens(monkeypatch: pytest.MonkeyPatch, tokens: dict[str, str]) -> None:
    for name, value in tokens.items():
        monkeypatch.setenv(name, value)


def test_validate_warns_about_a_label_the_offline_model_would_not_read(
    sample_domains: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_tokens(monkeypatch, SAMPLE_TOKENS)  # every account can be answered: no token warning
    support = sample_domains / "retail/crews/support.yaml"
    text = support.read_text(encoding="utf-8")
    support.write_text(
        text.replace(
            "      Mensagem do cliente:\n      {message}", "      Pergunta:\n      {message}"
        ),
        encoding="utf-8",
    )
    message_line = 1 + next(
        i
        for i, line in enumerate(support.read_text(encoding="utf-8").splitlines())
        if line.strip() == "{message}"
    )

    code, out, err = run("domains", "validate", str(sample_domains))

    assert code == 0, err
    assert "4 domain(s) valid: cosmetics, default, health, retail; 2 warning(s)" in out
    history, message = err.splitlines()  # in file order: {history} is above {message}
    assert message.startswith(
        f"warning: {support}:{message_line}: crews.support.tasks.responder.description: "
        "the offline model reads the customer's message after a label, and '{message}' has none"
    )
    assert "Mensagem do cliente:" in message  # what it would read
    assert history.startswith(f"warning: {support}:")
    assert "reads the history up to the message label" in history


def test_validate_exits_1_on_a_folder_that_does_not_exist(tmp_path: Path) -> None:
    code, _, err = run("domains", "validate", str(tmp_path / "nope"))
    assert code == 1
    assert "domains folder does not exist" in err


def test_list_shows_each_domain_with_its_chatwoot_mapping() -> None:
    code, out, _ = run("domains", "list")
    assert code == 0
    rows = {line.split()[0]: line for line in out.splitlines()[1:] if line.strip()}
    assert re.search(r"\b1\s+11,12\b", rows["cosmetics"])
    assert re.search(r"\b2\s+21\b", rows["health"])
    assert re.search(r"\b3\s+31,32\b", rows["retail"])
    assert set(rows) == {"cosmetics", "default", "health", "retail"}


def test_list_marks_an_invalid_domain(sample_domains: Path) -> None:
    shutil.rmtree(sample_domains / "retail/crews")
    (sample_domains / "retail/domain.yaml").write_text(
        (sample_domains / "retail/domain.yaml").read_text(encoding="utf-8") + "\nbogus: 1\n",
        encoding="utf-8",
    )
    code, out, _ = run("domains", "list", "--dir", str(sample_domains))
    assert code == 0
    assert re.search(r"^retail\s.*INVALID \(not served\)", out, re.MULTILINE)


def test_show_prints_the_merged_configuration_with_inherited_keys() -> None:
    code, out, _ = run("domains", "show", "retail")
    assert code == 0
    assert out.startswith("# retail: retail → _base")
    assert "account_id: 3" in out
    assert "hub:" in out  # the hub crew comes from _base
    assert "burst_window_seconds:" in out


def test_show_of_an_unknown_domain_fails_with_the_known_ones() -> None:
    code, _, err = run("domains", "show", "bakery")
    assert code == 1
    assert "no domain 'bakery'" in err and "cosmetics" in err


def test_the_installed_command_runs_and_bare_invocation_lists_the_groups() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "chatwootai"), "--help"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0
    assert "domains" in result.stdout


def test_validate_warns_that_a_switch_into_an_account_without_a_token_cannot_be_answered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    set_tokens(monkeypatch, {k: v for k, v in SAMPLE_TOKENS.items() if "HEALTH" not in k})
    monkeypatch.delenv("CHATWOOTAI_CHATWOOT_TOKEN")

    code, out, err = run("domains", "validate", str(SAMPLE_DOMAINS))

    assert code == 0, err  # a warning: tokens live in the environment, not in the YAML
    assert "2 warning(s)" in out
    health, default = sorted(err.splitlines(), key=lambda line: "health:" not in line)
    assert health.startswith(f"warning: {SAMPLE_DOMAINS / '_base/domain.yaml'}:")
    assert "switching.labels: health: account 2's conversations have no bot token" in health
    assert "'domain-cosmetics' → cosmetics" in health
    assert "set CHATWOOTAI_HEALTH_TOKEN or CHATWOOTAI_CHATWOOT_TOKEN" in health
    assert "default: conversations of accounts no domain maps have no bot token" in default


def test_validate_warns_when_domains_of_one_account_name_different_tokens(
    sample_domains: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (sample_domains / "vitrine").mkdir()  # after "retail" by id: retail's token wins
    (sample_domains / "vitrine/domain.yaml").write_text(
        "extends: _base\nname: Vitrine\nchatwoot:\n  account_id: 3\n  inbox_ids: [33]\n"
        "  token_env: CHATWOOTAI_VITRINE_TOKEN\n",
        encoding="utf-8",
    )
    set_tokens(monkeypatch, {**SAMPLE_TOKENS, "CHATWOOTAI_VITRINE_TOKEN": "outro-token"})

    code, _, err = run("domains", "validate", str(sample_domains))

    assert code == 0, err
    (warning,) = [line for line in err.splitlines() if "differs" in line]
    assert "vitrine/domain.yaml" in warning and "chatwoot.token_env" in warning
    assert "CHATWOOTAI_VITRINE_TOKEN differs from CHATWOOTAI_RETAIL_TOKEN ('retail')" in warning
    assert "every conversation of account 3 is answered with 'retail''s" in warning
    assert "outro-token" not in err  # never the secret itself


def serve_output(monkeypatch: pytest.MonkeyPatch) -> tuple[str, list[str]]:
    """What `chatwootai serve` prints before it becomes gunicorn, and gunicorn's argv."""
    started: list[str] = []

    def execv(path: str, argv: list[str]) -> None:
        started.extend(argv)

    monkeypatch.setattr("hub.cli.service.os.execv", execv)
    monkeypatch.setattr("hub.cli.service._metrics_dir", lambda _env: None)  # no env change
    result = CliRunner().invoke(main, ["serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    return result.stderr, started


def test_serve_warns_loudly_when_no_webhook_secret_is_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    err, started = serve_output(monkeypatch)
    assert "WARNING: webhook signatures are OFF" in err
    assert "local use only" in err.replace("\n", " ").lower()
    assert "127.0.0.1:8123" in started


def test_serve_says_nothing_of_signatures_once_a_secret_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHATWOOTAI_HEALTH_WEBHOOK_SECRET", "segredo")
    err, started = serve_output(monkeypatch)
    assert "signatures are OFF" not in err
    assert started

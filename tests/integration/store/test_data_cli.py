"""`chatwootai data migrate` and `chatwootai data seed` against a real database."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from hub.cli.data import data

pytestmark = pytest.mark.integration


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(data, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_migrate_then_seed_loads_the_samples_and_a_second_seed_changes_nothing(
    database_url: str,
) -> None:
    code, out, err = run("migrate", "--url", database_url)
    assert code == 0, err
    assert "revision 0006" in out
    code, out, err = run("seed", "--url", database_url)
    assert code == 0, err
    assert "retail       orders         4 new, 0 updated, 0 unchanged" in out
    assert "health       professionals  6 new" in out
    code, out, err = run("seed", "--url", database_url, "--domain", "cosmetics")
    assert code == 0, err
    assert out.strip() == "cosmetics    products       0 new, 0 updated, 8 unchanged"


def test_seeding_before_migrating_says_to_migrate(database_url: str) -> None:
    code, _, err = run("seed", "--url", database_url, "--domain", "retail")
    assert code == 1
    assert "chatwootai data migrate" in err


def test_seeding_an_unknown_domain_names_the_known_ones(database_url: str) -> None:
    code, _, err = run("seed", "--url", database_url, "--domain", "bakery")
    assert code == 1
    assert "no domain 'bakery'" in err


def test_without_a_url_the_embedded_sqlite_file_is_used() -> None:
    code, out, err = run("migrate")
    assert code == 0, err
    assert "chatwootai.sqlite3 is at revision 0006" in out

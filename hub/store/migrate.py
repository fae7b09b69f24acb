"""Run the store's Alembic migrations from code; no alembic.ini needed.

`upgrade(url)` is what `chatwootai data migrate` and the tests call. The
migrations run on one of our own engines (`create_engine`), so SQLite gets the
same connection set-up as the service.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import URL

from hub.domains.domain import Domain
from hub.store.database import create_engine, database_url

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
"""`env.py`, `script.py.mako` and `versions/`, shipped inside the package."""


def alembic_config(
    url: str | URL | None = None, accounts: Mapping[str, int] | None = None
) -> Config:
    """An Alembic configuration for `url` (default: the configured database).

    `accounts` (domain id → its Chatwoot account) is what a migration that adds an
    account to existing rows fills them with.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Kept out of the ini options: configparser would read a '%' in the URL.
    config.attributes["url"] = url or database_url()
    config.attributes["accounts"] = dict(accounts or {})
    return config


def domain_accounts(domains: Iterable[Domain]) -> dict[str, int]:
    """Domain id → its Chatwoot account, for the domains that name one."""
    return {
        domain.id: domain.spec.chatwoot.account_id
        for domain in domains
        if domain.spec.chatwoot.account_id is not None
    }


def upgrade(
    url: str | URL | None = None,
    revision: str = "head",
    *,
    accounts: Mapping[str, int] | None = None,
) -> None:
    """Bring the database at `url` to `revision` (all migrations by default).

    `accounts` maps domain ids to their Chatwoot account (`domain_accounts`): rows
    written before the schema carried an account get their domain's.
    """
    _run(url, lambda config: command.upgrade(config, revision), accounts)


def downgrade(url: str | URL | None, revision: str) -> None:
    """Take the database at `url` back to `revision` ("base" drops every table)."""
    _run(url, lambda config: command.downgrade(config, revision))


def current_revision(url: str | URL | None = None) -> str | None:
    """The revision the database is at, or None before the first migration."""
    engine = create_engine(url or database_url())
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def _run(
    url: str | URL | None,
    action: Callable[[Config], None],
    accounts: Mapping[str, int] | None = None,
) -> None:
    config = alembic_config(url, accounts)
    engine = create_engine(config.attributes["url"])
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            action(config)
    finally:
        engine.dispose()

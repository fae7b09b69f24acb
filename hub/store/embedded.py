"""The embedded default: a SQLite store that prepares itself before the first message.

With no `CHATWOOTAI_DATABASE_URL`, the store is a SQLite file under the data
dir that nobody else migrates or seeds. The worker and `chatwootai chat` both
call `prepare_embedded_store` at start, so a fresh `make run` or a first chat
already has a catalogue, orders and schedules to answer from. With a real
database, migrations and seeding stay explicit operator steps
(`chatwootai data migrate`, `chatwootai data seed`) and this does nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

import structlog
from sqlalchemy.engine import Engine

from hub.domains.domain import Domain
from hub.settings import Settings
from hub.store.database import database_url, session_scope
from hub.store.migrate import domain_accounts, upgrade
from hub.store.seed import seed

log = structlog.get_logger(__name__)


def is_embedded(settings: Settings) -> bool:
    """Whether the store is the embedded SQLite default (no database URL configured)."""
    return settings.database_url is None


def prepare_embedded_store(settings: Settings, domains: Iterable[Domain], engine: Engine) -> bool:
    """On the embedded default, migrate the schema and seed every domain; True when it did."""
    if not is_embedded(settings):
        return False
    prepared = migrate_and_seed(database_url(settings), engine, domains)
    log.info("embedded database ready", domains=prepared)
    return True


def migrate_and_seed(url: str, engine: Engine, domains: Iterable[Domain]) -> list[str]:
    """Bring the database at `url` to the latest schema and load the domains' seed data.

    `engine` must point at the same database. Both steps are idempotent (Alembic
    skips applied revisions, seeding upserts), so running them at every start is
    safe and cheap. Returns the ids of the domains seeded.
    """
    domains = list(domains)
    upgrade(url, accounts=domain_accounts(domains))
    seeded = []
    with session_scope(engine) as session:
        for domain in domains:
            seed(session, domain)
            seeded.append(domain.id)
    return sorted(seeded)

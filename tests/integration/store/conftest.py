"""Store fixtures: every test runs twice, on SQLite (a temporary file) and on
PostgreSQL (a fresh schema, dropped afterwards), both built by the migrations."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from hub.domains.registry import DomainRegistry
from hub.store.database import create_engine, session_scope
from hub.store.migrate import upgrade
from hub.store.seed import seed
from tests.conftest import SAMPLE_DOMAINS, service_missing

TEST_DATABASE_URL = os.environ.get(
    "CHATWOOTAI_TEST_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)
SEEDED_DOMAINS = ("cosmetics", "health", "retail")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a schema of its own on the test PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite3'}"
        return
    admin = sqlalchemy.create_engine(
        TEST_DATABASE_URL, poolclass=NullPool, connect_args={"connect_timeout": 5}
    )
    schema = f"test_store_{uuid.uuid4().hex[:12]}"
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except OperationalError as error:
        admin.dispose()
        service_missing(f"PostgreSQL at {TEST_DATABASE_URL}", error)
    url = make_url(TEST_DATABASE_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the migrated (empty) database."""
    upgrade(database_url)
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def registry() -> DomainRegistry:
    """The shipped sample domains."""
    return DomainRegistry(SAMPLE_DOMAINS, reload_interval=float("inf"), log_problems=False)


@pytest.fixture
def seeded(engine: Engine, registry: DomainRegistry) -> Engine:
    """The migrated database with the cosmetics, health and retail samples loaded."""
    for domain_id in SEEDED_DOMAINS:
        with session_scope(engine) as session:
            seed(session, registry.get(domain_id))
    return engine


@pytest.fixture
def clinic_tz(registry: DomainRegistry) -> ZoneInfo:
    """The clinic's time zone, as its domain declares it."""
    return ZoneInfo(registry.get("health").spec.timezone)


@pytest.fixture
def monday(clinic_tz: ZoneInfo) -> datetime:
    """Monday 2 March 2026, 09:00 at the clinic: "now" for scheduling tests."""
    return datetime(2026, 3, 2, 9, 0, tzinfo=clinic_tz)

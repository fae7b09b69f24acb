"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import pytest
import sqlalchemy
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine

from hub.store.database import create_engine
from hub.store.migrate import current_revision, downgrade, upgrade
from hub.store.models import Base

pytestmark = pytest.mark.integration


def test_the_migrated_schema_has_no_difference_from_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        tables = set(sqlalchemy.inspect(connection).get_table_names())
    assert tables == set(Base.metadata.tables) | {"alembic_version"}


def test_the_double_booking_index_is_unique_and_skips_cancelled_appointments(
    engine: Engine,
) -> None:
    with engine.connect() as connection:
        indexes = sqlalchemy.inspect(connection).get_indexes("appointments")
    index = next(ix for ix in indexes if ix["name"] == "uq_appointments_active_slot")
    assert index["unique"]
    assert index["column_names"] == ["domain", "professional_id", "starts_at"]
    where = index.get("dialect_options", {}).get(f"{engine.dialect.name}_where")
    assert "cancelled" in str(where)


def test_upgrading_twice_leaves_the_database_at_the_head(database_url: str) -> None:
    assert current_revision(database_url) is None
    upgrade(database_url)
    upgrade(database_url)
    assert current_revision(database_url) == "0003"


def test_downgrading_to_base_drops_every_table(database_url: str) -> None:
    upgrade(database_url)
    downgrade(database_url, "base")
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            assert set(sqlalchemy.inspect(connection).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
    assert current_revision(database_url) is None

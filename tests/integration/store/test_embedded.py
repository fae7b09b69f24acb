"""The embedded default prepares itself (schema and seed data); a configured database does not."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select

from hub.domains.registry import DomainRegistry
from hub.settings import Settings
from hub.store.database import create_engine, database_url, session_scope
from hub.store.embedded import prepare_embedded_store
from hub.store.models import Order, Product, Professional

pytestmark = pytest.mark.integration


def counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with session_scope(engine) as session:
            return {
                model.__tablename__: session.scalars(select(func.count()).select_from(model)).one()
                for model in (Product, Order, Professional)
            }
    finally:
        engine.dispose()


def test_the_embedded_store_is_migrated_and_seeded_and_preparing_it_again_changes_nothing(
    tmp_path: Path, registry: DomainRegistry
) -> None:
    settings = Settings(data_dir=tmp_path)
    url = database_url(settings)
    engine = create_engine(url)
    try:
        assert prepare_embedded_store(settings, registry.domains.values(), engine) is True
        first = counts(url)
        assert prepare_embedded_store(settings, registry.domains.values(), engine) is True
    finally:
        engine.dispose()
    assert first == {"products": 16, "orders": 4, "professionals": 6}
    assert counts(url) == first


def test_a_configured_database_is_left_to_the_operator(
    tmp_path: Path, registry: DomainRegistry
) -> None:
    url = f"sqlite:///{tmp_path / 'operated.sqlite3'}"
    engine = create_engine(url)
    try:
        settings = Settings(data_dir=tmp_path, database_url=url)
        assert prepare_embedded_store(settings, registry.domains.values(), engine) is False
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()

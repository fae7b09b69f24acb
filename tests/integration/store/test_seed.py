"""Seeding loads the sample domains' rows, and running it again changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy.engine import Engine

from hub.domains.registry import DomainRegistry
from hub.store.database import session_scope
from hub.store.models import Base, Product
from hub.store.products import product_by_sku
from hub.store.schedule import find_professional
from hub.store.seed import SeedCounts, seed

pytestmark = pytest.mark.integration


def snapshot(engine: Engine) -> dict[str, list[Any]]:
    """Every row of every table, in primary-key order."""
    with engine.connect() as connection:
        return {
            name: [
                tuple(row)
                for row in connection.execute(table.select().order_by(*table.primary_key))
            ]
            for name, table in Base.metadata.tables.items()
        }


def test_a_first_seed_creates_every_sample_row(engine: Engine, registry: DomainRegistry) -> None:
    reports = {}
    for domain_id in ("cosmetics", "health", "retail", "default"):
        with session_scope(engine) as session:
            reports[domain_id] = seed(session, registry.get(domain_id))
    assert reports["cosmetics"].products == SeedCounts(created=8)
    assert reports["retail"].products == SeedCounts(created=8)
    assert reports["retail"].orders == SeedCounts(created=4)
    assert reports["health"].professionals == SeedCounts(created=6)
    assert not reports["default"].changed
    rows = snapshot(engine)
    assert len(rows["availability"]) == 12  # 2 + 2 + 1 + 5 + 1 + 1 weekly windows


def test_seeding_twice_changes_nothing(seeded: Engine, registry: DomainRegistry) -> None:
    before = snapshot(seeded)
    reports = {}
    for domain_id in ("cosmetics", "health", "retail"):
        with session_scope(seeded) as session:
            reports[domain_id] = seed(session, registry.get(domain_id))
    assert not any(report.changed for report in reports.values())
    assert reports["health"].professionals == SeedCounts(unchanged=6)
    assert reports["retail"].orders == SeedCounts(unchanged=4)
    assert snapshot(seeded) == before


def test_an_edited_file_updates_its_rows_and_keeps_the_removed_ones(
    seeded: Engine, sample_domains: Path
) -> None:
    products = sample_domains / "cosmetics/data/products.yaml"
    text = products.read_text(encoding="utf-8").replace('price: "69.90"', 'price: "64.90"')
    start = text.index("  - sku: BP-008")
    products.write_text(text[:start], encoding="utf-8")
    people = sample_domains / "health/data/professionals.yaml"
    people.write_text(
        people.read_text(encoding="utf-8").replace('fri: ["08:00-12:00"]', 'fri: ["08:00-13:00"]'),
        encoding="utf-8",
    )
    edited = DomainRegistry(sample_domains, reload_interval=float("inf"), log_problems=False)
    with session_scope(seeded) as session:
        cosmetics = seed(session, edited.get("cosmetics"))
        health = seed(session, edited.get("health"))
    assert cosmetics.products == SeedCounts(updated=1, unchanged=6)
    assert health.professionals == SeedCounts(updated=1, unchanged=5)
    with session_scope(seeded) as session:
        sunscreen = product_by_sku(session, "cosmetics", "BP-002")
        assert sunscreen is not None and str(sunscreen.price) == "64.90"
        assert product_by_sku(session, "cosmetics", "BP-008") is not None
        carla = find_professional(session, "health", "Dra. Carla Mendes")
        windows = [(w.weekday, w.start_minute, w.end_minute) for w in carla.availability]
        assert windows == [(4, 8 * 60, 13 * 60)]


def test_the_search_words_follow_a_renamed_product(seeded: Engine) -> None:
    with session_scope(seeded) as session:
        product = product_by_sku(session, "cosmetics", "BP-007")
        assert product is not None
        product.name = "Colônia Flor de Laranjeira"
    with session_scope(seeded) as session:
        statement = sqlalchemy.select(Product.search_text).where(Product.sku == "BP-007")
        words = session.scalars(statement).one()
    assert " colonia " in words
    assert "perfume" not in words

"""The catalogue: the sample facts by SKU, and word search that ignores accents."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.engine import Engine

from hub.store.database import session_scope
from hub.store.products import product_by_sku, search_products

pytestmark = pytest.mark.integration


def skus(engine: Engine, domain: str, query: str) -> list[str]:
    with session_scope(engine) as session:
        return [product.sku for product in search_products(session, domain, query)]


def test_the_sunscreen_costs_69_90_with_120_in_stock(seeded: Engine) -> None:
    with session_scope(seeded) as session:
        product = product_by_sku(session, "cosmetics", "BP-002")
    assert product is not None
    assert product.name == "Protetor Solar Facial FPS 50 toque seco 50 g"
    assert product.price == Decimal("69.90")
    assert product.stock == 120


def test_the_mascara_is_out_of_stock_with_a_restock_note(seeded: Engine) -> None:
    with session_scope(seeded) as session:
        product = product_by_sku(session, "cosmetics", " bp-006 ")
    assert product is not None
    assert product.stock == 0
    assert product.restock_note == "Sem estoque; reposição prevista em 15 dias"


def test_an_unknown_sku_is_none(seeded: Engine) -> None:
    with session_scope(seeded) as session:
        assert product_by_sku(session, "cosmetics", "BP-999") is None


def test_search_ignores_accents_and_case(seeded: Engine) -> None:
    assert skus(seeded, "cosmetics", "MASCARA DE CILIOS")[0] == "BP-006"
    assert skus(seeded, "cosmetics", "óleo demaquilante")[0] == "BP-008"


def test_search_finds_plurals_and_categories(seeded: Engine) -> None:
    assert skus(seeded, "cosmetics", "protetores solares")[0] == "BP-002"
    assert set(skus(seeded, "cosmetics", "maquiagem")) == {"BP-005", "BP-006"}
    assert set(skus(seeded, "retail", "panelas")) == {"CC-101"}


def test_search_puts_the_product_matching_most_words_first(seeded: Engine) -> None:
    found = skus(seeded, "retail", "air fryer 220 v")
    assert found[0] == "CC-103"
    assert set(found) >= {"CC-102", "CC-103"}


def test_search_finds_a_sku_written_in_the_question(seeded: Engine) -> None:
    assert skus(seeded, "cosmetics", "quanto custa o bp-007?") == ["BP-007"]


def test_a_question_without_product_words_finds_nothing(seeded: Engine) -> None:
    assert skus(seeded, "cosmetics", "oi, tudo bem?") == []


def test_like_wildcards_in_the_query_are_plain_characters(seeded: Engine) -> None:
    assert skus(seeded, "retail", "100%") == ["CC-104"]
    assert skus(seeded, "retail", "%%") == []

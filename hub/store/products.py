"""The catalogue of one domain: search by words, look up by SKU.

Search runs on `Product.search_text`, the product's words folded (no accents,
lower case) and stemmed, refreshed whenever the ORM writes a product. The
listener below is registered when `hub.store` is imported, which any import of
`hub.store.models` does first. (Bulk `UPDATE` statements bypass it.)
"""

from __future__ import annotations

import re

from sqlalchemy import event, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapper, Session

from hub.knowledge.text import normalize, tokenize
from hub.store.models import Product

SEARCH_LIMIT = 10
"""Products a search returns at most: enough for a chat answer, never the catalogue."""

MIN_TERM_LENGTH = 2
"""Shorter terms ("g" of "50 g") would match nearly every product."""

_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*%?")


def search_text(*parts: str | None) -> str:
    """The words of `parts`, folded and also stemmed, space-delimited for prefix LIKEs."""
    folded = normalize(" ".join(part for part in parts if part))
    words = [*_WORD.findall(folded), *tokenize(folded)]
    return " " + " ".join(dict.fromkeys(words)) + " "


@event.listens_for(Product, "before_insert")
@event.listens_for(Product, "before_update")
def _refresh_search_text(_mapper: Mapper[Product], _connection: Connection, row: Product) -> None:
    row.search_text = search_text(row.sku, row.name, row.category, row.description)


def search_terms(query: str) -> list[str]:
    """The query's terms, as `tokenize` writes them: folded, stemmed, stopwords gone."""
    return [term for term in dict.fromkeys(tokenize(query)) if len(term) >= MIN_TERM_LENGTH]


def search_products(
    session: Session, domain: str, query: str, *, limit: int = SEARCH_LIMIT
) -> list[Product]:
    """The domain's products matching any term of `query`, most terms matched first.

    A term matches the start of a word of the SKU, name, category or description,
    accents and case aside ("mascara" finds "Máscara", "protetores" finds
    "Protetor"). Ties keep catalogue (SKU) order.
    """
    terms = search_terms(query)
    if not terms:
        return []
    matches = [Product.search_text.contains(f" {term}", autoescape=True) for term in terms]
    statement = select(Product).where(Product.domain == domain, or_(*matches))
    rows = session.scalars(statement.order_by(Product.sku)).all()

    def matched(product: Product) -> int:
        return sum(f" {term}" in product.search_text for term in terms)

    return sorted(rows, key=lambda product: -matched(product))[:limit]


def product_by_sku(session: Session, domain: str, sku: str) -> Product | None:
    """The domain's product with this SKU (case and surrounding spaces ignored), or None."""
    statement = select(Product).where(Product.domain == domain, Product.sku == sku.strip().upper())
    return session.scalars(statement).one_or_none()

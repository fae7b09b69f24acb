"""Business data of every domain: catalogue, orders, professionals and appointments.

`database` makes the engine and sessions (PostgreSQL, or embedded SQLite),
`models` the tables, `migrate` runs the Alembic migrations, `seed` loads a
domain's `data/*.yaml`. The noun modules read and write it, always for one
domain: `products`, `orders`, `schedule` (free slots), `appointments` (book,
cancel). Every function takes the domain id and filters every query by it.
"""

from __future__ import annotations

from hub.store.appointments import Cancellation, book, cancel, upcoming
from hub.store.database import create_engine, database_url, get_engine, session_scope
from hub.store.orders import ORDER_NUMBER_PATTERN, normalize_order_number, order_by_number
from hub.store.products import product_by_sku, search_products
from hub.store.schedule import Slot, find_professional, free_slots, professionals

__all__ = [
    "ORDER_NUMBER_PATTERN",
    "Cancellation",
    "Slot",
    "book",
    "cancel",
    "create_engine",
    "database_url",
    "find_professional",
    "free_slots",
    "get_engine",
    "normalize_order_number",
    "order_by_number",
    "product_by_sku",
    "professionals",
    "search_products",
    "session_scope",
    "upcoming",
]

"""The store's fixtures, for tools that read and write it: SQLite and PostgreSQL, migrated
and seeded (see `tests/integration/store/conftest.py`)."""

from tests.integration.store.conftest import (  # noqa: F401  (fixtures, found by name)
    clinic_tz,
    database_url,
    engine,
    monday,
    registry,
    seeded,
)

"""Alembic migrations of the store (see hub.store.migrate)."""

"""Alembic environment: our metadata, our engine set-up, our settings' URL.

`hub.store.migrate` passes an open connection (or a URL) in `config.attributes`;
run from the `alembic` command instead, the URL comes from the settings.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from hub.store.database import create_engine, database_url
from hub.store.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        # SQLite can alter little in place: later migrations copy tables in batches.
        render_as_batch=connection.dialect.name == "sqlite",
    )


def run_offline() -> None:
    """Print the SQL instead of running it (`alembic upgrade --sql`)."""
    url = config.attributes.get("url") or database_url()
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Run the migrations on the given connection, or on a new engine."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.attributes.get("url") or database_url())
    try:
        with engine.connect() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()

"""The database: an engine from the settings, and sessions as transactions.

`CHATWOOTAI_DATABASE_URL` (PostgreSQL in production) or, when unset, SQLite at
`{data_dir}/chatwootai.sqlite3`. SQLite connections are set up for a service
with many threads: WAL journal (readers never block the writer), foreign keys
on, a busy timeout, and every transaction opened with BEGIN IMMEDIATE, so two
writers queue on the busy timeout instead of failing with "database is locked"
when a reader tries to become a writer. A scope opened `read_only` begins a
deferred transaction instead: it never takes the write lock, so reads (the
conversation history of every message) do not queue behind writers.

`connection_scope` is the Core counterpart of `session_scope`, for the worker's
per-message reads and writes, where an ORM session costs more than the query.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.orm import Session

from hub import defaults
from hub.settings import Settings, get_settings

SQLITE_FILENAME = "chatwootai.sqlite3"
"""The embedded database's file name under `data_dir`."""

SQLITE_BUSY_TIMEOUT_SECONDS = 30.0
"""How long a SQLite writer waits for another one: far longer than any of our
transactions (milliseconds), short enough to surface a stuck process."""


def database_url(settings: Settings | None = None) -> str:
    """The configured URL, or the embedded SQLite file under the data dir."""
    settings = settings or get_settings()
    if settings.database_url:
        return settings.database_url
    path = (settings.data_dir / SQLITE_FILENAME).resolve()
    return f"sqlite:///{path}"


def create_engine(url: str | URL) -> Engine:
    """An engine for `url`, with the SQLite set-up described above when it is SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        # A server that does not answer costs a turn this much, not the OS's minutes.
        return sqlalchemy.create_engine(
            parsed,
            pool_pre_ping=True,
            connect_args={"connect_timeout": defaults.DATABASE_CONNECT_TIMEOUT_SECONDS},
        )
    if parsed.get_backend_name() != "sqlite":
        return sqlalchemy.create_engine(parsed, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sqlalchemy.create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(connection: sqlite3.Connection, _record: Any) -> None:
    # SQLAlchemy, not the sqlite3 module, decides when a transaction begins (see
    # "Transactions with SQLite" in SQLAlchemy's docs): SAVEPOINT then works too.
    connection.isolation_level = None
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_SECONDS * 1000)}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


READ_ONLY = "chatwootai_read_only"
"""Execution option of a connection that will only read (SQLite: a deferred BEGIN)."""


def _sqlite_begin(connection: Connection) -> None:
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


@lru_cache(maxsize=8)
def _engine_for(url: str) -> Engine:
    return create_engine(url)


def get_engine(settings: Settings | None = None) -> Engine:
    """The process-wide engine for the configured database (one pool per URL)."""
    return _engine_for(database_url(settings))


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session in one transaction: committed when the block ends, rolled back on error.

    Objects stay readable after the block (no expiry on commit), so a function
    may return rows it loaded.
    """
    with Session(engine or get_engine(), expire_on_commit=False) as session, session.begin():
        yield session


@contextmanager
def connection_scope(
    engine: Engine | None = None, *, read_only: bool = False
) -> Iterator[Connection]:
    """A Core connection in one transaction: committed when the block ends, rolled back
    on error. `read_only` on SQLite begins without taking the write lock."""
    with (engine or get_engine()).connect() as connection:
        if read_only:
            connection.execution_options(**{READ_ONLY: True})
        with connection.begin():
            yield connection

"""Transactions: writers queue on SQLite's write lock, readers never wait for it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from hub.store.conversations import TurnRecord, history, record_turn
from hub.store.database import connection_scope, create_engine
from hub.store.migrate import upgrade

pytestmark = pytest.mark.integration


def test_a_read_only_scope_reads_while_another_connection_holds_the_write_lock(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'locks.sqlite3'}"
    upgrade(url)
    engine = create_engine(url)
    record = TurnRecord("retail", 3, 7, 1, "Qual o horário?", "Das 10:00 às 22:00.")
    with connection_scope(engine) as connection:
        record_turn(connection, record)
    writing, done = threading.Event(), threading.Event()

    def writer() -> None:
        with connection_scope(engine) as connection:  # BEGIN IMMEDIATE: holds the lock
            connection.execute(text("UPDATE conversation_messages SET route = 'sales'"))
            writing.set()
            done.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert writing.wait(10)
        # A writer would queue here for the 30 s busy timeout; a reader goes straight on
        # and sees the last committed state.
        with connection_scope(engine, read_only=True) as connection:
            assert history(connection, "retail", 3, 7, turns=5) == [
                ("customer", "Qual o horário?"),
                ("bot", "Das 10:00 às 22:00."),
            ]
            assert connection.execute(text("SELECT route FROM conversation_messages")).all() == [
                (None,),
                (None,),
            ]
    finally:
        done.set()
        thread.join()
        engine.dispose()


def test_a_scope_that_fails_keeps_nothing_of_what_it_wrote(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rollback.sqlite3'}"
    upgrade(url)
    engine = create_engine(url)
    with pytest.raises(RuntimeError), connection_scope(engine) as connection:
        record_turn(connection, TurnRecord("retail", 3, 7, 1, "oi", "Olá!"))
        raise RuntimeError("the turn failed after the insert")
    with connection_scope(engine, read_only=True) as connection:
        assert history(connection, "retail", 3, 7, turns=5) == []
    engine.dispose()

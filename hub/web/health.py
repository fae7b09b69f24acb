"""Liveness and readiness: /healthz answers while the process lives, /readyz checks deps.

Readiness asks the database too (the workers cannot answer without it), but a
load balancer may poll /readyz every second on every receiver process: the
answer to `SELECT 1` is kept for `DATABASE_CHECK_TTL_SECONDS`, and each check is
bounded by `DATABASE_CHECK_TIMEOUT_SECONDS`. Webhooks never touch the database.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy
from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

DATABASE_CHECK_TTL_SECONDS = 1.5
"""How long one database check answers /readyz: a load balancer polling every
second costs one `SELECT 1` per receiver process every other poll at most."""

DATABASE_CHECK_TIMEOUT_SECONDS = 2
"""Connect and statement timeout of the check: a database that takes longer is
not ready, and /readyz must answer before the load balancer gives up on it."""

blueprint = Blueprint("health", __name__)


class DatabaseProbe:
    """Whether the database answers `SELECT 1`, asked at most once per `ttl` seconds.

    Its engine is built at the first check, with one pooled connection: a process
    that only takes webhooks never opens one.
    """

    def __init__(
        self,
        url: str,
        *,
        ttl: float = DATABASE_CHECK_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.ttl = ttl
        self.clock = clock
        self.checks = 0
        """How many times the database was actually asked (the rest came from the cache)."""
        self._engine: Engine | None = None
        self._lock = threading.Lock()
        self._checked_at: float | None = None
        self._problem: str | None = None

    def problem(self) -> str | None:
        """None when the database answered lately, else what went wrong."""
        with self._lock:
            now = self.clock()
            if self._checked_at is None or now - self._checked_at >= self.ttl:
                self._problem = self._check()
                self._checked_at = self.clock()
            return self._problem

    def _check(self) -> str | None:
        self.checks += 1
        shown = make_url(self.url).render_as_string(hide_password=True)
        for attempt in (1, 2):
            try:
                self._select_one()
                return None
            except DBAPIError as error:
                # A pooled connection the server closed meanwhile (a restart, an idle
                # timeout) is invalidated by SQLAlchemy: one retry on a fresh one.
                if attempt == 1 and error.connection_invalidated:
                    continue
                return f"{shown}: {_first_line(error)}"
            except SQLAlchemyError as error:
                return f"{shown}: {_first_line(error)}"
        return None  # pragma: no cover  (the loop always returns)

    def _select_one(self) -> None:
        if self._engine is None:
            self._engine = _probe_engine(self.url)
        with self._engine.connect() as connection:
            # exec_driver_sql on a plain connection: no ORM session, and on SQLite no
            # BEGIN IMMEDIATE (hub.store.database's writers' lock) is taken.
            connection.exec_driver_sql("SELECT 1").scalar()

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def _probe_engine(url: str) -> Engine:
    """A one-connection engine whose connect and query give up after the timeout."""
    parsed = make_url(url)
    timeout = DATABASE_CHECK_TIMEOUT_SECONDS
    if parsed.get_backend_name() == "sqlite":
        # The embedded store: its folder is made like hub.store.database makes it, so
        # "ready" does not depend on whether a worker or the receiver started first.
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        return sqlalchemy.create_engine(parsed, connect_args={"timeout": timeout})
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in (
        "psycopg2",
        "psycopg",
    ):
        # Added to what the URL says, never instead of it (e.g. its own search_path).
        query = {key: value for key, value in parsed.query.items() if isinstance(value, str)}
        options = " ".join(
            part
            for part in (query.get("options"), f"-c statement_timeout={timeout * 1000}")
            if part
        )
        connect_args = {
            "connect_timeout": int(query.get("connect_timeout") or timeout),
            "options": options,
            # A server that vanished without closing the socket: give up on unacked data.
            "tcp_user_timeout": int(query.get("tcp_user_timeout") or timeout * 1000),
        }
    return sqlalchemy.create_engine(
        parsed,
        pool_size=1,
        max_overflow=0,
        pool_timeout=timeout,
        connect_args=connect_args,
    )


def _first_line(error: SQLAlchemyError) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


@blueprint.get("/healthz")
def healthz() -> ResponseReturnValue:
    return jsonify(status="ok")


@blueprint.get("/readyz")
def readyz() -> ResponseReturnValue:
    """200 when Redis (broker and state) and the database answer and domains are loaded;
    else 503 naming what is down. `signatures` says whether webhooks must be signed
    (`off`: no secret configured, local use only); it never fails readiness."""
    receiver = current_app.config["RECEIVER"]
    problems = receiver.readiness_problems()
    signatures = receiver.signatures.mode
    if problems:
        return jsonify(status="unavailable", problems=problems, signatures=signatures), 503
    return jsonify(status="ok", domains=sorted(receiver.registry.domains), signatures=signatures)

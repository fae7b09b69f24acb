"""FakeOdoo: a local server speaking Odoo's external JSON-RPC API (`POST /jsonrpc`).

`common.login` / `common.authenticate` check the database, login and password
(a wrong one answers `false`, as Odoo does); `object.execute_kw` checks the uid
and password again (Odoo's AccessDenied error object otherwise) and runs
`search_read`, `search_count`, `read` and `create` on an in-memory table per
model (`product.product`, `sale.order`, `calendar.event`, `res.partner`), with Odoo's domain
syntax (prefix `|`/`&`, `=`, `!=`, `ilike`, `=ilike`, `<`, `>`, `<=`, `>=`, `in`).
An unknown model or method answers a JSON-RPC error object, as Odoo does.
It records every call and can answer slowly or fail with an HTTP status.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from tests.fakes.chatwoot import _QuietServer

PRODUCTS = [
    {
        "id": 1,
        "name": "Jogo de Panelas Antiaderente 5 peças",
        "default_code": "CC-101",
        "list_price": 459.9,
        "qty_available": 7.0,
    },
    {
        "id": 2,
        "name": "Air Fryer 4 L 127 V",
        "default_code": "CC-102",
        "list_price": 349.9,
        "qty_available": 0.0,
    },
]
ORDERS = [
    {
        "id": 42,
        "name": "S00042",
        "state": "sale",
        "date_order": "2026-11-20 13:00:00",
        "amount_total": 809.8,
        "commitment_date": "2026-11-29",
        "partner_id": [9, "Maria Silva"],
    },
    {
        "id": 43,
        "name": "S00043",
        "state": "cancel",
        "date_order": "2026-11-21 10:00:00",
        "amount_total": 59.9,
        "commitment_date": False,
        "partner_id": [10, "João Souza"],
    },
]
PARTNERS = [
    {"id": 9, "name": "Maria Silva", "phone": False, "mobile": "+55 11 98888-7777",
     "email": "maria@example.com"},
    {"id": 10, "name": "João Souza", "phone": "(11) 3333-4444", "mobile": False, "email": False},
]  # fmt: skip
"""The orders' customers: S00042 is Maria's (mobile, e-mail), S00043 João's (landline)."""


class FakeOdoo:
    """A threaded JSON-RPC server on 127.0.0.1; `url` is Odoo's base URL."""

    def __init__(
        self, database: str = "casa-e-cia", login: str = "bot@casa", password: str = "s3cret"
    ) -> None:
        self.database, self.login, self.password = database, login, password
        self.uid = 7
        self.tables: dict[str, list[dict[str, Any]]] = {
            "product.product": [dict(p) for p in PRODUCTS],
            "sale.order": [dict(o) for o in ORDERS],
            "calendar.event": [],
            "res.partner": [dict(p) for p in PARTNERS],
        }
        self.calls: list[dict[str, Any]] = []
        self.delay_seconds = 0.0
        self._failures: list[int] = []
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}"

    def fail_next(self, n: int, status: int = 502) -> None:
        with self._lock:
            self._failures.extend([status] * n)

    def calls_to(self, model: str) -> list[dict[str, Any]]:
        """The execute_kw calls made on one model, as recorded."""
        return [c for c in self.calls if c.get("model") == model]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # The protocol -----------------------------------------------------------------

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        params = body.get("params") or {}
        service, method, args = params.get("service"), params.get("method"), params.get("args")
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": body.get("id")}
        try:
            if service == "common" and method in ("login", "authenticate"):
                db, login, password = args[:3]
                self._record({"service": "common", "method": method, "login": login})
                ok = (db, login, password) == (self.database, self.login, self.password)
                reply["result"] = self.uid if ok else False
            elif service == "common" and method == "version":
                reply["result"] = {"server_version": "17.0", "protocol_version": 1}
            elif service == "object" and method == "execute_kw":
                reply["result"] = self._execute_kw(*args)
            else:
                raise _Fault("odoo.exceptions.UserError", f"unknown {service}.{method}")
        except _Fault as fault:
            reply["error"] = {
                "code": 200,
                "message": "Odoo Server Error",
                "data": {"name": fault.name, "message": fault.message, "debug": "Traceback…"},
            }
        return reply

    def _execute_kw(
        self,
        db: str,
        uid: int,
        password: str,
        model: str,
        method: str,
        args: list[Any],
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        kwargs = kwargs or {}
        self._record({"model": model, "method": method, "args": args, "kwargs": kwargs})
        if (db, uid, password) != (self.database, self.uid, self.password):
            raise _Fault("odoo.exceptions.AccessDenied", "Access Denied")
        table = self.tables.get(model)
        if table is None:
            raise _Fault("builtins.KeyError", f"'{model}'")
        if method in ("search_read", "search_count", "search"):
            domain = args[0] if args else kwargs.get("domain", [])
            rows = [row for row in table if _matches(row, list(domain))]
            if method == "search_count":
                return len(rows)
            if method == "search":
                return [row["id"] for row in rows]
            rows = rows[: kwargs.get("limit") or None]
            fields = kwargs.get("fields")
            return [
                {k: v for k, v in row.items() if not fields or k in fields or k == "id"}
                for row in rows
            ]
        if method == "create":
            values = args[0]
            row = {"id": len(table) + 1, **values}
            table.append(row)
            return row["id"]
        if method == "read":
            return [row for row in table if row["id"] in args[0]]
        raise _Fault(
            "builtins.AttributeError", f"type object '{model}' has no attribute '{method}'"
        )

    def _record(self, call: dict[str, Any]) -> None:
        with self._lock:
            self.calls.append(call)

    def _script(self) -> int | None:
        with self._lock:
            return self._failures.pop(0) if self._failures else None


class _Fault(Exception):
    def __init__(self, name: str, message: str) -> None:
        self.name, self.message = name, message


def _matches(row: dict[str, Any], domain: list[Any]) -> bool:
    """Odoo's prefix-notation domain on one row."""

    def evaluate(position: int) -> tuple[bool, int]:
        term = domain[position]
        if term in ("|", "&"):
            left, after = evaluate(position + 1)
            right, end = evaluate(after)
            return (left or right) if term == "|" else (left and right), end
        if term == "!":
            value, end = evaluate(position + 1)
            return not value, end
        field, operator, value = term
        return _compare(row.get(field), operator, value), position + 1

    position, result = 0, True
    while position < len(domain):  # implicit "&" between top-level terms
        value, position = evaluate(position)
        result = result and value
    return result


def _compare(actual: Any, operator: str, expected: Any) -> bool:
    if operator == "=":
        return bool(actual == expected)
    if operator == "!=":
        return bool(actual != expected)
    if operator == "ilike":
        return str(expected).lower() in str(actual or "").lower()
    if operator == "=ilike":
        return str(expected).lower() == str(actual or "").lower()
    if operator == "in":
        return actual in expected
    if actual is None or actual is False:
        return False
    return bool(
        {
            "<": actual < expected,
            ">": actual > expected,
            "<=": actual <= expected,
            ">=": actual >= expected,
        }[operator]
    )


def _handler_for(fake: FakeOdoo) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            raw = self.rfile.read(length)
            if fake.delay_seconds:
                time.sleep(fake.delay_seconds)
            status = fake._script()
            if self.path != "/jsonrpc":
                status = 404
            if status is not None:
                payload = b"<html>error</html>"
                self.send_response(status)
                self.send_header("Content-Type", "text/html")
            else:
                payload = json.dumps(fake.answer(json.loads(raw or b"{}"))).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


@pytest.fixture
def fake_odoo() -> Iterator[FakeOdoo]:
    server = FakeOdoo()
    yield server
    server.close()

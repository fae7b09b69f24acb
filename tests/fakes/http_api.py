"""FakeHttpApi: a local JSON API with the auth schemes the HTTP connector speaks.

Routes are `(method, path)` → (status, JSON body); the server checks the
credentials it was given (bearer token, basic user and password, or an API key
in a header or the query string: 401 otherwise), records every request (method,
path, query, lower-cased headers, JSON body), and can answer slowly or fail the
next requests with a status (for the connector's retries). It can also drip its
answer a byte at a time (`drip_seconds` between bytes), or send a chunked answer
of `chunked_bytes` without any Content-Length (for the connector's size cap).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.fakes.chatwoot import _QuietServer


class FakeHttpApi:
    """A threaded server on 127.0.0.1; `url` is its base URL."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], tuple[int, Any]] = {}
        self.requests: list[dict[str, Any]] = []
        self.bearer: str | None = None
        self.basic: tuple[str, str] | None = None
        self.api_key: tuple[str, str] | None = None
        """(header name or `?param`, key)."""
        self.delay_seconds = 0.0
        self.drip_seconds = 0.0
        self.chunked_bytes: int | None = None
        self.stopped = threading.Event()
        """Set on close: a dripping handler stops writing."""
        self._failures: list[int] = []
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}"

    def route(self, method: str, path: str, body: Any, status: int = 200) -> None:
        self.routes[(method, path)] = (status, body)

    def fail_next(self, n: int, status: int = 503) -> None:
        with self._lock:
            self._failures.extend([status] * n)

    def close(self) -> None:
        self.stopped.set()
        self._server.shutdown()
        self._server.server_close()

    def authorized(self, headers: dict[str, str], query: dict[str, list[str]]) -> bool:
        if self.bearer is not None and headers.get("authorization") != f"Bearer {self.bearer}":
            return False
        if self.basic is not None:
            token = base64.b64encode(":".join(self.basic).encode()).decode()
            if headers.get("authorization") != f"Basic {token}":
                return False
        if self.api_key is not None:
            where, key = self.api_key
            given = (
                query.get(where[1:], [""])[0]
                if where.startswith("?")
                else headers.get(where.lower())
            )
            if given != key:
                return False
        return True


def _handler_for(fake: FakeHttpApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_: Any) -> None:
            pass

        def _any(self) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            length = int(self.headers.get("Content-Length", 0))
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            with fake._lock:
                fake.requests.append(
                    {
                        "method": self.command,
                        "path": parts.path,
                        "query": {k: v[0] for k, v in query.items()},
                        "headers": headers,
                        "body": json.loads(raw) if raw else None,
                    }
                )
                failure = fake._failures.pop(0) if fake._failures else None
            if fake.delay_seconds:
                time.sleep(fake.delay_seconds)
            if failure is not None:
                status, body = failure, {"error": "scripted failure"}
            elif not fake.authorized(headers, query):
                status, body = 401, {"error": "unauthorized"}
            else:
                status, body = fake.routes.get((self.command, parts.path), (404, {"error": "no"}))
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if fake.chunked_bytes is not None:
                self._chunked(fake.chunked_bytes)
                return
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if not fake.drip_seconds:
                self.wfile.write(payload)
                return
            for byte in payload:
                if fake.stopped.wait(fake.drip_seconds):
                    return
                try:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                except OSError:  # the client gave up
                    return

        def _chunked(self, size: int) -> None:
            """`["xxxx…"]` of about `size` bytes, in 64 KiB chunks, with no length."""
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            block = 64 * 1024
            pieces = [b'["'] + [b"x" * block] * (size // block) + [b'"]']
            try:
                for piece in pieces:
                    self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                return

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

    return Handler


@pytest.fixture
def fake_http_api() -> Iterator[FakeHttpApi]:
    server = FakeHttpApi()
    yield server
    server.close()

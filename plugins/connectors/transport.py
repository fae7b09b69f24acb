"""One HTTP call with a total deadline, a size cap and bounded retries: shared by connectors.

Retried: network errors, timeouts and 5xx answers (the system may recover);
never retried: 4xx (the request itself is wrong, or the credentials are).
`timeout_seconds` is the whole call's budget, retries and backoff included, not
a per-read timeout: a server that drips its answer a byte at a time is given up
on at the deadline. The body is read as a stream and refused past `max_bytes`
(decompressed), whatever Content-Length says.
"""

from __future__ import annotations

import atexit
import json
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import httpx

from hub.defaults import CONNECTOR_MAX_RESPONSE_BYTES, CONNECTOR_THREADS
from hub.exceptions import ExternalAuthError, ExternalSystemError


@dataclass(frozen=True)
class Reply:
    """A successful answer, read whole: its status, headers and (decoded) body."""

    status_code: int
    headers: httpx.Headers
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


@lru_cache(maxsize=1)
def shared_client() -> httpx.Client:
    """One connection pool for every connector of the process (timeouts are per call),
    closed when the process exits."""
    client = httpx.Client(timeout=10.0, limits=httpx.Limits(max_connections=100))
    atexit.register(client.close)
    return client


@lru_cache(maxsize=1)
def _threads() -> ThreadPoolExecutor:
    pool = ThreadPoolExecutor(max_workers=CONNECTOR_THREADS, thread_name_prefix="connector")
    atexit.register(pool.shutdown, wait=False, cancel_futures=True)
    return pool


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    timeout: float,
    retries: int,
    backoff_seconds: float,
    what: str,
    max_bytes: int = CONNECTOR_MAX_RESPONSE_BYTES,
    **request: Any,
) -> Reply:
    """The answer of the first attempt that is not a network error or a 5xx, within
    `timeout` seconds in all; raises ExternalSystemError otherwise."""
    deadline = time.monotonic() + timeout
    call = _Call(client, method, url, deadline, retries, backoff_seconds, what, max_bytes, request)
    future: Future[Reply] = _threads().submit(call.run)
    try:
        return future.result(timeout=max(0.0, deadline - time.monotonic()))
    except FutureTimeout:
        call.abandoned.set()  # the thread stops at its next chunk or attempt
        raise ExternalSystemError(
            f"{what}: timed out (no complete answer within {timeout:g} s)", retryable=True
        ) from None


@dataclass
class _Call:
    client: httpx.Client
    method: str
    url: str
    deadline: float
    retries: int
    backoff_seconds: float
    what: str
    max_bytes: int
    request: dict[str, Any]

    def __post_init__(self) -> None:
        self.abandoned = threading.Event()

    def run(self) -> Reply:
        last = "timed out"
        attempts = 0
        for attempt in range(self.retries + 1):
            if attempt:
                pause = self.backoff_seconds * 2 ** (attempt - 1)
                if self.abandoned.wait(min(pause, max(0.0, self._left()))):
                    break
            left = self._left()
            if left <= 0 or self.abandoned.is_set():
                break
            attempts += 1
            try:
                status, headers, body = self._attempt(left)
            except httpx.TimeoutException:
                last = "timed out"
                continue
            except httpx.TransportError as error:
                last = f"network error: {type(error).__name__}"
                continue
            if status >= 500:
                last = f"HTTP {status}"
                continue
            if status in (401, 403):
                raise ExternalAuthError(f"{self.what}: credentials refused (HTTP {status})")
            if status >= 400:
                raise ExternalSystemError(f"{self.what}: HTTP {status}")
            return Reply(status, headers, body)
        raise ExternalSystemError(f"{self.what}: {last} after {attempts} attempts", retryable=True)

    def _left(self) -> float:
        return self.deadline - time.monotonic()

    def _attempt(self, left: float) -> tuple[int, httpx.Headers, bytes]:
        with self.client.stream(self.method, self.url, timeout=left, **self.request) as response:
            if response.status_code >= 400:
                return response.status_code, response.headers, b""
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise self._too_large()
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > self.max_bytes:
                    raise self._too_large()
                if self.abandoned.is_set() or self._left() <= 0:
                    raise httpx.ReadTimeout("the call's deadline passed", request=response.request)
            return response.status_code, response.headers, bytes(body)

    def _too_large(self) -> ExternalSystemError:
        return ExternalSystemError(f"{self.what}: the answer is over {self.max_bytes} bytes")


def json_of(response: Reply, what: str) -> Any:
    try:
        return response.json()
    except (ValueError, RecursionError) as error:
        raise ExternalSystemError(f"{what}: the answer is not JSON") from error

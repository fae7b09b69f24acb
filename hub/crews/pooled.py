"""OpenAI-compatible models whose HTTP clients are shared by every turn of a process.

CrewAI's `OpenAICompletion` builds a sync and an async OpenAI client (each with
its own TLS context and connection pool) every time a model object is created.
We create one model object per turn (CrewAI counts tokens per instance), so we
keep the objects and share the clients: one pair per (endpoint, key, timeout,
retries), thread-safe as the OpenAI SDK's clients are.
"""

from __future__ import annotations

import threading
from typing import Any

from crewai.llms.providers.openai.completion import OpenAICompletion

_clients: dict[tuple[Any, ...], Any] = {}
_lock = threading.Lock()


def _shared(kind: str, params: dict[str, Any]) -> Any:
    key = (kind, *sorted((k, repr(v)) for k, v in params.items()))
    client = _clients.get(key)
    if client is None:
        with _lock:
            client = _clients.get(key)
            if client is None:
                from openai import AsyncOpenAI, OpenAI

                client = OpenAI(**params) if kind == "sync" else AsyncOpenAI(**params)
                _clients[key] = client
    return client


class PooledOpenAICompletion(OpenAICompletion):
    """`OpenAICompletion` drawing its clients from the process-wide pool."""

    def _build_sync_client(self) -> Any:
        return _shared("sync", self._get_client_params())

    def _build_async_client(self) -> Any:
        return _shared("async", self._get_client_params())

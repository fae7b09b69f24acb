"""The real local model, served once per session for the tests that carry `real_model`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import real_model


@pytest.fixture(scope="session")
def real_model_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama-server's base URL; skips (or fails, when required) without the cached build."""
    real_model.require_installed()
    log = tmp_path_factory.mktemp("llama") / "llama-server.log"
    with real_model.serving(log) as url:
        yield url

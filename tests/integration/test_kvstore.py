"""Redis: a configured server, or an embedded redis-server when none is set."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.exceptions import ServiceUnavailableError
from hub.kvstore import connect, embedded_redis_url, redis_url
from hub.settings import Settings
from tests.conftest import TEST_REDIS_URL

pytestmark = pytest.mark.integration


def test_without_a_url_an_embedded_redis_starts_under_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    url = redis_url(settings)
    assert url.startswith("unix://")
    client = connect(url)
    client.set("greeting", "olá")
    assert client.get("greeting") == "olá"
    assert (tmp_path / "redis").is_dir()


def test_the_embedded_server_is_started_once_per_process(tmp_path: Path) -> None:
    path = tmp_path / "redis" / "db.rdb"
    assert embedded_redis_url(path) == embedded_redis_url(path)


def test_a_configured_url_is_used_as_is(redis_client: object) -> None:
    settings = Settings(redis_url=TEST_REDIS_URL)
    assert redis_url(settings) == TEST_REDIS_URL
    assert connect(TEST_REDIS_URL).ping()


def test_an_unreachable_redis_is_a_clear_error_without_the_password() -> None:
    with pytest.raises(ServiceUnavailableError, match="unreachable") as caught:
        connect("redis://user:hunter2@127.0.0.1:1/0")
    assert "hunter2" not in str(caught.value)

"""Settings come only from CHATWOOTAI_ variables; secrets never print."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.settings import Settings


def test_every_setting_has_a_working_default() -> None:
    settings = Settings()
    assert settings.llm == "offline"
    assert settings.redis_url is None
    assert settings.chatwoot_url is None
    assert settings.domains_dir.name == "domains"


def test_settings_read_the_chatwootai_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATWOOTAI_REDIS_URL", "redis://example:6379/2")
    monkeypatch.setenv("CHATWOOTAI_LLM", "openai/gpt-4o-mini")
    settings = Settings()
    assert settings.redis_url == "redis://example:6379/2"
    assert settings.llm == "openai/gpt-4o-mini"


def test_the_bare_redis_url_that_crewai_reads_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://crewai-would-use-this:6379/0")
    assert Settings().redis_url is None


def test_secrets_are_hidden_in_reprs_and_dumps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATWOOTAI_CHATWOOT_TOKEN", "very-secret-token")
    settings = Settings()
    assert "very-secret-token" not in repr(settings)
    assert "very-secret-token" not in settings.model_dump_json()
    assert settings.chatwoot_token is not None
    assert settings.chatwoot_token.get_secret_value() == "very-secret-token"


def test_the_embedded_redis_lives_under_the_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATWOOTAI_DATA_DIR", "/srv/chatwootai")
    assert Settings().embedded_redis_path.is_relative_to(Path("/srv/chatwootai"))


def test_an_invalid_value_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATWOOTAI_LOG_FORMAT", "xml")
    with pytest.raises(ValueError, match="log_format"):
        Settings()

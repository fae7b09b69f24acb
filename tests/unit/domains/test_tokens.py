"""A conversation's calls carry the token of its Chatwoot account, whichever domain answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.domains.registry import DomainRegistry
from hub.settings import Settings
from tests.conftest import SAMPLE_DOMAINS


@pytest.fixture
def registry() -> DomainRegistry:
    return DomainRegistry(SAMPLE_DOMAINS, reload_interval=float("inf"), log_problems=False)


def test_each_account_gets_the_token_of_its_own_domain(
    registry: DomainRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHATWOOTAI_COSMETICS_TOKEN", "token-bela")
    monkeypatch.setenv("CHATWOOTAI_HEALTH_TOKEN", "token-vida")
    settings = Settings(chatwoot_token="token-geral")  # type: ignore[call-arg]
    assert registry.chatwoot_token(1, settings) == "token-bela"
    assert registry.chatwoot_token(2, settings) == "token-vida"
    assert registry.chatwoot_token(3, settings) == "token-geral"  # retail's variable is unset
    assert registry.chatwoot_token(99, settings) == "token-geral"  # no domain maps it
    assert registry.chatwoot_token(99, Settings()) is None


def test_domains_sharing_an_account_use_the_first_ones_token_by_id(
    sample_domains: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (sample_domains / "atacado").mkdir()  # before "retail" by id (its own connectors: none)
    (sample_domains / "atacado/domain.yaml").write_text(
        "extends: _base\nname: Atacado\nchatwoot:\n  account_id: 3\n  inbox_ids: [33]\n"
        "  token_env: CHATWOOTAI_ATACADO_TOKEN\n",
        encoding="utf-8",
    )
    registry = DomainRegistry(sample_domains, reload_interval=float("inf"), log_problems=False)
    monkeypatch.setenv("CHATWOOTAI_RETAIL_TOKEN", "token-casa")
    assert registry.chatwoot_token(3, Settings()) == "token-casa"  # atacado's is unset
    monkeypatch.setenv("CHATWOOTAI_ATACADO_TOKEN", "token-atacado")
    assert registry.chatwoot_token(3, Settings()) == "token-atacado"

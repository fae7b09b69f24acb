"""The cost of a turn: free offline, priced per million tokens for a real model."""

from __future__ import annotations

from decimal import Decimal

from hub.crews.llm import turn_cost
from hub.domains.registry import DomainRegistry
from hub.settings import Settings
from tests.conftest import SAMPLE_DOMAINS

USAGE = {"prompt_tokens": 1200, "completion_tokens": 300}


def retail():  # type: ignore[no-untyped-def]
    return DomainRegistry(SAMPLE_DOMAINS, reload_interval=float("inf")).get("retail")


def test_the_offline_model_costs_nothing() -> None:
    assert turn_cost(retail(), Settings(llm="offline"), USAGE) == Decimal(0)


def test_a_real_model_without_configured_prices_has_an_unknown_cost() -> None:
    assert turn_cost(retail(), Settings(llm="openai/gpt-4o-mini"), USAGE) is None


def test_a_real_model_s_cost_is_its_tokens_at_the_prices_per_million() -> None:
    settings = Settings(
        llm="openai/gpt-4o-mini", llm_price_input=Decimal("0.15"), llm_price_output=Decimal("0.60")
    )
    # 1200 × 0.15 / 1e6 + 300 × 0.60 / 1e6 = 0.00018 + 0.00018
    assert turn_cost(retail(), settings, USAGE) == Decimal("0.000360")


def test_prices_come_from_the_environment(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CHATWOOTAI_LLM", "openai/x")
    monkeypatch.setenv("CHATWOOTAI_LLM_PRICE_OUTPUT", "2.5")
    assert turn_cost(retail(), Settings(), {"completion_tokens": 1000}) == Decimal("0.002500")

"""The shipped sample domains: valid, mapped as in FACTS.md, in CrewAI's own keys."""

from __future__ import annotations

import pytest

from hub.domains.registry import DomainRegistry
from hub.domains.schema import AgentSpec, TaskSpec
from tests.conftest import SAMPLE_DOMAINS


@pytest.fixture(scope="module")
def registry() -> DomainRegistry:
    return DomainRegistry(SAMPLE_DOMAINS)


def test_every_sample_domain_is_valid(registry: DomainRegistry) -> None:
    assert not registry.problems
    assert set(registry.domains) == {"default", "cosmetics", "health", "retail"}


@pytest.mark.parametrize(
    ("account", "inbox", "domain_id"),
    [
        (1, 11, "cosmetics"),
        (1, 12, "cosmetics"),
        (2, 21, "health"),
        (3, 31, "retail"),
        (3, 32, "retail"),
    ],
)
def test_each_business_is_mapped_to_its_chatwoot_account_and_inboxes(
    registry: DomainRegistry, account: int, inbox: int, domain_id: str
) -> None:
    found = registry.find(account, inbox)
    assert found is not None and found[0].id == domain_id


def test_an_unknown_inbox_of_a_known_account_is_not_claimed(registry: DomainRegistry) -> None:
    assert registry.find(1, 99) is None
    assert registry.domains["default"].spec.chatwoot.account_id is None


@pytest.mark.parametrize(
    ("domain_id", "routes"),
    [
        ("cosmetics", {"sales", "support"}),
        ("health", {"sales", "support", "scheduling"}),
        ("retail", {"sales", "support"}),
    ],
)
def test_each_business_has_its_specialist_routes(
    registry: DomainRegistry, domain_id: str, routes: set[str]
) -> None:
    spec = registry.domains[domain_id].spec
    assert routes <= set(spec.routing.routes)
    assert spec.routing.default in spec.routing.routes
    assert "hub" in spec.crews


def test_the_clinic_hands_emergencies_to_a_human_with_the_samu_number(
    registry: DomainRegistry,
) -> None:
    import re

    rules = registry.domains["health"].spec.handoff.rules
    assert rules, "the clinic needs an emergency rule"
    emergency = next(rule for rule in rules if rule.urgent)
    assert "192" in emergency.reply
    assert any(re.search(p, "estou com uma dor no peito muito forte") for p in emergency.patterns)


def test_secrets_are_named_by_env_var_and_never_written_in_yaml(
    registry: DomainRegistry,
) -> None:
    for domain_id in ("cosmetics", "health", "retail"):
        chatwoot = registry.domains[domain_id].spec.chatwoot
        assert chatwoot.token_env and chatwoot.token_env.startswith("CHATWOOTAI_")
        assert chatwoot.webhook_secret_env
    for path in SAMPLE_DOMAINS.rglob("*.yaml"):
        text = path.read_text(encoding="utf-8").lower()
        assert "api_access_token:" not in text and "password:" not in text, path


def test_each_domain_ships_knowledge_seed_data_and_conversation_tests(
    registry: DomainRegistry,
) -> None:
    for domain_id in ("cosmetics", "health", "retail"):
        domain = registry.domains[domain_id]
        assert list((domain.directory / "knowledge").glob("*.md"))
        assert domain.seed_data and domain.tests


@pytest.mark.parametrize(
    ("domain_id", "fact"),
    [
        ("cosmetics", "69,90"),
        ("cosmetics", "BEMVINDA10"),
        ("health", "Hapvida"),
        ("health", "Carla Mendes"),
        ("retail", "CC-2026-00020"),
        ("retail", "Tuiuti"),
    ],
)
def test_a_business_fact_lives_only_in_its_own_domain(domain_id: str, fact: str) -> None:
    for path in SAMPLE_DOMAINS.rglob("*"):
        if path.is_file() and fact in path.read_text(encoding="utf-8"):
            assert path.relative_to(SAMPLE_DOMAINS).parts[0] == domain_id, path


def test_agent_and_task_keys_are_crewai_own_keys() -> None:
    from crewai import Agent, Task

    assert set(AgentSpec.model_fields) <= set(Agent.model_fields)
    assert set(TaskSpec.model_fields) <= set(Task.model_fields)

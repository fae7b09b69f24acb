"""Domain switching from Chatwoot: labels and the custom attribute, never customer text."""

from __future__ import annotations

import pytest

from hub.chatwoot.events import AttributeChange
from hub.conversation.switching import added_labels, switch_signal, switch_vocabulary
from hub.domains.registry import DomainRegistry
from tests.conftest import SAMPLE_DOMAINS


@pytest.fixture(scope="module")
def registry() -> DomainRegistry:
    return DomainRegistry(SAMPLE_DOMAINS)


def test_an_agent_s_label_moves_a_conversation_to_the_domain_it_names(
    registry: DomainRegistry,
) -> None:
    signal = switch_signal(registry.get("retail"), labels=["vip", "domain-health"], attributes={})
    assert signal is not None
    assert (signal.target, signal.reason) == ("health", "etiqueta domain-health")


def test_labels_are_matched_whatever_their_case(registry: DomainRegistry) -> None:
    signal = switch_signal(registry.get("retail"), labels=["Domain-Health"], attributes={})
    assert signal is not None and signal.target == "health"


def test_the_label_of_the_current_domain_keeps_the_conversation_where_it_is(
    registry: DomainRegistry,
) -> None:
    health = registry.get("health")
    assert switch_signal(health, labels=["domain-health"], attributes={}) is None
    assert switch_signal(health, labels=["domain-health", "domain-retail"], attributes={}) is None


def test_a_label_just_added_wins_over_the_old_one(registry: DomainRegistry) -> None:
    signal = switch_signal(
        registry.get("health"),
        labels=["domain-health", "domain-retail"],
        attributes={},
        added_labels={"domain-retail"},
    )
    assert signal is not None and signal.target == "retail"


def test_two_new_targets_at_once_are_ambiguous_and_change_nothing(
    registry: DomainRegistry,
) -> None:
    retail = registry.get("retail")
    assert (
        switch_signal(retail, labels=["domain-health", "domain-cosmetics"], attributes={}) is None
    )


def test_the_custom_attribute_names_the_domain(registry: DomainRegistry) -> None:
    signal = switch_signal(
        registry.get("retail"), labels=[], attributes={"chatwootai_domain": " Cosmetics "}
    )
    assert signal is not None
    assert (signal.target, signal.reason) == ("cosmetics", "atributo chatwootai_domain=Cosmetics")


def test_an_unrelated_label_or_attribute_switches_nothing(registry: DomainRegistry) -> None:
    retail = registry.get("retail")
    assert switch_signal(retail, labels=["vip", "health"], attributes={"plano": "health"}) is None


def test_added_labels_are_read_from_chatwoot_s_changed_attributes() -> None:
    changes = [
        {"status": AttributeChange(previous_value="pending", current_value="open")},
        {"label_list": AttributeChange(previous_value=["vip"], current_value=["vip", "domain-x"])},
    ]
    assert added_labels(changes) == {"domain-x"}


def test_the_vocabulary_lists_every_switch_label_and_attribute(registry: DomainRegistry) -> None:
    labels, attributes = switch_vocabulary(registry.domains.values())
    assert {"domain-health", "domain-retail", "domain-cosmetics"} <= labels
    assert attributes == {"chatwootai_domain"}

"""DomainManager against a real Redis: resolution order, switches, TTL, reload."""

from __future__ import annotations

import json

import pytest
import redis

from hub.domains.manager import ConversationRef, DomainManager
from hub.domains.registry import DomainRegistry
from hub.exceptions import DomainNotFoundError
from tests.domain_tree import SHOP_DOMAIN, DomainTree

pytestmark = pytest.mark.integration

CONVERSATION = ConversationRef(account_id=7, conversation_id=42, inbox_id=70)


@pytest.fixture
def manager(tree: DomainTree, redis_client: redis.Redis) -> DomainManager:
    tree.minimal()
    tree.write("default/domain.yaml", "extends: _base\nname: Geral\n")
    tree.write("whole/domain.yaml", "extends: _base\nname: Conta 8\nchatwoot:\n  account_id: 8\n")
    tree.write("clinic/domain.yaml", "extends: _base\nname: Clínica\nchatwoot:\n  account_id: 9\n")
    registry = DomainRegistry(tree.root, reload_interval=0)
    return DomainManager(registry, redis_client, ttl_seconds=600)


def test_an_inbox_mapping_resolves_the_domain(manager: DomainManager) -> None:
    resolution = manager.resolve(CONVERSATION)
    assert (resolution.domain.id, resolution.by) == ("shop", "inbox")


def test_an_account_mapping_resolves_when_no_inbox_matches(manager: DomainManager) -> None:
    resolution = manager.resolve(ConversationRef(8, 1, inbox_id=80))
    assert (resolution.domain.id, resolution.by) == ("whole", "account")


def test_an_unmapped_conversation_falls_back_to_the_default_domain(
    manager: DomainManager,
) -> None:
    resolution = manager.resolve(ConversationRef(99, 1, inbox_id=1))
    assert (resolution.domain.id, resolution.by) == ("default", "default")


def test_the_resolved_domain_is_stored_with_the_ttl(
    manager: DomainManager, redis_client: redis.Redis
) -> None:
    manager.resolve(CONVERSATION)
    key = "chatwootai:conversation:7:42"
    assert redis_client.hgetall(key) == {"domain": "shop", "source": "mapped"}
    assert 590 < redis_client.ttl(key) <= 600


def test_each_resolve_refreshes_the_ttl(manager: DomainManager, redis_client: redis.Redis) -> None:
    manager.resolve(CONVERSATION)
    redis_client.expire(manager.key(CONVERSATION), 5)
    manager.resolve(CONVERSATION)
    assert redis_client.ttl(manager.key(CONVERSATION)) > 590


def test_an_expired_association_is_simply_resolved_again(
    manager: DomainManager, redis_client: redis.Redis
) -> None:
    manager.switch(CONVERSATION, "clinic", reason="teste", by="agent:1")
    redis_client.delete(manager.key(CONVERSATION))  # what expiry does
    assert manager.resolve(CONVERSATION).domain.id == "shop"


def test_a_switch_wins_over_the_mapping_until_switched_again(manager: DomainManager) -> None:
    manager.resolve(CONVERSATION)
    record = manager.switch(CONVERSATION, "clinic", reason="label domain:clinic", by="agent:5")
    assert (record.from_domain, record.to_domain) == ("shop", "clinic")
    resolution = manager.resolve(CONVERSATION)
    assert (resolution.domain.id, resolution.by) == ("clinic", "switch")
    manager.switch(CONVERSATION, "shop", reason="voltou", by="agent:5")
    assert manager.resolve(CONVERSATION).domain.id == "shop"


def test_every_switch_is_recorded_with_who_and_why(
    manager: DomainManager, redis_client: redis.Redis
) -> None:
    manager.switch(CONVERSATION, "clinic", reason="paciente", by="agent:5")
    manager.switch(CONVERSATION, "whole", reason="engano", by="agent:6")
    history = manager.history(CONVERSATION)
    assert [(h.to_domain, h.by, h.reason) for h in history] == [
        ("clinic", "agent:5", "paciente"),
        ("whole", "agent:6", "engano"),
    ]
    assert history[1].from_domain == "clinic"
    raw = redis_client.lrange("chatwootai:conversation:7:42:switches", 0, -1)
    assert json.loads(raw[0])["reason"] == "paciente"
    assert redis_client.ttl("chatwootai:conversation:7:42:switches") > 0


def test_switch_history_is_capped(manager: DomainManager) -> None:
    manager.history_limit = 3
    for index in range(5):
        manager.switch(CONVERSATION, "clinic", reason=f"r{index}", by="agent")
    assert [h.reason for h in manager.history(CONVERSATION)] == ["r2", "r3", "r4"]


def test_switching_to_an_unknown_domain_is_refused_and_changes_nothing(
    manager: DomainManager,
) -> None:
    manager.resolve(CONVERSATION)
    with pytest.raises(DomainNotFoundError):
        manager.switch(CONVERSATION, "nowhere", reason="x", by="agent")
    assert manager.resolve(CONVERSATION).domain.id == "shop"
    assert manager.history(CONVERSATION) == []


def test_a_stored_association_keeps_a_conversation_whose_mapping_was_removed(
    manager: DomainManager, tree: DomainTree
) -> None:
    conversation = ConversationRef(9, 3, inbox_id=90)
    assert manager.resolve(conversation).domain.id == "clinic"
    tree.write("clinic/domain.yaml", "extends: _base\nname: Clínica\n")  # mapping removed
    resolution = manager.resolve(conversation)
    assert (resolution.domain.id, resolution.by) == ("clinic", "stored")


def test_a_switch_to_a_domain_that_later_disappears_falls_back_to_the_mapping(
    manager: DomainManager, tree: DomainTree
) -> None:
    manager.switch(CONVERSATION, "clinic", reason="x", by="agent")
    (tree.root / "clinic/domain.yaml").unlink()
    resolution = manager.resolve(CONVERSATION)
    assert (resolution.domain.id, resolution.by) == ("shop", "inbox")


def test_a_reload_that_breaks_a_domain_keeps_resolving_to_its_last_good_version(
    manager: DomainManager, tree: DomainTree
) -> None:
    before = manager.resolve(CONVERSATION).domain
    tree.write("shop/domain.yaml", SHOP_DOMAIN + "nome: erro\n")
    manager.registry.log_problems = False
    after = manager.resolve(CONVERSATION).domain
    assert after is before
    assert "shop" in manager.registry.problems


def test_conversations_of_different_accounts_never_share_state(manager: DomainManager) -> None:
    manager.switch(ConversationRef(7, 42), "clinic", reason="x", by="agent")
    assert manager.resolve(ConversationRef(8, 42, inbox_id=80)).domain.id == "whole"


def test_without_a_default_domain_an_unmapped_conversation_is_an_error(
    manager: DomainManager, tree: DomainTree
) -> None:
    (tree.root / "default/domain.yaml").unlink()
    with pytest.raises(DomainNotFoundError, match="default"):
        manager.resolve(ConversationRef(99, 1))

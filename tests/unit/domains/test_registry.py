"""The registry serves valid domains, skips invalid ones and reloads without a restart."""

from __future__ import annotations

from typing import Any

import pytest

from hub.domains import registry as registry_module
from hub.domains.domain import Domain
from hub.domains.registry import DomainRegistry
from hub.exceptions import ConfigurationError, DomainNotFoundError
from tests.domain_tree import SHOP_DOMAIN, DomainTree


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_one_invalid_domain_is_skipped_and_the_others_serve(tree: DomainTree) -> None:
    tree.minimal()
    tree.write("broken/domain.yaml", "extends: _base\nname: Quebrado\nrouting: 3\n")
    registry = DomainRegistry(tree.root, log_problems=False)
    assert set(registry.domains) == {"shop"}
    assert set(registry.problems) == {"broken"}
    with pytest.raises(DomainNotFoundError, match="known domains: shop"):
        registry.get("broken")


def test_templates_are_never_served(tree: DomainTree) -> None:
    registry = DomainRegistry(tree.minimal().root)
    assert "_base" not in registry.domains


def test_a_missing_domains_folder_is_a_configuration_error(tree: DomainTree) -> None:
    with pytest.raises(ConfigurationError, match="domains folder does not exist"):
        DomainRegistry(tree.root / "nowhere")


def test_an_inbox_mapping_wins_over_an_account_mapping(tree: DomainTree) -> None:
    tree.minimal()
    tree.write("whole/domain.yaml", "extends: _base\nname: Conta\nchatwoot:\n  account_id: 7\n")
    registry = DomainRegistry(tree.root)
    found = registry.find(7, 70)
    assert found is not None and (found[0].id, found[1]) == ("shop", "inbox")
    found = registry.find(7, 99)
    assert found is not None and (found[0].id, found[1]) == ("whole", "account")
    assert registry.find(8, 70) is None


def test_every_domain_on_an_account_claims_it_whatever_its_inboxes(tree: DomainTree) -> None:
    tree.minimal()
    tree.write("whole/domain.yaml", "extends: _base\nname: Conta\nchatwoot:\n  account_id: 7\n")
    registry = DomainRegistry(tree.root)
    assert [domain.id for domain in registry.claimants(7)] == ["shop", "whole"]
    assert registry.claimants(8) == ()


def test_two_domains_claiming_one_inbox_keep_the_first_and_report_the_second(
    tree: DomainTree,
) -> None:
    tree.minimal()
    tree.write("zshop/domain.yaml", SHOP_DOMAIN)
    registry = DomainRegistry(tree.root, log_problems=False)
    assert "shop" in registry.domains and "zshop" not in registry.domains
    error = registry.problems["zshop"].errors[0]
    assert "account 7 inbox 70 is already mapped to domain 'shop'" in error.message
    assert error.file == tree.root / "zshop/domain.yaml"


def test_a_changed_file_is_picked_up_without_a_restart(tree: DomainTree) -> None:
    tree.minimal()
    clock = FakeClock()
    registry = DomainRegistry(tree.root, reload_interval=2, clock=clock)
    tree.write("shop/domain.yaml", SHOP_DOMAIN.replace("name: Loja", "name: Loja Nova"))
    assert registry.maybe_reload() is False  # interval not over yet
    clock.now = 5
    assert registry.maybe_reload() is True
    assert registry.get("shop").spec.name == "Loja Nova"


def test_an_invalid_edit_keeps_the_last_good_version_serving(tree: DomainTree) -> None:
    tree.minimal()
    registry = DomainRegistry(tree.root, log_problems=False)
    good = registry.get("shop")
    tree.write("shop/domain.yaml", SHOP_DOMAIN + "languaje: pt\n")
    registry.reload()
    assert registry.get("shop") is good
    assert "languaje" in str(registry.problems["shop"])
    tree.write("shop/domain.yaml", SHOP_DOMAIN.replace("Loja", "Loja Corrigida"))
    registry.reload()
    assert registry.get("shop").spec.name == "Loja Corrigida"
    assert not registry.problems


def test_an_edit_to_the_base_reloads_every_domain_that_extends_it(tree: DomainTree) -> None:
    tree.minimal()
    registry = DomainRegistry(tree.root)
    base = (tree.root / "_base/domain.yaml").read_text()
    tree.write("_base/domain.yaml", base.replace("Vou chamar uma pessoa.", "Já chamo alguém."))
    assert registry.reload() is True
    assert registry.get("shop").spec.messages.handoff == "Já chamo alguém."


def test_unchanged_domains_are_not_rebuilt_on_reload(tree: DomainTree) -> None:
    tree.minimal()
    tree.write("other/domain.yaml", "extends: _base\nname: Outra\n")
    registry = DomainRegistry(tree.root)
    other = registry.get("other")
    tree.write("shop/domain.yaml", SHOP_DOMAIN.replace("Loja", "Loja 2"))
    registry.reload()
    assert registry.get("other") is other
    assert registry.get("shop").spec.name == "Loja 2"


def test_new_and_removed_domains_appear_and_disappear(tree: DomainTree) -> None:
    tree.minimal()
    registry = DomainRegistry(tree.root)
    tree.write("novo/domain.yaml", "extends: _base\nname: Novo\n")
    registry.reload()
    assert "novo" in registry.domains
    (tree.root / "novo/domain.yaml").unlink()
    registry.reload()
    assert "novo" not in registry.domains


def test_a_vanished_folder_during_a_reload_keeps_serving(tree: DomainTree) -> None:
    tree.minimal()
    clock = FakeClock()
    registry = DomainRegistry(tree.root, reload_interval=1, clock=clock, log_problems=False)
    moved = tree.root.rename(tree.root.with_name("elsewhere"))
    clock.now = 10
    assert registry.maybe_reload() is False
    assert "shop" in registry.domains
    moved.rename(tree.root)


BAD_FILES = {
    "a tag on a sequence": "extends: _base\nname: Ruim\nlanguages: !foo [pt-BR]\n",
    "5,000-deep nesting": "extends: _base\nname: Ruim\nx: " + "[" * 5000 + "]" * 5000 + "\n",
    "an alias bomb": "extends: _base\nname: Ruim\na: &a [x, x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{name}: &{name} [{', '.join([f'*{previous}'] * 10)}]\n"
        for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
    ),
    "a number its type cannot build": "extends: _base\nname: Ruim\nx: 1" + "0" * 5000 + "\n",
    "a mapping as a key": "extends: _base\nname: Ruim\n? {a: 1}\n: x\n",
}


@pytest.mark.parametrize("text", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_one_hostile_domain_file_is_that_domain_s_error_and_the_others_keep_serving(
    tree: DomainTree, text: str
) -> None:
    tree.minimal()
    path = tree.write("hostile/domain.yaml", text)
    registry = DomainRegistry(tree.root, log_problems=False)
    assert set(registry.domains) == {"shop"}
    (error,) = registry.problems["hostile"].errors
    assert error.file == path
    assert error.line is not None or "unreadable value" in error.message


@pytest.mark.parametrize("text", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_a_hostile_edit_on_reload_keeps_every_domain_serving(tree: DomainTree, text: str) -> None:
    tree.minimal()
    tree.write("other/domain.yaml", "extends: _base\nname: Outra\n")
    registry = DomainRegistry(tree.root, log_problems=False)
    good = registry.get("other")
    tree.write("other/crews/extra.yaml", text.replace("extends: _base\nname: Ruim\n", ""))
    registry.reload()
    assert registry.get("other") is good
    assert registry.get("shop").spec.name == "Loja"
    assert registry.problems["other"].errors[0].file == tree.root / "other/crews/extra.yaml"


def test_any_failure_while_building_one_domain_is_that_domain_s_error(
    tree: DomainTree, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree.minimal()
    tree.write("other/domain.yaml", "extends: _base\nname: Outra\n")
    real = registry_module.build_domain

    def build(domain_id: str, *args: Any, **kwargs: Any) -> Domain:
        if domain_id == "other":
            raise RecursionError("maximum recursion depth exceeded")
        return real(domain_id, *args, **kwargs)

    monkeypatch.setattr(registry_module, "build_domain", build)
    registry = DomainRegistry(tree.root, log_problems=False)
    assert set(registry.domains) == {"shop"}
    (error,) = registry.problems["other"].errors
    assert "RecursionError" in error.message
    assert error.file == tree.root / "other"

"""`plugins:` in domain.yaml: each plugin's own model validates its settings, with file and line."""

from __future__ import annotations

import pytest

from hub.domains.registry import DomainRegistry
from hub.exceptions import DomainInvalidError
from tests.domain_tree import SHOP_DOMAIN, DomainTree
from tests.plugin_kit import Recorder, install


def problems(tree: DomainTree) -> list[str]:
    registry = DomainRegistry(tree.root, log_problems=False)
    error = registry.problems.get("shop")
    assert isinstance(error, DomainInvalidError), "the shop domain should be invalid"
    return [problem.render() for problem in error.errors]


def test_a_wrong_plugin_setting_is_reported_with_file_line_and_dotted_key(
    tree: DomainTree,
) -> None:
    tree.minimal()
    path = tree.write(
        "shop/domain.yaml",
        SHOP_DOMAIN + "plugins:\n  sentiment: {}\n  personalization:\n    max_length: 10\n",
    )
    line = path.read_text().splitlines().index("    max_length: 10") + 1
    (problem,) = problems(tree)
    assert problem.startswith(f"{path}:{line}: plugins.personalization.max_length: ")
    assert "greater than or equal to 100" in problem


def test_an_unknown_setting_of_a_plugin_gets_a_did_you_mean(tree: DomainTree) -> None:
    tree.minimal()
    tree.write(
        "shop/domain.yaml", SHOP_DOMAIN + "plugins:\n  sentiment:\n    urgent_bellow: -0.5\n"
    )
    (problem,) = problems(tree)
    assert "plugins.sentiment.urgent_bellow: unknown key 'urgent_bellow'" in problem
    assert "did you mean 'urgent_below'?" in problem


def test_an_unknown_plugin_name_is_an_error_with_a_did_you_mean(tree: DomainTree) -> None:
    tree.minimal()
    path = tree.write("shop/domain.yaml", SHOP_DOMAIN + "plugins:\n  sentimento: {}\n")
    (problem,) = problems(tree)
    assert problem.startswith(f"{path}:")
    assert "plugins.sentimento: no plugin named 'sentimento' is installed" in problem
    assert "did you mean 'sentiment'?" in problem


def test_a_connector_secret_is_an_environment_variable_name_never_a_value(
    tree: DomainTree,
) -> None:
    tree.minimal()
    tree.write(
        "shop/domain.yaml",
        SHOP_DOMAIN
        + """\
plugins:
  connectors:
    odoo:
      url_env: SHOP_ODOO_URL
      database: loja
      username_env: SHOP_ODOO_USER
      password_env: minha-senha-123
""",
    )
    (problem,) = problems(tree)
    assert "plugins.connectors.odoo.password_env" in problem
    assert "not a valid environment variable name" in problem


def test_agents_may_list_the_tools_their_domains_plugins_declare(
    tree: DomainTree, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(monkeypatch, ("recorder", Recorder()))
    tree.minimal()
    support = (tree.root / "_base" / "crews" / "support.yaml").read_text()
    tree.write(
        "_base/crews/support.yaml",
        support.replace("[knowledge_search]", "[knowledge_search, erp_lookup]"),
    )
    tree.write("shop/domain.yaml", SHOP_DOMAIN + "plugins:\n  recorder:\n    tool: erp_lookup\n")
    registry = DomainRegistry(tree.root, log_problems=False)
    assert "shop" in registry.domains
    tree.write("shop/domain.yaml", SHOP_DOMAIN + "plugins:\n  recorder:\n    tool: erp_look\n")
    (problem,) = problems(tree)
    assert "unknown tool 'erp_lookup'" in problem and "did you mean 'erp_look'?" in problem


def test_a_plugin_tool_may_not_take_a_built_in_tools_name(
    tree: DomainTree, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(monkeypatch, ("recorder", Recorder()))
    tree.minimal()
    tree.write("shop/domain.yaml", SHOP_DOMAIN + "plugins:\n  recorder:\n    tool: order_status\n")
    (problem,) = problems(tree)
    assert "declares the tool 'order_status', a built-in tool's name" in problem


def test_the_shipped_domains_enable_each_built_in_plugin_somewhere() -> None:
    from tests.conftest import SAMPLE_DOMAINS

    registry = DomainRegistry(SAMPLE_DOMAINS)
    enabled = {d.id: set(d.spec.plugins) for d in registry.domains.values()}
    assert {"sentiment"} <= enabled["health"] and {"sentiment"} <= enabled["cosmetics"]
    assert "personalization" in enabled["cosmetics"]
    assert "connectors" in enabled["retail"]

"""`plugins:` in domain.yaml: each plugin's own model validates its settings, with file and line."""

from __future__ import annotations

import pytest

from hub.domains.registry import DomainRegistry
from hub.exceptions import DomainInvalidError
from hub.settings import get_settings
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
      url_env: CHATWOOTAI_SHOP_ODOO_URL
      database: loja
      username_env: CHATWOOTAI_SHOP_ODOO_USER
      password_env: minha-senha-123
""",
    )
    (problem,) = problems(tree)
    assert "plugins.connectors.odoo.password_env" in problem
    assert "not a valid environment variable name" in problem


def connector_problems(tree: DomainTree, key: str, variable: str) -> list[str]:
    """The shop's problems when its HTTP connector names `variable` for `key`."""
    auth = f"        auth: {{type: bearer, token_env: {variable}}}\n" if key == "token_env" else ""
    base = variable if key == "base_url_env" else "CHATWOOTAI_SHOP_API_URL"
    tree.write(
        "shop/domain.yaml",
        SHOP_DOMAIN
        + "plugins:\n  connectors:\n    http:\n"
        + "      - name: rastreio\n        description: Rastreia um pedido.\n"
        + f"        base_url_env: {base}\n        path: /track\n"
        + auth
        + "        response: {fields: {s: status}, template: '{s}'}\n",
    )
    registry = DomainRegistry(tree.root, log_problems=False)
    error = registry.problems.get("shop")
    return [problem.render() for problem in error.errors] if error else []


@pytest.mark.parametrize(
    ("key", "variable", "complaint"),
    [
        ("token_env", "CHATWOOTAI_CHATWOOT_TOKEN", "one of the deployment's own settings"),
        ("token_env", "CHATWOOTAI_WEBHOOK_SECRET", "one of the deployment's own settings"),
        ("base_url_env", "CHATWOOTAI_DATABASE_URL", "one of the deployment's own settings"),
        ("token_env", "CHATWOOTAI_HEALTH_TOKEN", "only variables starting with CHATWOOTAI_SHOP_"),
        ("token_env", "HOME", "only variables starting with CHATWOOTAI_SHOP_"),
        ("base_url_env", "AWS_SECRET_ACCESS_KEY", "only variables starting with CHATWOOTAI_SHOP_"),
        ("token_env", "CHATWOOTAI_SHOP_SP_TOKEN", "belongs to domain 'shop_sp'"),
    ],
)
def test_a_connector_may_not_name_another_tenant_s_or_the_deployment_s_variables(
    tree: DomainTree, key: str, variable: str, complaint: str
) -> None:
    tree.minimal()
    tree.write("shop_sp/domain.yaml", "extends: _base\nname: Loja SP\n")
    (problem,) = connector_problems(tree, key, variable)
    where = f"auth.{key}" if key == "token_env" else key
    assert f"plugins.connectors.http[0].{where}: " in problem
    assert complaint in problem


def test_a_connector_names_its_own_domain_s_variables_and_those_the_deployment_allows(
    tree: DomainTree, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree.minimal()
    assert connector_problems(tree, "token_env", "CHATWOOTAI_SHOP_CARRIER_TOKEN") == []
    monkeypatch.setenv("CHATWOOTAI_CONNECTOR_ENV_ALLOWED", "SHARED_CARRIER_URL, OTHER")
    get_settings.cache_clear()
    try:
        assert connector_problems(tree, "base_url_env", "SHARED_CARRIER_URL") == []
        (problem,) = connector_problems(tree, "token_env", "CHATWOOTAI_LLM_API_KEY")
        assert "deployment's own settings" in problem
    finally:
        monkeypatch.delenv("CHATWOOTAI_CONNECTOR_ENV_ALLOWED")
        get_settings.cache_clear()


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

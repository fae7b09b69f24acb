"""Every kind of domain error is reported with its file, line, key path and the fix."""

from __future__ import annotations

import pytest

from hub.domains.registry import DomainRegistry
from hub.exceptions import (
    ConfigurationError,
    DanglingReferenceError,
    InheritanceError,
    SchemaError,
    YAMLSyntaxError,
)
from tests.domain_tree import DomainTree


def errors_of(tree: DomainTree, domain_id: str = "shop") -> list[ConfigurationError]:
    registry = DomainRegistry(tree.root, log_problems=False)
    assert domain_id not in registry.domains
    return registry.problems[domain_id].errors


def only_error(tree: DomainTree, domain_id: str = "shop") -> ConfigurationError:
    errors = errors_of(tree, domain_id)
    assert len(errors) == 1, [e.render() for e in errors]
    return errors[0]


def test_the_minimal_tree_is_valid_and_inherits_from_the_base(tree: DomainTree) -> None:
    registry = DomainRegistry(tree.minimal().root)
    assert not registry.problems
    shop = registry.get("shop")
    assert shop.chain == ("shop", "_base")
    assert shop.spec.name == "Loja"
    assert shop.spec.messages.fallback == "Desculpe, tive um problema."
    assert set(shop.spec.crews) == {"hub", "support"}


def test_a_typo_in_a_key_is_an_error_that_suggests_the_right_key(tree: DomainTree) -> None:
    tree.minimal()
    path = tree.write("shop/domain.yaml", "extends: _base\nname: Loja\nlanguaje: pt-BR\n")
    error = only_error(tree)
    assert isinstance(error, SchemaError)
    assert (error.file, error.line, error.key_path) == (path, 3, "languaje")
    assert "did you mean 'language'?" in error.message
    assert error.expected is not None and "timezone" in error.expected


def test_a_typo_inside_a_crew_file_points_at_the_crew_file(tree: DomainTree) -> None:
    tree.minimal()
    path = tree.write(
        "shop/crews/sales.yaml",
        """\
        agents:
          seller:
            role: Vendedor
            goal: Vender
            backstori: Conhece tudo.
        tasks:
          answer:
            description: "{message}"
            expected_output: Resposta
            agent: seller
        """,
    )
    errors = {e.key_path: e for e in errors_of(tree)}
    typo = errors["crews.sales.agents.seller.backstori"]
    assert (typo.file, typo.line) == (path, 5)
    assert "did you mean 'backstory'?" in typo.message
    missing = errors["crews.sales.agents.seller.backstory"]
    assert "missing required key 'backstory'" in missing.message
    assert missing.line == 2


def test_a_missing_required_key_names_the_key(tree: DomainTree) -> None:
    tree.minimal()
    tree.write("shop/domain.yaml", "extends: _base\nname: !delete\n")
    error = only_error(tree)
    assert error.key_path == "name"
    assert "missing required key 'name'" in error.message


def test_a_wrong_type_says_what_was_given(tree: DomainTree) -> None:
    tree.minimal()
    tree.write("shop/domain.yaml", "extends: _base\nname: Loja\nchatwoot:\n  account_id: um\n")
    error = only_error(tree)
    assert error.key_path == "chatwoot.account_id"
    assert error.line == 4
    assert "'um'" in error.message


@pytest.mark.parametrize(
    ("snippet", "key_path", "words"),
    [
        (
            "business_hours:\n  weekly:\n    mon: ['19:00-09:00']\n",
            "business_hours.weekly.mon[0]",
            "ends before it starts",
        ),
        (
            "business_hours:\n  weekly:\n    mon: ['9h-18h']\n",
            "business_hours.weekly.mon[0]",
            "09:00-18:00",
        ),
        (
            "business_hours:\n  weekly:\n    sab: ['09:00-12:00']\n",
            "business_hours.weekly.sab",
            "'mon'",
        ),
        ("timezone: America/Curitba\n", "timezone", "unknown time zone"),
        (
            "handoff:\n  rules:\n    - name: urgente\n"
            "      patterns: ['(dor']\n      reply: Ligue 192\n",
            "handoff.rules[0].patterns[0]",
            "invalid regular expression",
        ),
        (
            "chatwoot:\n  account_id: 7\n  token_env: minha-senha\n",
            "chatwoot.token_env",
            "environment variable name",
        ),
        (
            "conversation:\n  burst_window_seconds: 60\n",
            "conversation.burst_window_seconds",
            "less than or equal to 20",
        ),
        ("cache:\n  threshold: 1.5\n", "cache.threshold", "less than or equal to 1"),
        ("cache:\n  ttl_seconds: 0\n", "cache.ttl_seconds", "greater than or equal to 1"),
        ("cache:\n  answer: false\n", "cache.answer", "answers"),
    ],
)
def test_values_are_checked_beyond_their_type(
    tree: DomainTree, snippet: str, key_path: str, words: str
) -> None:
    tree.minimal()
    tree.write("shop/domain.yaml", "extends: _base\nname: Loja\n" + snippet)
    error = only_error(tree)
    assert error.key_path == key_path
    assert words in error.render()


def test_a_task_naming_a_missing_agent_is_a_reference_error(tree: DomainTree) -> None:
    tree.minimal()
    crew = tree.write(
        "shop/crews/support.yaml",
        """\
        agents:
          helper: {role: A, goal: B, backstory: C}
        tasks:
          answer:
            description: "{message}"
            expected_output: Resposta
            agent: helpr
        """,
    )
    tree.write("shop/domain.yaml", "extends: _base\nname: Loja\ncrews:\n  support: !delete\n")
    error = only_error(tree)
    assert isinstance(error, DanglingReferenceError)
    assert (error.file, error.line) == (crew, 7)
    assert error.key_path == "crews.support.tasks.answer.agent"
    assert error.expected == "one of: helper"


def test_defining_a_crew_both_inline_and_in_a_file_is_an_error(tree: DomainTree) -> None:
    tree.minimal()
    tree.write("shop/domain.yaml", "extends: _base\nname: Loja\ncrews:\n  support: {}\n")
    crew = tree.write("shop/crews/support.yaml", "description: Suporte\n")
    error = only_error(tree)
    assert "both in domain.yaml and in support.yaml" in error.message
    assert (error.file, error.key_path) == (crew, "crews.support")


def test_an_unknown_tool_is_an_error_with_a_suggestion(tree: DomainTree) -> None:
    tree.minimal()
    tree.write(
        "_base/crews/support.yaml",
        (tree.root / "_base/crews/support.yaml")
        .read_text()
        .replace("knowledge_search", "knowlege_search"),
    )
    error = only_error(tree)
    assert error.key_path == "crews.support.agents.helper.tools[0]"
    assert "did you mean 'knowledge_search'?" in error.message
    assert error.file == tree.root / "_base/crews/support.yaml"


def test_a_route_to_a_missing_crew_and_a_missing_default_route_are_errors(
    tree: DomainTree,
) -> None:
    tree.minimal()
    tree.write(
        "shop/domain.yaml",
        """\
        extends: _base
        name: Loja
        routing:
          default: vendas
          routes:
            sales: {crew: sales, description: Vendas}
        """,
    )
    errors = {e.key_path: e for e in errors_of(tree)}
    assert "no route named 'vendas'" in errors["routing.default"].message
    assert "no crew named 'sales'" in errors["routing.routes.sales.crew"].message


def test_a_crew_whose_tasks_never_see_the_message_is_an_error(tree: DomainTree) -> None:
    tree.minimal()
    tree.write(
        "_base/crews/support.yaml",
        (tree.root / "_base/crews/support.yaml").read_text().replace("{message}", "{history}"),
    )
    error = only_error(tree)
    assert "{message}" in error.message
    assert error.key_path == "crews.support.tasks"


def test_unknown_placeholders_and_hub_only_placeholders_are_errors(tree: DomainTree) -> None:
    tree.minimal()
    tree.write(
        "_base/crews/support.yaml",
        (tree.root / "_base/crews/support.yaml")
        .read_text()
        .replace("Cliente: {message}", "Cliente {nome}: {message} {routes}"),
    )
    messages = sorted(e.message for e in errors_of(tree))
    assert messages == ["unknown placeholder {nome}", "unknown placeholder {routes}"]


def test_a_missing_hub_crew_is_an_error(tree: DomainTree) -> None:
    tree.minimal()
    tree.write("shop/domain.yaml", "extends: _base\nname: Loja\ncrews:\n  hub: !delete\n")
    error = only_error(tree)
    assert "'hub' crew is missing" in error.message


def test_extends_naming_a_missing_domain_is_an_error_at_the_extends_line(
    tree: DomainTree,
) -> None:
    tree.minimal()
    path = tree.write("shop/domain.yaml", "# loja\nextends: _bsae\nname: Loja\n")
    error = only_error(tree)
    assert isinstance(error, InheritanceError)
    assert (error.file, error.line, error.key_path) == (path, 2, "extends")
    assert error.expected is not None and "_base" in error.expected


def test_an_extends_cycle_is_detected_and_named(tree: DomainTree) -> None:
    tree.minimal()
    tree.write("a/domain.yaml", "extends: b\nname: A\n")
    tree.write("b/domain.yaml", "extends: a\nname: B\n")
    error = only_error(tree, "a")
    assert isinstance(error, InheritanceError)
    assert "cycle: a → b → a" in error.message
    assert "shop" in DomainRegistry(tree.root, log_problems=False).domains


def test_a_yaml_syntax_error_in_the_base_is_reported_for_every_child(tree: DomainTree) -> None:
    tree.minimal()
    tree.write("_base/domain.yaml", "name: Base\nname: Outra\n")
    error = only_error(tree)
    assert isinstance(error, YAMLSyntaxError)
    assert error.file == tree.root / "_base/domain.yaml"


def test_a_switch_label_must_name_an_existing_domain(tree: DomainTree) -> None:
    tree.minimal()
    tree.write(
        "shop/domain.yaml",
        "extends: _base\nname: Loja\nswitching:\n  labels:\n    'domain:x': clinica\n",
    )
    error = only_error(tree)
    assert error.key_path == "switching.labels.domain:x"
    assert "no domain named 'clinica'" in error.message


def test_seed_data_rejects_float_prices_and_unknown_keys(tree: DomainTree) -> None:
    tree.minimal()
    path = tree.write(
        "shop/data/products.yaml",
        "products:\n  - {sku: P-1, name: Panela, price: 10.5, stock: 1}\n"
        "  - {sku: P-2, name: Copo, price: '2.00', stok: 3}\n",
    )
    errors = {e.key_path: e for e in errors_of(tree)}
    assert "floats lose cents" in errors["products[0].price"].message
    assert errors["products[1].stok"].file == path
    assert "did you mean 'stock'?" in errors["products[1].stok"].message


def test_conversation_tests_may_only_expect_existing_routes_and_tools(tree: DomainTree) -> None:
    tree.minimal()
    tree.write(
        "shop/tests/basic.yaml",
        """\
        stories:
          - name: horário
            steps:
              - customer: Qual o horário?
                expect:
                  route: vendas
                  tools: [knowledge_serch]
        """,
    )
    errors = {e.key_path: e for e in errors_of(tree)}
    assert errors["stories[0].steps[0].expect.route"].line == 6
    assert (
        "did you mean 'knowledge_search'" in errors["stories[0].steps[0].expect.tools[0]"].message
    )


def test_a_knowledge_file_named_without_wildcards_must_exist(tree: DomainTree) -> None:
    tree.minimal()
    tree.write(
        "shop/domain.yaml", "extends: _base\nname: Loja\nknowledge:\n  paths: [knowledge/faq.md]\n"
    )
    error = only_error(tree)
    assert "knowledge/faq.md" in error.message
    assert error.key_path == "knowledge.paths[0]"


def test_every_error_of_a_domain_is_reported_at_once(tree: DomainTree) -> None:
    tree.minimal()
    tree.write("shop/domain.yaml", "extends: _base\nname: Loja\nlanguaje: x\ntimezon: y\n")
    assert {e.key_path for e in errors_of(tree)} == {"languaje", "timezon"}

"""The conversation-test runner: the worker's decision path, and how it compares and reports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.crews.factory import CrewFactory
from hub.crews.stories import (
    HANDOFF_ROUTE,
    Outcome,
    StoryCase,
    StoryRunner,
    collect_stories,
    compare,
    stories_of,
)
from hub.domains.content import Expectation, Story
from hub.domains.registry import DomainRegistry
from hub.settings import Settings
from tests.domain_tree import SHOP_DOMAIN, DomainTree
from tests.fakes.openai_server import FakeOpenAI

SHOP_RULES = """\
handoff:
  rules:
    - name: emergencia
      patterns: ['(?i)emerg[eê]ncia']
      reply: Ligue 192 agora; vou chamar uma pessoa da equipe.
routing:
  routes:
    sales:
      crew: support
      description: Preços e produtos
      keywords: [preço, produto]
"""

SUPPORT_WITH_HISTORY = """\
agents:
  helper:
    role: Atendente da {business_name}
    goal: Responder
    backstory: Conhece a loja.
    tools: [knowledge_search]
tasks:
  answer:
    description: |
      Conversa até aqui:
      {history}

      Mensagem do cliente: {message}
    expected_output: Uma resposta.
    agent: helper
"""

KNOWLEDGE = """\
# Horário de funcionamento
A loja abre de segunda a sábado, das 9:00 às 18:00.

# Trocas e devoluções
O prazo para trocas é de 30 dias úteis, com a nota fiscal.
"""

STORIES = """\
stories:
  - name: horário da loja
    steps:
      - customer: Que horas a loja abre?
        expect:
          route: support
          reply_contains: ["9:00"]

  - name: prazo de troca
    steps:
      - customer: Qual o prazo para trocas?
        expect:
          reply_contains: ["30 dias úteis"]
"""


@pytest.fixture
def shop(tree: DomainTree) -> DomainRegistry:
    """`shop`: two routes (one crew), an emergency rule, a few documents and two stories."""
    tree.minimal()
    tree.write("shop/domain.yaml", SHOP_DOMAIN + SHOP_RULES)
    tree.write("_base/crews/support.yaml", SUPPORT_WITH_HISTORY)
    tree.write("shop/knowledge/loja.md", KNOWLEDGE)
    tree.write("shop/tests/loja.yaml", STORIES)
    registry = DomainRegistry(tree.root, reload_interval=float("inf"), log_problems=False)
    assert not registry.problems, registry.problems
    return registry


def runner(registry: DomainRegistry, tmp_path: Path, **settings: Any) -> StoryRunner:
    config = Settings(domains_dir=registry.domains_dir, data_dir=tmp_path / "var", **settings)
    return StoryRunner(CrewFactory(registry, config))


def case(*steps: dict[str, Any], name: str = "história") -> StoryCase:
    story = Story.model_validate({"name": name, "steps": list(steps)})
    return StoryCase("shop", Path("tests/unit.yaml"), story)


def on_fake_model(fake_openai: FakeOpenAI) -> dict[str, Any]:
    return {"llm": "openai/m", "llm_base_url": fake_openai.url, "llm_api_key": "k"}


def test_a_story_passes_when_every_expectation_holds(shop: DomainRegistry, tmp_path: Path) -> None:
    result = runner(shop, tmp_path).run(
        case(
            {"customer": "Que horas a loja abre?", "expect": {"route": "support", "handoff": False}}
        )
    )
    assert result.passed, result.report()
    assert result.steps[0].outcome is not None
    assert "9:00" in result.steps[0].outcome.reply
    assert result.report().startswith("PASS  shop  unit.yaml  história")


def test_a_wrong_route_fails_naming_the_expected_and_the_actual_route(
    shop: DomainRegistry, tmp_path: Path
) -> None:
    result = runner(shop, tmp_path).run(
        case({"customer": "Que horas a loja abre?", "expect": {"route": "sales"}})
    )
    assert not result.passed
    assert result.failures == ["step 1: route: expected 'sales', got 'support'"]
    report = result.report()
    assert report.startswith("FAIL")
    assert "route: expected 'sales', got 'support'" in report
    assert "reply: " in report and "9:00" in report  # the reply shows why


def test_reply_texts_match_without_case_or_accents() -> None:
    outcome = Outcome("Trocas em até 30 dias úteis, com a nota fiscal.", "support")
    assert compare(Expectation(reply_contains=["30 DIAS UTEIS", "Até"]), outcome) == []
    assert compare(Expectation(reply_not_contains=["ÚTEIS"]), outcome) == [
        "reply: expected not to contain 'ÚTEIS'"
    ]


def test_an_accent_free_expectation_passes_on_a_real_reply(
    shop: DomainRegistry, tmp_path: Path
) -> None:
    result = runner(shop, tmp_path).run(
        case({"customer": "Qual o prazo para trocas?", "expect": {"reply_contains": ["UTEIS"]}})
    )
    assert result.passed, result.report()


def test_every_mismatch_is_reported_and_the_next_step_still_runs(
    shop: DomainRegistry, tmp_path: Path
) -> None:
    result = runner(shop, tmp_path).run(
        case(
            {
                "customer": "Que horas a loja abre?",
                "expect": {"route": "sales", "tools": ["handoff"], "reply_contains": ["domingo"]},
            },
            {"customer": "Qual o prazo para trocas?", "expect": {"reply_contains": ["30 dias"]}},
        )
    )
    first, second = result.steps
    route, tools, reply = first.failures
    assert route == "route: expected 'sales', got 'support'"
    assert tools.startswith("tools: expected 'handoff' to be called; called: ")
    assert reply == "reply: expected to contain 'domingo'"
    assert second.passed and second.outcome is not None
    assert not result.passed


def test_a_handoff_rule_answers_with_its_message_without_any_model_call(
    shop: DomainRegistry, tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    result = runner(shop, tmp_path, **on_fake_model(fake_openai)).run(
        case(
            {
                "customer": "É uma emergência!",
                "expect": {"handoff": True, "reply_contains": ["192"]},
            }
        )
    )
    assert result.passed, result.report()
    outcome = result.steps[0].outcome
    assert outcome is not None
    assert (outcome.route, outcome.tool_calls) == (HANDOFF_ROUTE, ())
    assert outcome.handoff_reason == "regra emergencia"
    assert fake_openai.requests == []


def test_an_unexpected_handoff_fails_and_names_its_reason(
    shop: DomainRegistry, tmp_path: Path
) -> None:
    result = runner(shop, tmp_path).run(
        case({"customer": "Quero falar com um atendente", "expect": {"handoff": False}})
    )
    assert result.failures == [
        "step 1: handoff: expected none, got one (o cliente pediu atendimento humano ('atendente'))"
    ]


def test_the_steps_after_a_handoff_are_reported_as_not_run(
    shop: DomainRegistry, tmp_path: Path
) -> None:
    result = runner(shop, tmp_path).run(
        case(
            {"customer": "É uma emergência", "expect": {"handoff": True}},
            {"customer": "Que horas a loja abre?"},
        )
    )
    first, second = result.steps
    assert first.passed
    assert second.outcome is None
    assert second.failures == (
        "not run: the conversation went to a human at step 1, "
        "and the bot stays silent after a handoff",
    )


def test_a_crew_exception_is_a_step_failure_not_a_crash(
    shop: DomainRegistry, tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    fake_openai.fail_status = 400  # not retried: fails at once
    result = runner(shop, tmp_path, **on_fake_model(fake_openai)).run(
        case(
            {"customer": "Que horas a loja abre?", "expect": {"route": "support"}},
            {"customer": "E aos domingos?"},
        )
    )
    first, second = result.steps
    assert len(first.failures) == 1
    assert first.failures[0].startswith("the crew failed: ")
    assert first.outcome is not None
    assert first.outcome.reply == shop.get("shop").spec.messages.fallback  # as the worker does
    assert first.outcome.handoff
    assert second.outcome is None and not second.passed


def test_history_is_carried_between_the_steps_of_a_story_and_not_between_stories(
    shop: DomainRegistry, tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda _messages: "Final Answer: Abrimos às 9:00."
    stories = runner(shop, tmp_path, **on_fake_model(fake_openai))

    def prompt(request: dict[str, Any]) -> str:
        return "\n".join(str(m.get("content")) for m in request["body"]["messages"])

    stories.run(case({"customer": "Que horas a loja abre?"}, {"customer": "E aos sábados?"}))
    second_turn = prompt(fake_openai.requests[-1])
    assert "Cliente: Que horas a loja abre?" in second_turn
    assert "Atendente: Abrimos às 9:00." in second_turn

    stories.run(case({"customer": "Qual o prazo para trocas?"}))
    next_story = prompt(fake_openai.requests[-1])
    assert "(início da conversa)" in next_story
    assert "Que horas a loja abre?" not in next_story


def test_stories_know_their_domain_file_and_line(shop: DomainRegistry) -> None:
    cases = stories_of(shop.get("shop"))
    assert [(c.id, c.location) for c in cases] == [
        ("shop/loja.yaml::horário da loja", "loja.yaml:2"),
        ("shop/loja.yaml::prazo de troca", "loja.yaml:9"),
    ]


def test_stories_are_selected_by_their_id_ignoring_case_and_accents(
    shop: DomainRegistry,
) -> None:
    domains = list(shop.domains.values())
    assert [c.name for c in collect_stories(domains, "HORARIO")] == ["horário da loja"]
    assert len(collect_stories(domains, "shop/loja.yaml")) == 2
    assert collect_stories(domains, "padaria") == []


def test_the_shipped_stories_of_a_file_run_in_order(shop: DomainRegistry, tmp_path: Path) -> None:
    stories = runner(shop, tmp_path)
    results = [stories.run(c) for c in collect_stories(shop.domains.values())]
    assert [r.passed for r in results] == [True, True], "\n".join(r.report() for r in results)

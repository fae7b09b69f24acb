"""The cheap router decides the clear cases from the routes' own words."""

from __future__ import annotations

import pytest

from hub.crews.hub_crew import parse_route
from hub.crews.router import Router
from hub.domains.registry import DomainRegistry
from tests.conftest import SAMPLE_DOMAINS


@pytest.fixture(scope="module")
def registry() -> DomainRegistry:
    return DomainRegistry(SAMPLE_DOMAINS)


@pytest.mark.parametrize(
    ("domain_id", "message", "route"),
    [
        ("cosmetics", "Quanto custa o sérum de vitamina C?", "sales"),
        ("cosmetics", "Quero trocar um produto que veio com defeito", "support"),
        ("health", "Quero marcar uma consulta com a dermatologista", "scheduling"),
        ("health", "Preciso desmarcar minha consulta de amanhã", "scheduling"),
        ("health", "Quanto custa a consulta particular com cardiologista?", "sales"),
        ("health", "Qual o jejum para o exame de sangue?", "support"),
        ("retail", "Qual o status do pedido CC-2026-00020?", "support"),
        ("retail", "Vocês têm air fryer 220 V?", "sales"),
    ],
)
def test_clear_messages_are_routed_without_a_model(
    registry: DomainRegistry, domain_id: str, message: str, route: str
) -> None:
    routing = registry.get(domain_id).spec.routing
    score = Router(routing).score(message)
    assert score.best == route, score.scores
    assert score.confidence >= routing.min_confidence, score


def test_a_message_with_no_routable_words_has_no_confident_route(
    registry: DomainRegistry,
) -> None:
    score = Router(registry.get("retail").spec.routing).score("ok")
    assert score.best is None and score.confidence == 0.0


def test_the_scores_cover_every_route(registry: DomainRegistry) -> None:
    routing = registry.get("health").spec.routing
    assert set(Router(routing).score("consulta").scores) == set(routing.routes)


@pytest.mark.parametrize(
    ("answer", "route"),
    [
        ("sales", "sales"),
        ("A rota é: Support.", "support"),
        ("Final Answer: scheduling", "scheduling"),
        ("nenhuma", None),
        ("salesforce", None),
    ],
)
def test_the_route_named_by_a_model_is_read_as_a_whole_word(answer: str, route: str | None) -> None:
    assert parse_route(answer, ["sales", "support", "scheduling"]) == route

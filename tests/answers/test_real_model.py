"""With a real local model (Qwen2.5-Coder-1.5B on llama-server), no reply a customer
reads is a tool call, the agent's scaffolding, its instructions, or an invented fact.

A handful of turns covering the knowledge, a tool, a handoff and an English question;
`make bench` (`--only answers`) runs every story and the paraphrase set.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hub import language
from hub.crews.factory import CrewFactory
from hub.crews.stories import StoryCase, StoryRunner, collect_stories, prepare_database
from hub.domains.content import Expectation, Step, Story
from hub.domains.registry import DomainRegistry
from hub.settings import Settings
from tests import real_model
from tests.answers.audit import problems
from tests.conftest import SAMPLE_DOMAINS

pytestmark = [pytest.mark.integration, pytest.mark.real_model]

REGISTRY = DomainRegistry(SAMPLE_DOMAINS, reload_interval=float("inf"), log_problems=False)
NOW = datetime(2026, 12, 1, 10, 30, tzinfo=ZoneInfo("America/Sao_Paulo"))
"""A Tuesday morning: every sample business is open."""
SMOKE = (
    "retail/pedidos-e-entregas.yaml::horário de funcionamento das lojas",
    "retail/pedidos-e-entregas.yaml::pedido cancelado com reembolso",
    "retail/pedidos-e-entregas.yaml::cliente pede atendimento humano",
)
EXTRA = (("cosmetics", "Hi! How much is shipping, and when is it free?"),)
"""An English question over Portuguese knowledge. With SMOKE: knowledge, a tool, a
handoff and English, the fewest turns that cover them (each costs CI minutes)."""


def cases() -> list[StoryCase]:
    stories = {case.id: case for case in collect_stories(REGISTRY.domains.values())}
    found = [stories[name] for name in SMOKE]
    for domain_id, text in EXTRA:
        story = Story(name=text[:40], steps=[Step(customer=text, expect=Expectation())])
        found.append(StoryCase(domain_id, SAMPLE_DOMAINS / domain_id, story))
    return found


@pytest.fixture(scope="module")
def runner(real_model_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoryRunner]:
    root = tmp_path_factory.mktemp("real-stories")
    url = f"sqlite:///{root / 'business.sqlite3'}"
    prepare_database(url, REGISTRY.domains.values())
    settings = Settings(
        database_url=url,
        data_dir=root / "var",
        domains_dir=SAMPLE_DOMAINS,
        llm=real_model.MODEL,
        llm_base_url=real_model_url,
        llm_api_key="local",
        llm_timeout_seconds=real_model.TIMEOUT_SECONDS,
        llm_max_tokens=real_model.MAX_TOKENS,
    )
    factory = CrewFactory(REGISTRY, settings)
    yield StoryRunner(factory, now=NOW)
    factory.engine.dispose()


@pytest.mark.parametrize("case", cases(), ids=lambda case: case.id)
def test_no_reply_of_the_real_model_is_machinery_or_an_invented_fact(
    case: StoryCase, runner: StoryRunner
) -> None:
    domain = REGISTRY.get(case.domain_id)
    result = runner.run(case)
    customer: list[str] = []
    found = []
    for step in result.steps:
        if step.outcome is None:
            continue
        customer.append(step.customer)
        crew = step.outcome.result
        observations = crew.observations if crew is not None else ()
        wrong = problems(step.outcome.reply, domain, SAMPLE_DOMAINS, customer, observations)
        found += [f"step {step.number}: {w}: {step.outcome.reply[:160]!r}" for w in wrong]
        english = step.customer == EXTRA[0][1]  # the English question: answered in English
        if english and language.detect(step.outcome.reply) not in ("en", None):
            found.append(f"step {step.number}: not English: {step.outcome.reply[:160]!r}")
    assert found == []

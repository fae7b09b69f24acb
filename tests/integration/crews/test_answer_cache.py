"""The answer cache with the offline model on the sample domains and a real Redis: a
repeated knowledge question is served without the crew, never across a change of the
documents, never to a turn that leans on history or calls a tool, never with another
customer's name."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis
from ruamel.yaml import YAML

from hub.crews import hub_crew
from hub.crews.answer_cache import AnswerCache
from hub.crews.factory import CrewFactory
from hub.crews.stories import prepare_database
from hub.domains.registry import DomainRegistry
from hub.settings import Settings
from hub.turn import HubResult, Turn
from tests.conftest import SAMPLE_DOMAINS

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 1, 10, 30, tzinfo=ZoneInfo("America/Sao_Paulo"))
SATURDAY = "Até que horas vocês abrem no sábado?"
POLITE_SATURDAY = "Até que horas vocês abrem no sábado, por gentileza?"
"""The same question in other words (cosine 0.83 with MiniLM), the documents' words the same."""


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrewFactory]:
    """One factory on the sample domains for the tests that change no file: each domain
    is prepared once for them all."""
    root = tmp_path_factory.mktemp("answer-cache")
    url = f"sqlite:///{root / 'store.sqlite3'}"
    registry = DomainRegistry(SAMPLE_DOMAINS, reload_interval=float("inf"), log_problems=False)
    prepare_database(url, registry.domains.values())
    settings = Settings(
        domains_dir=SAMPLE_DOMAINS, data_dir=root / "var", database_url=url, embeddings="none"
    )
    factory = CrewFactory(registry, settings)
    yield factory
    factory.engine.dispose()


@pytest.fixture
def factory(shared: CrewFactory, redis_client: redis.Redis) -> CrewFactory:
    """The shared factory with an answer cache on this test's empty Redis."""
    shared.answers = AnswerCache(redis_client, shared.settings)
    return shared


@pytest.fixture
def domains(tmp_path: Path) -> Path:
    """A copy of the sample domains that a test may edit; the shop's knowledge cut to two
    documents, so that embedding it takes a moment."""
    copy = tmp_path / "domains"
    shutil.copytree(SAMPLE_DOMAINS, copy)
    for document in (copy / "cosmetics" / "knowledge").glob("*.md"):
        if document.name not in {"loja.md", "entregas.md"}:
            document.unlink()
    return copy


@pytest.fixture
def make_factory(
    tmp_path: Path, domains: Path, redis_client: redis.Redis
) -> Callable[..., CrewFactory]:
    """A factory on the editable copy, hot reload on (knowledge questions only: no store)."""

    def make(embeddings: str = "none") -> CrewFactory:
        registry = DomainRegistry(domains, reload_interval=0, log_problems=False)
        settings = Settings(
            domains_dir=domains,
            data_dir=tmp_path / "var",
            database_url=f"sqlite:///{tmp_path / 'unused.sqlite3'}",
            embeddings=embeddings,
        )
        return CrewFactory(registry, settings, answers=AnswerCache(redis_client, settings))

    return make


@pytest.fixture
def kickoffs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every crew kickoff of the test, by the crew's first agent's role."""
    seen: list[str] = []
    real = hub_crew.kickoff

    def counted(crew: Any, inputs: dict[str, str]) -> Any:
        seen.append(inputs["message"])
        return real(crew, inputs)

    monkeypatch.setattr(hub_crew, "kickoff", counted)
    return seen


def set_cache(domains: Path, domain: str, cache: dict[str, Any]) -> None:
    path = domains / domain / "domain.yaml"
    yaml = YAML()
    data = yaml.load(path.read_text(encoding="utf-8"))
    data["cache"] = cache
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(data, handle)


def ask(factory: CrewFactory, domain: str, message: str, **turn: Any) -> HubResult:
    return factory.hub(domain).run(Turn(message=message, now=NOW, **turn))


def test_a_repeated_question_is_answered_from_the_cache_without_the_crew(
    factory: CrewFactory, kickoffs: list[str]
) -> None:
    first = ask(factory, "retail", "Qual o horário de funcionamento das lojas?")
    second = ask(factory, "retail", "qual o horario de funcionamento das lojas")
    assert (first.cache, first.source) == ("store", "model")
    assert (second.cache, second.source, second.usage) == ("hit", "cache", {})
    assert second.reply == first.reply and "10:00" in second.reply
    assert second.route == first.route
    assert len(kickoffs) == 1


def test_two_customers_get_their_own_names_around_the_same_cached_answer(
    factory: CrewFactory, redis_client: redis.Redis
) -> None:
    maria = ask(factory, "cosmetics", SATURDAY, customer_name="Maria Souza")
    joao = ask(factory, "cosmetics", SATURDAY, customer_name="João Lima")
    assert (maria.cache, joao.cache) == ("store", "hit")
    assert maria.reply.startswith("Bom dia, Maria!") and joao.reply.startswith("Bom dia, João!")
    assert "Maria" not in joao.reply and "Souza" not in joao.reply
    assert "14:00" in joao.reply and joao.reply.endswith("Equipe Bela Pele")
    stored = " ".join(str(v) for key in redis_client.keys("*") for v in redis_client.hvals(key))
    assert "Maria" not in stored and "Bela Pele" not in stored, "stored before personalization"


def test_a_reply_holding_the_customers_name_is_not_stored(factory: CrewFactory) -> None:
    hub = factory.hub("retail")
    question = hub.answers.question(hub.kit, Turn(message="Qual o horário das lojas?"))  # type: ignore[union-attr]
    assert not isinstance(question, str)
    named = HubResult("Olá, Bruna! Abrimos às 10:00.", "support", "classifier", 1.0, 0.1)
    turn = Turn(message="Qual o horário das lojas?", customer_name="Bruna Alves")
    assert hub.answers.keep(question, turn, named, held=0) == "skip"  # type: ignore[union-attr]


def test_a_knowledge_change_invalidates_the_cached_answers_at_once(
    make_factory: Callable[..., CrewFactory], domains: Path
) -> None:
    factory = make_factory()
    assert ask(factory, "cosmetics", SATURDAY).cache == "store"
    assert ask(factory, "cosmetics", SATURDAY).cache == "hit"
    store = domains / "cosmetics" / "knowledge" / "loja.md"
    store.write_text(store.read_text(encoding="utf-8").replace("9:00 às 14:00", "9:00 às 15:00"))
    changed = ask(factory, "cosmetics", SATURDAY)
    assert changed.cache == "store"
    assert "15:00" in changed.reply and "14:00" not in changed.reply


def test_a_history_dependent_turn_is_never_served_from_the_cache(factory: CrewFactory) -> None:
    assert ask(factory, "cosmetics", "Qual o valor do frete?").cache == "store"
    history = (("customer", "Qual o valor do frete?"), ("bot", "O frete custa R$ 19,90."))
    follow = ask(factory, "cosmetics", "e esse valor vale pra Curitiba?", history=history)
    assert follow.cache == "skip" and follow.source != "cache"
    again = ask(factory, "cosmetics", "Qual o valor do frete?", history=history)
    assert again.cache == "hit", "a whole question is served in a conversation too"


def test_a_turn_computed_with_history_never_fills_the_cache(factory: CrewFactory) -> None:
    history = (("customer", "Oi"), ("bot", "Olá! Como posso ajudar?"))
    first = ask(factory, "cosmetics", "Qual o valor do frete?", history=history)
    assert first.cache == "miss"
    assert ask(factory, "cosmetics", "Qual o valor do frete?").cache == "store"


def test_a_tool_turn_is_never_served_from_the_cache(factory: CrewFactory) -> None:
    first = ask(factory, "retail", "quanto tá a air fryer?")
    second = ask(factory, "retail", "quanto tá a air fryer?")
    assert "product_search" in first.tool_calls and "product_search" in second.tool_calls
    assert (first.cache, second.cache) == ("miss", "miss")


def test_an_order_question_takes_no_part(factory: CrewFactory) -> None:
    result = ask(factory, "retail", "Qual a situação do pedido CC-2026-00020?")
    assert result.cache == "skip"


def test_a_domain_with_the_cache_off_never_hits_it(
    make_factory: Callable[..., CrewFactory], domains: Path, redis_client: redis.Redis
) -> None:
    set_cache(domains, "retail", {"answers": False})
    factory = make_factory()
    results = [ask(factory, "retail", "Qual o horário de funcionamento das lojas?") for _ in "ab"]
    assert [r.cache for r in results] == [None, None]
    assert [r.source for r in results] == ["model", "model"]
    assert redis_client.keys("chatwootai:answers:*") == []


def test_a_paraphrase_within_the_threshold_hits_and_a_different_question_does_not(
    make_factory: Callable[..., CrewFactory],
) -> None:
    factory = make_factory("auto")
    assert factory.hub("cosmetics").kit.library.embedder is not None, "MiniLM is installed"
    assert ask(factory, "cosmetics", SATURDAY).cache == "store"
    paraphrase = ask(factory, "cosmetics", POLITE_SATURDAY)
    assert (paraphrase.cache, paraphrase.source) == ("hit", "cache")
    assert "14:00" in paraphrase.reply
    sunday = ask(factory, "cosmetics", "Até que horas vocês abrem no domingo?")
    assert sunday.cache == "store" and sunday.source == "model"


def test_a_paraphrase_below_the_domains_threshold_misses(
    make_factory: Callable[..., CrewFactory], domains: Path
) -> None:
    set_cache(domains, "cosmetics", {"threshold": 1.0})
    factory = make_factory("auto")
    assert ask(factory, "cosmetics", SATURDAY).cache == "store"
    polite = ask(factory, "cosmetics", POLITE_SATURDAY)
    assert polite.cache in {"miss", "store"} and polite.source != "cache"


def test_a_corrupt_entry_in_redis_is_a_miss_not_an_error(
    factory: CrewFactory, redis_client: redis.Redis
) -> None:
    hub = factory.hub("retail")
    question = hub.answers.question(hub.kit, Turn(message="Qual o horário das lojas?"))  # type: ignore[union-attr]
    assert not isinstance(question, str)
    redis_client.hset(question.bucket, question.form, "{not json")
    redis_client.hset(question.bucket, "other words", '{"reply": 3}')
    assert ask(factory, "retail", "Qual o horário das lojas?").cache in {"store", "miss"}

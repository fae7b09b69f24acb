"""No tenant ever sees another's data: with every domain's chunks and rows loaded in the
same Qdrant and the same database, the same question asked in two domains returns only
each domain's own passages, rows and tool results."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.crews.factory import CrewFactory
from hub.crews.tools import build_tools
from hub.domains.registry import DomainRegistry
from hub.settings import Settings
from hub.store.database import create_engine, session_scope
from hub.store.migrate import upgrade
from hub.store.products import search_products
from hub.store.seed import seed
from hub.turn import TurnContext
from tests.conftest import SAMPLE_DOMAINS

pytestmark = pytest.mark.integration

DOMAINS = ("cosmetics", "retail", "health")


@pytest.fixture(scope="module")
def factory(tmp_path_factory: pytest.TempPathFactory) -> CrewFactory:
    tmp = tmp_path_factory.mktemp("isolation")
    url = f"sqlite:///{tmp / 'business.sqlite3'}"
    upgrade(url)
    registry = DomainRegistry(SAMPLE_DOMAINS, reload_interval=float("inf"))
    with session_scope(create_engine(url)) as session:
        for domain_id in DOMAINS:
            seed(session, registry.get(domain_id))
    settings = Settings(
        database_url=url,
        data_dir=tmp / "var",
        domains_dir=SAMPLE_DOMAINS,
        embeddings="auto",  # hybrid search, as in production (the suite defaults to sparse)
    )
    factory = CrewFactory(registry, settings)
    factory.warm()  # every domain's chunks now sit in the one knowledge base
    return factory


def tool(factory: CrewFactory, domain_id: str, name: str, phone: str = ""):  # type: ignore[no-untyped-def]
    kit = factory.kit(factory.registry.get(domain_id))
    context = TurnContext(domain_id=domain_id, contact_phone=phone)
    (found,) = build_tools([name], kit, context, factory.engine)
    return found


def own_texts(factory: CrewFactory, domain_id: str) -> set[str]:
    return {chunk.text for chunk in factory.registry.get(domain_id).knowledge_chunks()}


@pytest.mark.parametrize(
    "question",
    [
        "Qual o horário de funcionamento?",
        "Vocês têm protetor solar?",
        "Qual o status do pedido CC-2026-00020?",
        "Quero marcar consulta com a dermatologista",
    ],
)
def test_the_same_question_returns_only_each_domain_s_own_passages(
    factory: CrewFactory, question: str
) -> None:
    answers = {}
    for domain_id in DOMAINS:
        library = factory.kit(factory.registry.get(domain_id)).library
        hits = library.search(question, k=8)
        assert {hit.chunk.domain_id for hit in hits} <= {domain_id}
        assert {hit.chunk.text for hit in hits} <= own_texts(factory, domain_id)
        answers[domain_id] = tool(factory, domain_id, "knowledge_search").run(query=question)
    for domain_id, output in answers.items():
        for other in set(DOMAINS) - {domain_id}:
            foreign = own_texts(factory, other) - own_texts(factory, domain_id)
            assert not any(text in output for text in foreign), (domain_id, other)


def test_catalogue_rows_and_product_tools_stay_inside_their_domain(factory: CrewFactory) -> None:
    with session_scope(factory.engine) as session:
        assert search_products(session, "cosmetics", "protetor solar", limit=5)
        assert not search_products(session, "retail", "protetor solar", limit=5)
    assert "BP-002" in tool(factory, "cosmetics", "product_search").run(query="protetor solar")
    retail_answer = tool(factory, "retail", "product_search").run(query="protetor solar")
    assert "BP-" not in retail_answer
    assert "Protetor" not in tool(factory, "retail", "product_lookup").run(sku="BP-002")


def test_an_order_of_one_domain_is_not_found_from_another(factory: CrewFactory) -> None:
    owner = "+5511987654320"  # the order's own phone: only the domain stands in the way
    retail = tool(factory, "retail", "order_status", owner)
    assert "cancelado" in retail.run(order_number="CC-2026-00020")
    from_cosmetics = tool(factory, "cosmetics", "order_status", owner).run(
        order_number="CC-2026-00020"
    )
    assert "cancelado" not in from_cosmetics.lower()


def test_a_clinic_s_free_slots_are_not_offered_by_a_shop(factory: CrewFactory) -> None:
    assert "Carla Mendes" in tool(factory, "health", "appointment_slots").run(who="dermatologia")
    assert "Carla Mendes" not in tool(factory, "retail", "appointment_slots").run(
        who="dermatologia"
    )


def test_a_tool_never_reads_the_domain_from_its_arguments(factory: CrewFactory) -> None:
    search = tool(factory, "retail", "product_search")
    answer = search.run(query="protetor solar", domain="cosmetics", domain_id="cosmetics")
    assert "BP-" not in answer


def test_tenant_isolation_holds_for_a_local_and_a_fresh_process_copy(tmp_path: Path) -> None:
    # A second factory (a second worker) re-opens the same local folder: same guarantees.
    settings = Settings(data_dir=tmp_path / "var", domains_dir=SAMPLE_DOMAINS, embeddings="none")
    registry = DomainRegistry(SAMPLE_DOMAINS, reload_interval=float("inf"))
    for _ in range(2):
        library = CrewFactory(registry, settings).kit(registry.get("health")).library
        assert {h.chunk.domain_id for h in library.search("horário de funcionamento", k=10)} == {
            "health"
        }

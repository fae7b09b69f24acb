"""CrewFactory: a domain's HubCrew per message, from a kit prepared once per domain version.

What is costly or worth checking once (the knowledge index, the router,
CrewAI's own validation of every agent and task) is prepared per domain at its
first message (or at start, `warm`) and again only when the domain's files
change; the crews themselves are built fresh for every run (`hub.crews.builder`).
Prepared kits are kept most recently served first, at most `CHATWOOTAI_KITS_MAX`
of them (and, with `CHATWOOTAI_KITS_MAX_MB`, fewer while the process is above
that memory), so a worker's memory does not grow with the number of tenants.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import OrderedDict

import structlog

from hub import defaults
from hub.crews.answer_cache import AnswerCache
from hub.crews.builder import CrewBuilder
from hub.crews.hub_crew import HubCrew
from hub.crews.kit import DomainKit
from hub.crews.llm import warm as warm_model
from hub.crews.router import Router
from hub.crews.runtime import prepare_crewai
from hub.crews.tools import IMPLEMENTED
from hub.domains.domain import Domain
from hub.domains.registry import DomainRegistry
from hub.exceptions import ChatwootAIError, CrewError
from hub.knowledge.base import DomainKnowledge, KnowledgeBase, SyncReport
from hub.knowledge.chunking import Chunk
from hub.knowledge.lexical import LexicalIndex
from hub.patches.gc import refreeze_heap
from hub.plugins.manager import PluginHost
from hub.settings import Settings
from hub.store.database import get_engine
from hub.turn import TurnContext

log = structlog.get_logger(__name__)


class CrewFactory:
    """Builds HubCrews and spoke crews for any domain of the registry."""

    def __init__(
        self,
        registry: DomainRegistry,
        settings: Settings,
        plugins: PluginHost | None = None,
        answers: AnswerCache | None = None,
    ) -> None:
        prepare_crewai(settings)
        self.registry = registry
        self.settings = settings
        self.plugins = plugins or PluginHost.from_settings(settings)
        """The process's plugins: hooks around each turn, and tools for the agents."""
        self._kits: OrderedDict[str, DomainKit] = OrderedDict()
        """Prepared kits, the least recently served first."""
        self._frozen: set[str] = set()
        """Kits prepared before the heap was frozen (`warm`): dropping one needs a thaw."""
        self._lock = threading.Lock()
        self.knowledge_base = KnowledgeBase.from_settings(settings)
        # Tools open short transactions on it; connecting is lazy (no I/O here).
        self.engine = get_engine(settings)
        self.builder = CrewBuilder(self.plugins, self.engine)
        self.answers = answers
        """The answer cache the HubCrews share (None: every turn runs the crew)."""

    def warm_at_start(self) -> dict[str, CrewError]:
        """What `CHATWOOTAI_KITS_WARM` asks of a starting worker: every domain prepared
        now (`all`, or `auto` with few domains), or none; return failures."""
        mode, count = self.settings.kits_warm, len(self.registry.domains)
        if mode == "all" or (mode == "auto" and count <= defaults.KITS_WARM_AUTO_MAX):
            return self.warm()
        return {}

    @property
    def prepared(self) -> tuple[str, ...]:
        """The ids of the kits held now, the least recently served first."""
        return tuple(self._kits)

    def warm(self) -> dict[str, CrewError]:
        """Prepare and check every domain now, not at its first message; return failures.

        Only the `CHATWOOTAI_KITS_MAX` most recent stay prepared."""
        failures: dict[str, CrewError] = {}
        for domain in self.registry.domains.values():
            try:
                self.kit(domain)
            except ChatwootAIError as error:  # crews CrewAI refuses, unreadable knowledge
                failures[domain.id] = CrewError(str(error))
                log.error("domain crews invalid", domain=domain.id, error=str(error))
                continue
            try:
                warm_model(domain, self.settings)
            except Exception as error:  # start-up goes on; the first turn hands off if it must
                log.warning("model not warmed", domain=domain.id, error=str(error)[:200])
        return failures

    def kit(self, domain: Domain) -> DomainKit:
        """The prepared kit of this domain version (rebuilt when its files changed)."""
        kit = self._kits.get(domain.id)
        if kit is not None and kit.domain.fingerprint == domain.fingerprint:
            self._served(domain.id)
            return kit
        with self._lock:
            kit = self._kits.get(domain.id)
            if kit is None or kit.domain.fingerprint != domain.fingerprint:
                kit = self._prepare(domain)
                thaw = domain.id in self._frozen
                self._frozen.discard(domain.id)
                self._kits[domain.id] = kit
                self._kits.move_to_end(domain.id)
                thaw = self._evict() or thaw
                if thaw:
                    refreeze_heap()
        return kit

    def prepared_kit(self, domain_id: str) -> DomainKit | None:
        """The kit prepared for the domain so far, if any (nothing is prepared here)."""
        return self._kits.get(domain_id)

    def mark_frozen(self) -> None:
        """The process froze its heap (`hub.patches.gc`) with these kits in it."""
        self._frozen = set(self._kits)

    def _served(self, domain_id: str) -> None:
        with contextlib.suppress(KeyError):  # dropped meanwhile: prepared again next time
            self._kits.move_to_end(domain_id)

    def _evict(self) -> bool:
        """Drop the least recently served kits beyond the bounds (never the newest one);
        True when one of them sat in the frozen heap."""
        thaw = False
        limit_mb = self.settings.kits_max_mb
        while len(self._kits) > 1 and (
            len(self._kits) > self.settings.kits_max
            or (limit_mb is not None and resident_mb() > limit_mb)
        ):
            dropped, _kit = self._kits.popitem(last=False)
            thaw = thaw or dropped in self._frozen
            self._frozen.discard(dropped)
            log.info("domain kit dropped", domain=dropped, kept=len(self._kits))
            if limit_mb is not None and len(self._kits) <= self.settings.kits_max:
                break  # one per new kit: memory is returned to the system lazily
        return thaw

    def _prepare(self, domain: Domain) -> DomainKit:
        chunks = domain.knowledge_chunks()
        library, synced = self._library(domain, chunks)
        kit = DomainKit(
            domain=domain,
            router=Router(domain.spec.routing),
            knowledge=LexicalIndex.build(chunks),
            library=library,
            synced=synced,
        )
        from hub.offline.model import OfflineLLM

        probe = OfflineLLM(kit.knowledge, question="", unknown_reply=".")
        for crew_name in domain.spec.crews:
            # CrewAI validates agents, tasks and tools here, not at the first message.
            self.builder.build(kit, crew_name, probe, TurnContext(domain_id=domain.id))
        missing = sorted(
            {
                tool
                for crew in domain.spec.crews.values()
                for agent in crew.agents.values()
                for tool in agent.tools
            }
            - IMPLEMENTED
            - set(self.plugins.declared_tools(domain))
        )
        if missing:
            log.warning(
                "tools not available yet; agents run without them", domain=domain.id, tools=missing
            )
        log.info(
            "domain crews ready",
            domain=domain.id,
            crews=sorted(domain.spec.crews),
            chunks=len(kit.knowledge),
            retrieval=kit.library.mode,
        )
        self.plugins.domain_ready(domain)
        return kit

    def _library(
        self, domain: Domain, chunks: list[Chunk]
    ) -> tuple[DomainKnowledge, SyncReport | None]:
        """The domain's knowledge base, synced now, and what the sync did; the in-process
        index (and no report) if Qdrant fails."""
        try:
            library, report = self.knowledge_base.open(
                domain.id, chunks, cached=domain.spec.cache.retrieval
            )
        except Exception as error:  # an unreachable server, a broken local folder
            log.error(
                "knowledge base unavailable; knowledge_search uses the in-process index",
                domain=domain.id,
                location=self.knowledge_base.location,
                error=f"{type(error).__name__}: {str(error)[:300]}",
            )
            return DomainKnowledge.unavailable(domain.id, chunks), None
        return library, report

    def hub(self, domain_id: str) -> HubCrew:
        """The HubCrew of a serving domain (its current version)."""
        self.registry.maybe_reload()
        domain = self.registry.get(domain_id)
        return HubCrew(self.builder, self.kit(domain), self.plugins, self.settings, self.answers)


def resident_mb() -> float:
    """This process's resident memory in MB (Linux; 0 where /proc is missing)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            pages = int(handle.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6

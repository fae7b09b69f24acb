"""CrewFactory: a domain's HubCrew per message, from a kit prepared once per domain version.

What is costly or worth checking once (the knowledge index, the router,
CrewAI's own validation of every agent and task) is prepared per domain at
start and again only when the domain's files change; the crews themselves are
built fresh for every run (`hub.crews.builder`).
"""

from __future__ import annotations

import threading

import structlog

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
from hub.knowledge.base import DomainKnowledge, KnowledgeBase
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
        self._kits: dict[str, DomainKit] = {}
        self._lock = threading.Lock()
        self.knowledge_base = KnowledgeBase.from_settings(settings)
        # Tools open short transactions on it; connecting is lazy (no I/O here).
        self.engine = get_engine(settings)
        self.builder = CrewBuilder(self.plugins, self.engine)
        self.answers = answers
        """The answer cache the HubCrews share (None: every turn runs the crew)."""

    def warm(self) -> dict[str, CrewError]:
        """Prepare and check every domain now, not at its first message; return failures."""
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
            return kit
        with self._lock:
            kit = self._kits.get(domain.id)
            if kit is None or kit.domain.fingerprint != domain.fingerprint:
                replaced = kit is not None
                kit = self._prepare(domain)
                self._kits[domain.id] = kit
                if replaced:
                    refreeze_heap()
        return kit

    def _prepare(self, domain: Domain) -> DomainKit:
        chunks = domain.knowledge_chunks()
        kit = DomainKit(
            domain=domain,
            router=Router(domain.spec.routing),
            knowledge=LexicalIndex.build(chunks),
            library=self._library(domain, chunks),
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

    def _library(self, domain: Domain, chunks: list[Chunk]) -> DomainKnowledge:
        """The domain's knowledge base, synced now; the in-process index if Qdrant fails."""
        try:
            library, _report = self.knowledge_base.open(
                domain.id, chunks, cached=domain.spec.cache.retrieval
            )
        except Exception as error:  # an unreachable server, a broken local folder
            log.error(
                "knowledge base unavailable; knowledge_search uses the in-process index",
                domain=domain.id,
                location=self.knowledge_base.location,
                error=f"{type(error).__name__}: {str(error)[:300]}",
            )
            return DomainKnowledge.unavailable(domain.id, chunks)
        return library

    def hub(self, domain_id: str) -> HubCrew:
        """The HubCrew of a serving domain (its current version)."""
        self.registry.maybe_reload()
        domain = self.registry.get(domain_id)
        return HubCrew(self.builder, self.kit(domain), self.plugins, self.settings, self.answers)

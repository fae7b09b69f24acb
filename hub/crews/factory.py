"""CrewFactory: fresh CrewAI crews per message, from config validated once.

A Crew is not safe to share between threads, and a copy of one that already ran
keeps its old inputs, so every message gets new Agent/Task/Crew objects (about a
millisecond). What is costly or worth checking once (the knowledge index, the
router, CrewAI's own validation of every agent and task) is prepared per domain
at start and again only when the domain's files change.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog

from hub.crews.llm import TurnModels
from hub.crews.llm import warm as warm_model
from hub.crews.router import Router
from hub.crews.runtime import prepare_crewai
from hub.crews.tools import IMPLEMENTED, TurnContext, build_tools
from hub.domains.domain import Domain
from hub.domains.registry import DomainRegistry
from hub.exceptions import ChatwootAIError, CrewError
from hub.knowledge.base import DomainKnowledge, KnowledgeBase
from hub.knowledge.chunking import Chunk, load_domain_chunks
from hub.knowledge.lexical import LexicalIndex
from hub.patches.gc import refreeze_heap
from hub.plugins.manager import PluginHost
from hub.settings import Settings
from hub.store.database import get_engine

if TYPE_CHECKING:
    from crewai import Crew
    from crewai.llms.base_llm import BaseLLM

    from hub.crews.hub_crew import HubCrew

log = structlog.get_logger(__name__)

MODEL_ATTEMPTS = 2
"""Tries per model call, counting CrewAI's agent-level retry (the client itself does not
retry): a turn's worst case stays near twice the model timeout, not a dozen times."""

DEFAULT_MAX_ITER = 5
"""Agent reasoning steps when the YAML does not say: enough for a tool call or two."""


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


class CrewFactory:
    """Builds HubCrews and spoke crews for any domain of the registry."""

    def __init__(
        self, registry: DomainRegistry, settings: Settings, plugins: PluginHost | None = None
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
        chunks = load_domain_chunks(domain)
        kit = DomainKit(
            domain=domain,
            router=Router(domain.spec.routing),
            knowledge=LexicalIndex.build(chunks),
            library=self._library(domain, chunks),
        )
        from hub.crews.offline import OfflineLLM

        probe = OfflineLLM(kit.knowledge, question="", unknown_reply=".")
        for crew_name in domain.spec.crews:
            # CrewAI validates agents, tasks and tools here, not at the first message.
            self.build(kit, crew_name, probe, TurnContext(domain_id=domain.id))
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
            library, _report = self.knowledge_base.open(domain.id, chunks)
        except Exception as error:  # an unreachable server, a broken local folder
            log.error(
                "knowledge base unavailable; knowledge_search uses the in-process index",
                domain=domain.id,
                location=self.knowledge_base.location,
                error=f"{type(error).__name__}: {str(error)[:300]}",
            )
            return DomainKnowledge.unavailable(domain.id, chunks)
        return library

    def build(
        self,
        kit: DomainKit,
        crew_name: str,
        llm: BaseLLM | TurnModels,
        context: TurnContext | None = None,
    ) -> Crew:
        """A new Crew for one run: fresh agents, tasks and tools (bound to `context`).

        With `TurnModels`, an agent that names its own `llm` in the YAML gets that
        model; a single model serves every agent.
        """
        from crewai import Agent, Process, Task

        from hub.crews.service_crew import ServiceCrew

        def model(name: str | None) -> BaseLLM:
            return llm(name) if isinstance(llm, TurnModels) else llm

        spec = kit.domain.spec.crews.get(crew_name)
        if spec is None:
            raise CrewError(f"domain {kit.domain.id!r} has no crew {crew_name!r}")
        try:
            agents = {
                name: Agent(
                    role=agent.role,
                    goal=agent.goal,
                    backstory=agent.backstory,
                    tools=self._tools(kit, crew_name, name, agent.tools, context),
                    allow_delegation=agent.allow_delegation,
                    max_iter=agent.max_iter or DEFAULT_MAX_ITER,
                    verbose=agent.verbose,
                    llm=model(agent.llm),
                    max_retry_limit=MODEL_ATTEMPTS - 1,
                )
                for name, agent in spec.agents.items()
            }
            tasks: dict[str, Any] = {}
            for name, task in spec.tasks.items():
                tasks[name] = Task(
                    description=task.description,
                    expected_output=task.expected_output,
                    agent=agents[task.agent],
                    context=[tasks[c] for c in task.context] if task.context else None,
                    tools=build_tools(task.tools, kit, context, self.engine)
                    if context and task.tools
                    else None,
                )
            process = Process.hierarchical if spec.process == "hierarchical" else Process.sequential
            return ServiceCrew(
                agents=list(agents.values()),
                tasks=list(tasks.values()),
                process=process,
                verbose=False,
                manager_llm=model(None) if process == Process.hierarchical else None,
            )
        except (ValueError, TypeError) as error:  # pydantic ValidationError is a ValueError
            raise CrewError(f"crew {crew_name!r} of {kit.domain.id!r}: {error}") from error

    def _tools(
        self, kit: DomainKit, crew: str, agent: str, listed: list[str], context: TurnContext | None
    ) -> list[Any]:
        """The agent's built-in tools, then what the domain's plugins give it."""
        if context is None:
            return []
        return [
            *build_tools(listed, kit, context, self.engine),
            *self.plugins.agent_tools(
                kit.domain, crew=crew, agent=agent, listed=listed, context=context
            ),
        ]

    def hub(self, domain_id: str) -> HubCrew:
        """The HubCrew of a serving domain (its current version)."""
        from hub.crews.hub_crew import HubCrew

        self.registry.maybe_reload()
        domain = self.registry.get(domain_id)
        return HubCrew(self, self.kit(domain))

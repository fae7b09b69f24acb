"""CrewBuilder: fresh CrewAI agents, tasks and crews for one run, from a domain's kit.

A Crew is not safe to share between threads, and a copy of one that already ran
keeps its old inputs, so every run gets new Agent/Task/Crew objects, bound to
the turn's context (its tools record their calls there).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hub.crews.kit import DomainKit
from hub.crews.layout import stable_first
from hub.crews.llm import TurnModels
from hub.crews.tools import build_tools
from hub.crews.tools.tracing import traced
from hub.exceptions import CrewError
from hub.turn import PassageData, TurnContext

if TYPE_CHECKING:
    from crewai import Crew
    from crewai.llms.base_llm import BaseLLM
    from sqlalchemy.engine import Engine

    from hub.plugins.manager import PluginHost

MODEL_ATTEMPTS = 2
"""Tries per model call, counting CrewAI's agent-level retry (the client itself does not
retry): a turn's worst case stays near twice the model timeout, not a dozen times."""

DEFAULT_MAX_ITER = 5
"""Agent reasoning steps when the YAML does not say: enough for a tool call or two."""


class CrewBuilder:
    """Builds the crews of any domain kit, with the built-in tools and the plugins' tools."""

    def __init__(self, plugins: PluginHost, engine: Engine) -> None:
        self.plugins = plugins
        self.engine = engine

    def build(
        self,
        kit: DomainKit,
        crew_name: str,
        llm: BaseLLM | TurnModels,
        context: TurnContext | None = None,
        shown: tuple[PassageData, ...] = (),
    ) -> Crew:
        """A new Crew for one run: fresh agents, tasks and tools (bound to `context`;
        `shown`: the knowledge passages the prompt already holds).

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
                    tools=self._tools(kit, crew_name, name, agent.tools, context, shown),
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
                    description=_laid_out(task.description, agents[task.agent].llm),
                    expected_output=task.expected_output,
                    agent=agents[task.agent],
                    context=[tasks[c] for c in task.context] if task.context else None,
                    tools=[
                        traced(t, context)
                        for t in build_tools(task.tools, kit, context, self.engine, shown)
                    ]
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
        self,
        kit: DomainKit,
        crew: str,
        agent: str,
        listed: list[str],
        context: TurnContext | None,
        shown: tuple[PassageData, ...] = (),
    ) -> list[Any]:
        """The agent's built-in tools, then what the domain's plugins give it."""
        if context is None:
            return []
        tools = [
            *build_tools(listed, kit, context, self.engine, shown),
            *self.plugins.agent_tools(
                kit.domain, crew=crew, agent=agent, listed=listed, context=context
            ),
        ]
        return [traced(tool, context) for tool in tools]


def _laid_out(description: str, llm: object) -> str:
    """The task's text as its agent's model reads it best: as written for the offline
    model (it finds the message by its labels), the per-turn paragraphs last for a real
    one (`hub.crews.layout`: the server reuses the prompt's stable start)."""
    from hub.offline.model import OfflineLLM

    return description if isinstance(llm, OfflineLLM) else stable_first(description)

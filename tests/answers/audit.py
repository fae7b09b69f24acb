"""An independent look at a posted reply: is it the model's machinery, or a fact the
business never stated?

The reply gate screens each reply against the turn's own evidence; this audit
checks what was finally posted against everything the business states (its
knowledge documents, its seed data, its fixed messages), the customer's texts and
the tools' answers of that turn. The real-model smoke test and the answers bench
count a reply with any problem here as a failure of the gate.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from hub.crews.facts import Evidence
from hub.crews.screen import Screen
from hub.crews.tools import IMPLEMENTED
from hub.domains.domain import Domain

MACHINERY = ("empty", "tool_call", "scaffolding", "recital")


def corpus(domain: Domain, root: Path) -> list[str]:
    """Every text the business states: knowledge (inherited too), seed data, messages."""
    texts = [chunk.text for chunk in domain.knowledge_chunks()]
    texts += [chunk.heading for chunk in domain.knowledge_chunks()]
    for folder in {domain.directory, *(root / link for link in domain.chain)}:
        for path in sorted((folder / "data").glob("*.yaml")):
            texts.append(path.read_text(encoding="utf-8"))
    texts += [str(v) for v in domain.spec.messages.model_dump().values()]
    texts += [rule.reply for rule in domain.spec.handoff.rules]
    texts.append(domain.spec.name)
    return texts


def problems(
    reply: str, domain: Domain, root: Path, customer: Iterable[str], observations: Iterable[str]
) -> list[str]:
    """What is wrong with `reply` (empty when nothing): a gate reason, and for a fact
    the fact itself (`unsupported_fact: rua x`)."""
    crews = domain.spec.crews.values()
    instructions = tuple(
        text
        for crew in crews
        for agent in crew.agents.values()
        for text in (agent.role, agent.goal, agent.backstory)
    ) + tuple(
        text for crew in crews for task in crew.tasks.values() for text in (task.description,)
    )
    stated = [chunk.text for chunk in domain.knowledge_chunks()]
    stated += [str(v) for v in domain.spec.messages.model_dump().values()]
    gate = Screen(
        evidence=Evidence(
            [*corpus(domain, root), *observations], customer=list(customer), documents=stated
        ),
        instructions=instructions,
        tools=frozenset(IMPLEMENTED),
    )
    verdict = gate(reply)
    if verdict.passed:
        return []
    return [f"{verdict.reason}: {verdict.detail}" if verdict.detail else str(verdict.reason)]

"""What a real model's turn is grounded on: the passages in its prompt, and the gate's
evidence and instructions.

A model that calls no tool still answers from facts when the best passages of the
domain's knowledge for the question are in its prompt (`prompt_notes`); tools stay
for live data (stock, orders, slots). The same passages, with the tools' results,
the domain's fixed messages and the customer's own texts, are what the reply gate
(`hub.crews.screen`) accepts facts from (`screen_for`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hub import language
from hub.crews.facts import Evidence
from hub.crews.screen import Screen
from hub.crews.tools import IMPLEMENTED
from hub.turn import PassageData, Retrieved, Turn, TurnContext

if TYPE_CHECKING:
    from hub.crews.kit import DomainKit

PROMPT_PASSAGES = 3
"""Passages of the knowledge put in a real model's prompt, best first."""
PASSAGE_CHARS = 900
"""Each passage is cut to this many characters: a small model reads slowly."""

LANGUAGE_NAMES = {"pt": "português do Brasil", "en": "English", "es": "español"}
PASSAGES_HEADER = (
    "Trechos dos documentos da empresa sobre a mensagem, já buscados na base para você "
    "(use só fatos que aparecem aqui ou nos resultados das ferramentas; se não bastarem, "
    "diga que não sabe):"
)
LANGUAGE_NOTE = "Responda ao cliente em {name}."


@dataclass(frozen=True)
class Grounding:
    """The passages retrieved for the turn's question and the language to answer in."""

    passages: tuple[PassageData, ...]
    language: str
    scores: tuple[float, ...] = ()
    """Each passage's search score, in the same order."""

    def retrieved(self) -> tuple[Retrieved, ...]:
        """The passages as the turn's trace holds them."""
        return tuple(
            Retrieved(p.source, p.heading, score, p.text, "grounding")
            for p, score in zip(self.passages, self.scores, strict=False)
        )

    def notes(self) -> tuple[str, ...]:
        """The prompt's lines: the passages under their header, then the language."""
        notes: list[str] = []
        if self.passages:
            body = "\n\n".join(
                f"[{p.source} — {p.heading}]\n{p.text[:PASSAGE_CHARS]}" for p in self.passages
            )
            notes.append(f"{PASSAGES_HEADER}\n{body}")
        name = LANGUAGE_NAMES.get(self.language, self.language)
        notes.append(LANGUAGE_NOTE.format(name=name))
        return tuple(notes)


def ground(kit: DomainKit, turn: Turn) -> Grounding:
    """The best passages for the turn's message, and the customer's language (the
    domain's when the message does not tell)."""
    hits = kit.library.search(turn.message, k=PROMPT_PASSAGES)
    passages = tuple(
        PassageData(hit.chunk.source, hit.chunk.heading, hit.chunk.text) for hit in hits
    )
    return Grounding(
        passages,
        language.choose(turn.message, kit.domain.spec.language),
        tuple(hit.score for hit in hits),
    )


def screen_for(
    kit: DomainKit,
    crew_name: str,
    turn: Turn,
    grounding: Grounding,
    context: TurnContext,
    inputs: Mapping[str, str],
) -> Screen:
    """The gate for this turn's replies: its evidence as it stands now (the tools'
    results so far included), the crew's instructions, the tool names."""
    spec = kit.domain.spec
    crew = spec.crews[crew_name]
    instructions = [
        text for agent in crew.agents.values() for text in (agent.role, agent.goal, agent.backstory)
    ] + [text for task in crew.tasks.values() for text in (task.description, task.expected_output)]
    tools = set(IMPLEMENTED)
    tools.update(name for agent in crew.agents.values() for name in agent.tools)
    tools.update(name for task in crew.tasks.values() for name in task.tools)
    tools.update(context.tool_calls)
    return Screen(
        evidence=Evidence(
            evidence(turn, grounding, context, inputs, _messages(kit)),
            customer=[turn.message, *(text for _, text in turn.history)],
            documents=documents(grounding, context, _messages(kit)),
        ),
        instructions=tuple(instructions),
        tools=frozenset(tools),
        language=grounding.language,
        detect=language.detect,
    )


def evidence(
    turn: Turn,
    grounding: Grounding,
    context: TurnContext,
    inputs: Mapping[str, str],
    messages: Iterable[str],
) -> list[str]:
    """Every text a reply's facts may come from."""
    return [
        *(p.text for p in grounding.passages),
        *(f"{p.heading}\n{p.text}" for r in context.results for p in _passages(r.data)),
        *(result.text for result in context.results),
        *messages,
        *(inputs.get(key, "") for key in ("now", "business_name", "customer_name", "context")),
    ]


def documents(grounding: Grounding, context: TurnContext, messages: Iterable[str]) -> list[str]:
    """What the business itself states in the turn: the passages of its documents (in the
    prompt or found by `knowledge_search`) and its fixed messages."""
    return [
        *(p.text for p in grounding.passages),
        *(p.text for r in context.results for p in _passages(r.data)),
        *messages,
    ]


def _passages(data: object) -> tuple[PassageData, ...]:
    return tuple(getattr(data, "passages", ()) or ())


def _messages(kit: DomainKit) -> list[str]:
    """The domain's fixed texts (with any translations they carry)."""
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, Mapping):
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list | tuple):
            for inner in value:
                walk(inner)

    walk(kit.domain.spec.messages.model_dump())
    walk([rule.reply for rule in kit.domain.spec.handoff.rules])
    return found

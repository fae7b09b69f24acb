"""The reply gate: what a model wrote is screened before a customer can read it.

A reply is rejected, with one reason, when it is

    empty           nothing a customer could read
    tool_call       a tool call written as text (JSON, `<tool_call>`, a function object)
    scaffolding     the agent loop's frame: "Thought:", "Action:", "Observation:"…
    recital         the agent's instructions or tool names said back to the customer
    language        written in another language than the customer's
    unsupported_fact a price, time, date, phone, address, code or percentage that none
                    of the turn's passages, tool results, domain messages or the
                    customer's own texts state

(and `tool_loop`, set by the caller: CrewAI stopped the agent for repeating a tool
call that made no progress, so there is no reply to screen).

`screen` is pure: the caller (`hub.crews.hub_crew`) gathers the turn's `Evidence`
and decides what a rejection leads to (one retry with the reason, then the
offline model's answer, then the domain's unknown message).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from hub.crews.facts import Evidence, fold
from hub.crews.toolcalls import looks_like_a_call

Reason = Literal[
    "empty", "tool_call", "scaffolding", "recital", "language", "unsupported_fact", "tool_loop"
]
REASONS: tuple[Reason, ...] = (
    "tool_loop",
    "empty",
    "tool_call",
    "scaffolding",
    "recital",
    "language",
    "unsupported_fact",
)

RECITAL_WORDS = 7
"""A run of this many words shared with the agent's instructions (and found in no
passage) is the prompt said back."""

_SCAFFOLDING = re.compile(
    r"(?im)^\s*(?:thought|action|action input|observation|final answer|pensamento|"
    r"a[cç][aã]o|observa[cç][aã]o|resposta final)\s*:"
)
_TAGS = re.compile(r"</?(?:tool_call|tool_response|function|tools|think)>", re.IGNORECASE)
_WORDS = re.compile(r"[a-z0-9]+")

FIX = {
    "tool_loop": (
        "você repetiu a mesma chamada de ferramenta sem avançar; não chame ferramentas com "
        "dados que o cliente não deu, e responda com os trechos acima"
    ),
    "empty": "a resposta veio vazia",
    "tool_call": (
        "a resposta era uma chamada de ferramenta em texto; para usar uma ferramenta use o "
        "protocolo, e para o cliente escreva só a resposta"
    ),
    "scaffolding": "a resposta trazia o formato interno (Thought/Action); escreva só a resposta",
    "recital": (
        "a resposta repetia as suas instruções ou nomes de ferramentas; responda só o que o "
        "cliente perguntou"
    ),
    "language": "a resposta estava em outro idioma; responda no idioma do cliente",
    "unsupported_fact": (
        "a resposta afirmava {facts}, que não aparece nos trechos nem nos resultados das "
        "ferramentas; use só fatos que aparecem neles, ou diga que não sabe"
    ),
}
"""What the retry tells the model about its rejected reply, by reason."""


@dataclass(frozen=True)
class Verdict:
    """The gate's answer: `reason` None when the reply may be posted."""

    reason: Reason | None = None
    detail: str = ""

    @property
    def passed(self) -> bool:
        return self.reason is None

    def advice(self) -> str:
        """The reason as the retry tells it to the model."""
        if self.reason is None:
            return ""
        return FIX[self.reason].format(facts=self.detail)


@dataclass(frozen=True)
class Screen:
    """What one turn's replies are screened against.

    `evidence`: the turn's passages, tool results, domain messages and customer texts;
    `instructions`: the agents' role, goal, backstory and task texts;
    `tools`: the tool names the agents know; `language`: the language the reply must be
    in (None: not checked), read with `detect` (which may answer None: unsure).
    """

    evidence: Evidence
    instructions: tuple[str, ...] = ()
    tools: frozenset[str] = frozenset()
    language: str | None = None
    detect: Callable[[str], str | None] | None = None

    def __call__(self, reply: str) -> Verdict:
        return screen(self, reply)


def screen(gate: Screen, reply: str) -> Verdict:
    """The verdict on `reply`; every branch says why."""
    text = reply.strip()
    if not _WORDS.search(fold(text)):
        return Verdict("empty")
    if looks_like_a_call(text, gate.tools) or _TAGS.search(text):
        return Verdict("tool_call")
    if _SCAFFOLDING.search(text):
        return Verdict("scaffolding")
    recited = recital(text, gate.instructions, gate.tools, gate.evidence)
    if recited:
        return Verdict("recital", recited)
    if gate.language and gate.detect is not None:
        written = gate.detect(text)
        if written is not None and _base(written) != _base(gate.language):
            return Verdict("language", written)
    missing = gate.evidence.unsupported(text)
    if missing:
        return Verdict("unsupported_fact", ", ".join(dict.fromkeys(f.written for f in missing)))
    return Verdict()


def recital(
    reply: str, instructions: Iterable[str], tools: frozenset[str], evidence: Evidence
) -> str:
    """The piece of the instructions `reply` says back ("" when none): a tool's name, or a
    run of RECITAL_WORDS words of an instruction that no passage or message holds."""
    folded = fold(reply)
    for tool in sorted(tools):
        if re.search(rf"\b{re.escape(tool.lower())}\b", folded):
            return tool
    words = _WORDS.findall(folded)
    if len(words) < RECITAL_WORDS:
        return ""
    runs = {" ".join(words[i : i + RECITAL_WORDS]) for i in range(len(words) - RECITAL_WORDS + 1)}
    plain_evidence = [" ".join(_WORDS.findall(text)) for text in evidence.texts]
    for instruction in instructions:
        said = " ".join(_WORDS.findall(fold(instruction)))
        for run in runs:
            if run in said and not any(run in text for text in plain_evidence):
                return run
    return ""


def _base(language: str) -> str:
    return language.lower().split("-")[0].split("_")[0]

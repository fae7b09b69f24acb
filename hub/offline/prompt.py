"""Reading CrewAI's prompt: the customer's message, the history, the tools, this run's steps.

Two formats meet in a prompt. CrewAI's own text ReAct format (`crewai.agents.parser`
and its prompt templates): the agent's tools as "Tool Name: …" lines in the system
prompt, and each tool call of this run as an assistant message "Action: … / Action
Input: … / Observation: …". And the domain's task text, where the offline model
looks for the labels of `hub.domains.vocabulary`: the message label before
`{message}` ("Mensagem do cliente:"), and the history label above `{history}`
("Conversa até aqui:") whose entries `HubCrew.inputs` writes as "Cliente: …" and
"Atendente: …" lines. Those labels are part of the domain format (docs/domains.md),
and `chatwootai domains validate` warns about a task whose labels this module
would not find (`hub.domains.labels`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hub.domains.vocabulary import CUSTOMER_LINE, HISTORY_ENTRIES, HISTORY_LABEL, MESSAGE_LABEL

__all__ = [
    "FINAL_ANSWER",
    "Messages",
    "Prompt",
    "Step",
    "all_text",
    "history_in",
    "message_text",
    "question_from_messages",
    "read_prompt",
    "wants_react",
]

Messages = str | Sequence[Mapping[str, Any]]
"""What CrewAI passes a model: one prompt string, or chat messages (`role`, `content`)."""

FINAL_ANSWER = "Final Answer:"
"""CrewAI's text ReAct marker (crewai.agents.parser): what follows it is the task's result."""

_TOOL_NAME = re.compile(r"^Tool Name:[ \t]*(\S+)", re.M)
_STEP = re.compile(
    r"Action\s*:\s*(?P<tool>[^\n]+?)\s*\nAction Input\s*:\s*(?P<input>.*?)\nObservation\s*:\s*"
    r"(?P<observation>.*)",
    re.S,
)
_ENTRY = re.compile(
    "^(" + "|".join(re.escape(prefix) for prefix in HISTORY_ENTRIES) + r"):[ \t]?", re.M
)
_QUESTION_LINES = (MESSAGE_LABEL, CUSTOMER_LINE)


@dataclass(frozen=True)
class Step:
    """A tool call of this run: the tool, its arguments as written, and the observation
    CrewAI showed (the tool's text, maybe with CrewAI's format reminder after it)."""

    tool: str
    arguments: str
    observation: str


@dataclass(frozen=True)
class Prompt:
    """What the offline model reads from CrewAI's prompt besides the question."""

    tools: tuple[str, ...] = ()
    history: tuple[tuple[str, str], ...] = ()
    steps: tuple[Step, ...] = ()

    @property
    def last_bot_message(self) -> str:
        """The bot's previous reply ("" at the start of a conversation)."""
        return next((text for role, text in reversed(self.history) if role == "bot"), "")


def read_prompt(messages: Messages) -> Prompt:
    """The agent's tools, the conversation history and this run's tool steps."""
    if isinstance(messages, str):
        texts = [("user", messages)]
    else:
        texts = [(str(m.get("role", "")), message_text(m)) for m in messages]
    everything = "\n".join(text for _, text in texts)
    tools = tuple(dict.fromkeys(_TOOL_NAME.findall(everything)))
    history = next((h for _, text in texts if (h := history_in(text))), ())
    steps = tuple(
        Step(m["tool"].strip().strip("*").strip(), m["input"].strip(), m["observation"].strip())
        for role, text in texts
        if role == "assistant" and (m := _STEP.search(text))
    )
    return Prompt(tools=tools, history=history, steps=steps)


def question_from_messages(messages: Messages) -> str:
    """The customer's words inside a CrewAI prompt: the text after the last message
    label ("Mensagem do cliente:"; else the last "Cliente:" line) of the last user
    message, up to a blank line; the whole message when there is no such line."""
    if isinstance(messages, str):
        text = messages
    else:
        users = [m for m in messages if m.get("role") == "user"] or list(messages)
        text = message_text(users[-1]) if users else ""
    for pattern in _QUESTION_LINES:
        matches = list(pattern.finditer(text))
        if matches:
            rest = text[matches[-1].end() :].strip()
            return rest.split("\n\n", 1)[0].strip()
    return text.strip()


def history_in(text: str) -> tuple[tuple[str, str], ...]:
    """The (role, text) entries under the history label of `text`, up to the message label."""
    start = HISTORY_LABEL.search(text)
    if start is None:
        return ()
    block = text[start.end() :]
    if end := MESSAGE_LABEL.search(block):
        block = block[: end.start()]
    entries: list[tuple[str, str]] = []
    marks = list(_ENTRY.finditer(block))
    ends = [mark.start() for mark in marks[1:]] + [len(block)] if marks else []
    for mark, end_at in zip(marks, ends, strict=True):
        entries.append((HISTORY_ENTRIES[mark[1]], block[mark.end() : end_at].strip()))
    return tuple(entries)


def wants_react(messages: Messages) -> bool:
    """Whether the prompt asks for CrewAI's "Thought: … Final Answer: …" format."""
    if isinstance(messages, str):
        return FINAL_ANSWER in messages
    return any(FINAL_ANSWER in message_text(message) for message in messages)


def message_text(message: Mapping[str, Any]) -> str:
    """The text of one chat message, whether its content is a string or a list of blocks."""
    content = message.get("content")
    if isinstance(content, list):
        return " ".join(
            block["text"]
            for block in content
            if isinstance(block, dict) and isinstance(block.get("text"), str)
        )
    return "" if content is None else str(content)


def all_text(messages: Messages) -> str:
    """Every message's text, one after the other (what the token estimate counts)."""
    if isinstance(messages, str):
        return messages
    return "\n".join(message_text(message) for message in messages)

"""Reading a tool call out of whatever a model wrote.

Small local models (behind llama.cpp or Ollama) seldom use the protocol's
`tool_calls`: they write the call as a JSON object in the content (bare, in a
```json fence, inside Qwen's `<tool_call>` tags), or in CrewAI's text ReAct
format ("Action: …" / "Action Input: …"). `parse` finds the call in each of these
forms, so the tool runs instead of the call being posted to the customer; the
reply gate (`hub.conversation.review`) uses the same reading to refuse any reply
that still looks like one.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

ToolCalling = Literal["native", "json", "react"]
"""How a model is asked for tool calls: the protocol's `tools` (`native`), tools described
in the prompt and a JSON object in the reply (`json`), or CrewAI's text ReAct (`react`).
Whatever the mode, a call written in any of the other forms is run too."""

NAME_KEYS = ("name", "tool", "tool_name", "function", "action")
ARGUMENT_KEYS = ("arguments", "parameters", "args", "input", "tool_input", "action_input")

_FENCE = re.compile(r"```[a-zA-Z]*\s*\n?(.*?)```", re.DOTALL)
_TAGGED = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)
_ACTION = re.compile(
    r"^\s*Action\s*:\s*(?P<name>[^\n]+?)\s*\n\s*Action\s*Input\s*:\s*(?P<input>.*?)"
    r"(?=\n\s*(?:Observation|Thought|Action|Final Answer)\s*:|\Z)",
    re.DOTALL | re.MULTILINE | re.IGNORECASE,
)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


@dataclass(frozen=True)
class ToolCall:
    """One call a model asked for: the tool's name and its arguments (a JSON text when the
    model wrote something that is not an object: the tool then says what is wrong)."""

    name: str
    arguments: dict[str, Any] | str = field(default_factory=dict)
    id: str = field(default_factory=lambda: f"call_{uuid.uuid4().hex[:12]}")

    @property
    def arguments_json(self) -> str:
        """The arguments as the protocol carries them: a JSON text."""
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(self.arguments, ensure_ascii=False)

    def as_openai(self) -> dict[str, Any]:
        """The call in the protocol's shape, which CrewAI's executor runs."""
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments_json},
        }

    def as_react(self) -> str:
        """The call in CrewAI's text ReAct format."""
        return (
            f"Thought: I use {self.name}.\nAction: {self.name}\nAction Input: {self.arguments_json}"
        )


def parse(text: str, known: frozenset[str] | set[str] = frozenset()) -> list[ToolCall]:
    """The tool calls written in `text` (none when it is a plain answer).

    A JSON object is a call when it has a tool name and arguments (`{"name": …,
    "arguments": …}` and its spellings, `{"function": {"name": …}}`), or when its only
    key is a `known` tool name. An unknown name is still a call: the executor answers
    the model that no such tool exists, rather than the customer reading it.
    """
    react = _react_calls(text)
    if react:
        return react
    calls: list[ToolCall] = []
    for candidate in _json_candidates(text):
        call = _as_call(candidate, known)
        if call is not None:
            calls.append(call)
    return calls


def looks_like_a_call(text: str, known: frozenset[str] | set[str] = frozenset()) -> bool:
    """Whether `text` holds a tool call in any form, or a JSON object naming a known tool."""
    if parse(text, known):
        return True
    return any(
        isinstance(value, dict) and any(str(key) in known for key in _walk_keys(value))
        for value in _json_candidates(text)
    )


def _react_calls(text: str) -> list[ToolCall]:
    calls = []
    for match in _ACTION.finditer(text):
        name = match.group("name").strip().strip("`'\"")
        if not _IDENTIFIER.match(name):
            continue
        raw = match.group("input").strip()
        fenced = _FENCE.search(raw)
        raw = (fenced.group(1) if fenced else raw).strip()
        try:
            value = json.loads(raw) if raw else {}
        except ValueError:
            value = raw
        calls.append(ToolCall(name, value if isinstance(value, dict) else raw))
    return calls


def _json_candidates(text: str) -> list[Any]:
    """Every JSON value found in `text`: fenced blocks, tagged blocks, bare objects."""
    found: list[Any] = []
    pieces = [m.group(1) for m in _FENCE.finditer(text)] + [
        m.group(1) for m in _TAGGED.finditer(text)
    ]
    for piece in pieces:
        found.extend(_objects_in(piece))
    if not found:
        found.extend(_objects_in(text))
    return found


def _objects_in(text: str) -> list[Any]:
    """The JSON objects (or lists of them) that start anywhere in `text`."""
    decoder = json.JSONDecoder()
    found: list[Any] = []
    index = 0
    while True:
        starts = [i for i in (text.find("{", index), text.find("[", index)) if i >= 0]
        if not starts:
            return found
        start = min(starts)
        try:
            value, end = decoder.raw_decode(text, start)
        except ValueError:
            index = start + 1
            continue
        if isinstance(value, list):
            found.extend(item for item in value if isinstance(item, dict))
        elif isinstance(value, dict):
            found.append(value)
        index = end


def _as_call(value: Any, known: frozenset[str] | set[str]) -> ToolCall | None:
    if not isinstance(value, dict):
        return None
    function = value.get("function")
    if isinstance(function, dict) and isinstance(function.get("name"), str):
        return _call(function["name"], _arguments(function))
    name = next((value[k] for k in NAME_KEYS if isinstance(value.get(k), str)), None)
    if name is not None and _IDENTIFIER.match(name.strip()):
        has_arguments = any(k in value for k in ARGUMENT_KEYS)
        if has_arguments or name.strip() in known:
            return _call(name, _arguments(value))
    if len(value) == 1:
        (only, inner), *_ = value.items()
        if str(only) in known:
            return _call(str(only), inner if isinstance(inner, dict | str) else {})
    return None


def _arguments(value: dict[str, Any]) -> dict[str, Any] | str:
    for key in ARGUMENT_KEYS:
        if key in value:
            inner = value[key]
            if isinstance(inner, str):
                try:
                    decoded = json.loads(inner) if inner.strip() else {}
                except ValueError:
                    return inner
                return decoded if isinstance(decoded, dict) else inner
            if isinstance(inner, dict):
                return inner
            return json.dumps(inner, ensure_ascii=False)
    return {}


def _call(name: str, arguments: dict[str, Any] | str) -> ToolCall:
    return ToolCall(name.strip(), arguments)


def _walk_keys(value: Any) -> list[str]:
    keys: list[str] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            keys.append(str(key))
            keys.extend(_walk_keys(inner))
            if isinstance(inner, str):
                keys.append(inner)
    elif isinstance(value, list):
        for inner in value:
            keys.extend(_walk_keys(inner))
    return keys


def default_mode(model: str) -> ToolCalling:
    """The tool calling a model gets when its domain does not say: `native` for OpenAI and
    every OpenAI-compatible server (a call written in the content still runs), `json` for
    Ollama, whose small models mostly write the call as text."""
    return "json" if model.startswith("ollama/") else "native"

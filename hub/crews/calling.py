"""OpenAI-compatible models whose tool calls run however the model writes them.

CrewAI runs a tool when the model answers with the protocol's `tool_calls`
(`native`) or, for a model without function calling, with its text ReAct
("Action:"). Anything else is taken as the final answer and posted. Small local
models write the call as JSON in the content instead, so this model reads the
content (`hub.crews.toolcalls.parse`) and hands CrewAI the call in the form its
executor runs for the configured mode (`llm.tool_calling`):

- `native`: `tools` go to the API; a call in the content becomes a `tool_calls` entry;
- `json`: the tools are described in the system prompt and the API gets no `tools`
  (for servers that reject them); the earlier calls and results are replayed as
  text; a JSON call in the reply becomes a `tool_calls` entry;
- `react`: CrewAI's text ReAct prompt; a JSON call becomes "Action:" text, and an
  answer without the ReAct frame becomes the final answer.

A call to an unknown tool, or with bad arguments, still goes to CrewAI's
executor, which answers the model with the error as the tool's observation.

When the mode is not configured, what works is detected: a model that writes a
call in the content while asked natively is asked in `json` mode from then on.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from crewai.llms.providers.openai.completion import OpenAICompletion

from hub.crews.pooled import PooledOpenAICompletion
from hub.crews.toolcalls import ToolCall, ToolCalling, parse

if TYPE_CHECKING:
    from crewai.agents.agent_builder.base_agent import BaseAgent
    from crewai.task import Task
    from crewai.utilities.types import LLMMessage
    from pydantic import BaseModel

JSON_PROTOCOL = (
    "\n\nFerramentas disponíveis (tools):\n{tools}\n\n"
    "Para usar uma ferramenta, responda SOMENTE com um objeto JSON, sem mais nada:\n"
    '{{"name": "<nome da ferramenta>", "arguments": {{<argumentos>}}}}\n'
    "O resultado volta na próxima mensagem. Quando souber a resposta, escreva só a "
    "resposta para o cliente, sem JSON."
)
"""Appended to the system message in `json` mode: the tools and how to call one."""
RESULT_ENTRY = "Resultado da ferramenta {name}:\n{content}"
"""How a tool's result is replayed to a `json`-mode model, as a user message."""
FINAL_ANSWER = "Final Answer:"


_learned: dict[tuple[str, str], ToolCalling] = {}
"""Models (endpoint, name) seen writing a native-mode call in the content, whose mode
was not configured: they are asked in `json` mode from then on, in this process."""


class ToolCallingMixin:
    """`call` reading tool calls from the content; see the module docstring."""

    tool_calling: ToolCalling
    tool_calling_configured: bool
    model: str
    base_url: str | None

    @property
    def mode(self) -> ToolCalling:
        """The mode of the next call: the configured one, else what this model showed."""
        if self.tool_calling_configured:
            return self.tool_calling
        return _learned.get((str(self.base_url), self.model), self.tool_calling)

    def supports_function_calling(self) -> bool:
        return self.mode != "react"

    def call(
        self,
        messages: str | list[LLMMessage],
        tools: list[dict[str, Any]] | None = None,
        callbacks: list[Any] | None = None,
        available_functions: dict[str, Any] | None = None,
        from_task: Task | None = None,
        from_agent: BaseAgent | None = None,
        response_model: type[BaseModel] | None = None,
    ) -> Any:
        known = _tool_names(tools, from_agent)
        mode = self.mode
        if mode == "json" and tools and not isinstance(messages, str):
            messages, tools = as_json_protocol(messages, tools), None
        response = super().call(  # type: ignore[misc]
            messages,
            tools,
            callbacks,
            available_functions,
            from_task,
            from_agent,
            response_model,
        )
        if not isinstance(response, str):
            return response  # native tool calls, or a structured output
        read = self.read(response, known, react=mode == "react")
        if mode == "native" and isinstance(read, list) and not self.tool_calling_configured:
            _learned[(str(self.base_url), self.model)] = "json"
        return read

    @staticmethod
    def read(response: str, known: frozenset[str], *, react: bool) -> str | list[dict[str, Any]]:
        """What CrewAI's executor gets for the content `response`: the calls in it, in the
        form the mode runs, else the answer itself."""
        if react and FINAL_ANSWER in response:
            return response
        calls: list[ToolCall] = parse(response, known) if known or react else []
        if react:
            if calls:
                return calls[0].as_react()
            return response if "Action:" in response else f"{FINAL_ANSWER} {response.strip()}"
        if calls:
            return [call.as_openai() for call in calls]
        return response


class ToolCallingCompletion(ToolCallingMixin, OpenAICompletion):
    """An OpenAI-compatible model with its own clients."""

    tool_calling: ToolCalling = "native"
    tool_calling_configured: bool = False


class PooledToolCallingCompletion(ToolCallingMixin, PooledOpenAICompletion):
    """An OpenAI-compatible model drawing its clients from the process-wide pool."""

    tool_calling: ToolCalling = "native"
    tool_calling_configured: bool = False


def _tool_names(tools: list[dict[str, Any]] | None, agent: BaseAgent | None) -> frozenset[str]:
    names = {
        str(function.get("name"))
        for tool in tools or []
        if isinstance(function := tool.get("function", tool), dict) and function.get("name")
    }
    names.update(str(tool.name) for tool in (getattr(agent, "tools", None) or []))
    return frozenset(names)


def as_json_protocol(messages: list[LLMMessage], tools: list[dict[str, Any]]) -> list[LLMMessage]:
    """`messages` for a model that gets no `tools`: the tools described in the system
    message, earlier calls as the JSON the model wrote, their results as user messages."""
    described = "\n".join(_describe(tool) for tool in tools)
    protocol = JSON_PROTOCOL.format(tools=described)
    out: list[LLMMessage] = []
    if not messages or messages[0].get("role") != "system":
        out.append({"role": "system", "content": protocol.strip()})
    for message in messages:
        role = message.get("role")
        if role == "system" and not any(m.get("role") == "system" for m in out):
            out.append({"role": "system", "content": f"{message.get('content') or ''}{protocol}"})
        elif role == "assistant" and message.get("tool_calls"):
            calls = [
                {"name": call["function"]["name"], "arguments": _decoded(call["function"])}
                for call in message.get("tool_calls") or []
            ]
            text = json.dumps(calls[0] if len(calls) == 1 else calls, ensure_ascii=False)
            out.append({"role": "assistant", "content": text})
        elif role == "tool":
            entry = RESULT_ENTRY.format(
                name=message.get("name") or "", content=message.get("content") or ""
            )
            out.append({"role": "user", "content": entry})
        else:
            out.append(message)
    return out


def _describe(tool: dict[str, Any]) -> str:
    function = tool.get("function", tool)
    parameters = function.get("parameters") or {}
    arguments = ", ".join(
        f'"{name}": {spec.get("type", "string")}'
        for name, spec in (parameters.get("properties") or {}).items()
    )
    return (
        f"- {function.get('name')}: {function.get('description', '')} Argumentos: {{{arguments}}}"
    )


def _decoded(function: dict[str, Any]) -> Any:
    arguments = function.get("arguments")
    if isinstance(arguments, str):
        try:
            return json.loads(arguments)
        except ValueError:
            return arguments
    return arguments

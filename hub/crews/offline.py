"""The built-in offline model: answers from the domain's documents and tools, no network.

`CHATWOOTAI_LLM=offline` (the default) makes every agent use `OfflineLLM`, a
CrewAI `BaseLLM` that needs no key and no download. It does not generate: the
reply is `hub.knowledge.answers.answer`, lines of the domain's documents verbatim
under a short lead-in, or the domain's `messages.unknown`, which offers a human.
When the agent has tools and one of them answers the question better (an order
number and `order_status`, a booking request and `appointment_slots`…), it calls
the tool first through CrewAI's text ReAct loop (`hub.crews.planner` decides) and
answers from the tool's observation (`hub.crews.observations`). Every fact in a
reply is therefore a fact of this domain's documents or of its business data.

This module is the CrewAI side only: it reads the customer's question out of
CrewAI's templated prompt, writes "Action:" or "Final Answer:" in the format
CrewAI's text ReAct loop parses, and emits the call events and token usage
CrewAI expects.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from crewai.events.types.llm_events import LLMCallType
from crewai.llms.base_llm import BaseLLM, llm_call_context
from pydantic import BaseModel

from hub.crews.observations import ask_for, final_answer, which
from hub.crews.planner import Action, Missing, decide, message_text, read_prompt
from hub.knowledge.answers import answer
from hub.knowledge.lexical import LexicalIndex

if TYPE_CHECKING:
    from crewai.agents.agent_builder.base_agent import BaseAgent
    from crewai.task import Task
    from crewai.tools.base_tool import BaseTool
    from crewai.utilities.types import LLMMessage

__all__ = ["FINAL_ANSWER", "MODEL_NAME", "OfflineLLM", "answer", "question_from_messages"]

MODEL_NAME = "offline"
FINAL_ANSWER = "Final Answer:"
"""CrewAI's text ReAct marker (crewai.agents.parser): what follows it is the task's result."""

_QUESTION_LINES = (
    re.compile(
        r"^[ \t]*(?:mensagem(?: atual)? d[oa] (?:client[ea]|paciente)|customer message)[ \t]*:",
        re.I | re.M,
    ),
    re.compile(r"^[ \t]*(?:client[ea]|customer)[ \t]*:", re.I | re.M),
)


def question_from_messages(messages: str | Sequence[Mapping[str, Any]]) -> str:
    """The customer's words inside a CrewAI prompt: the text after the last
    "Mensagem do cliente:" ("do paciente:"; else "Cliente:") line of the last user
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


def _wants_react(messages: str | Sequence[Mapping[str, Any]]) -> bool:
    """Whether the prompt asks for CrewAI's "Thought: … Final Answer: …" format."""
    if isinstance(messages, str):
        return FINAL_ANSWER in messages
    return any(FINAL_ANSWER in message_text(message) for message in messages)


class OfflineLLM(BaseLLM):
    """A CrewAI model that replies from one domain's knowledge index (`hub.knowledge.answers`).

    Built fresh for each customer message with the message as `question`: CrewAI's
    prompt around it is long and templated, the question is what matters. Holds no
    shared mutable state (the index is immutable), so concurrent turns are safe.
    """

    llm_type: str = "offline"
    knowledge: LexicalIndex
    question: str = ""
    unknown_reply: str
    language: str = "pt-BR"

    def __init__(
        self,
        index: LexicalIndex,
        *,
        question: str = "",
        unknown_reply: str,
        language: str = "pt-BR",
        model: str = MODEL_NAME,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            model=model,
            provider="offline",
            knowledge=index,
            question=question,
            unknown_reply=unknown_reply,
            language=language,
            **kwargs,
        )

    def call(
        self,
        messages: str | list[LLMMessage],
        tools: list[dict[str, BaseTool]] | None = None,
        callbacks: list[Any] | None = None,
        available_functions: dict[str, Any] | None = None,
        from_task: Task | None = None,
        from_agent: BaseAgent | None = None,
        response_model: type[BaseModel] | None = None,
    ) -> str:
        """Answer the question (or the one found in `messages`), ReAct-wrapped if asked for."""
        with llm_call_context():
            self._emit_call_started_event(
                messages=messages,
                tools=tools,
                callbacks=callbacks,
                available_functions=available_functions,
                from_task=from_task,
                from_agent=from_agent,
            )
            response = self.respond(messages)
            self._track_token_usage_internal(
                {
                    "prompt_tokens": _estimate_tokens(_all_text(messages)),
                    "completion_tokens": _estimate_tokens(response),
                }
            )
            self._emit_call_completed_event(
                response=response,
                call_type=LLMCallType.LLM_CALL,
                from_task=from_task,
                from_agent=from_agent,
                messages=messages,
            )
            return response

    async def acall(
        self,
        messages: str | list[LLMMessage],
        tools: list[dict[str, BaseTool]] | None = None,
        callbacks: list[Any] | None = None,
        available_functions: dict[str, Any] | None = None,
        from_task: Task | None = None,
        from_agent: BaseAgent | None = None,
        response_model: type[BaseModel] | None = None,
    ) -> str:
        """Same as `call`: the work is a few milliseconds of CPU, nothing to await."""
        return self.call(
            messages, tools, callbacks, available_functions, from_task, from_agent, response_model
        )

    def respond(self, messages: str | Sequence[Mapping[str, Any]]) -> str:
        """The raw model output for `messages`: the reply, or ReAct text around it.

        In CrewAI's ReAct loop: the final answer from a tool's observation when a
        tool ran; else a tool call when one of the agent's tools answers better
        than the documents; else the documents' answer.
        """
        question = self.question.strip() or question_from_messages(messages)
        if not _wants_react(messages):
            return self.reply(question)
        prompt = read_prompt(messages)
        if prompt.steps:
            step = prompt.steps[-1]
            reply = final_answer(
                question,
                step,
                self.knowledge,
                unknown_reply=self.unknown_reply,
                language=self.language,
            )
            return f"Thought: I answer from what {step.tool} returned.\n{FINAL_ANSWER} {reply}"
        decision = decide(question, prompt)
        if isinstance(decision, Action):
            return decision.text()
        if isinstance(decision, Missing):
            reply = ask_for(decision.needed, self.knowledge, language=self.language)
            return f"Thought: {decision.thought}\n{FINAL_ANSWER} {reply}"
        if decision is not None:
            reply = which(decision.options, language=self.language)
            return f"Thought: {decision.thought}\n{FINAL_ANSWER} {reply}"
        reply = self.reply(question)
        thought = (
            "The unknown reply fits: the documents do not answer this."
            if reply == self.unknown_reply
            else "I found the answer in the knowledge documents."
        )
        return f"Thought: {thought}\n{FINAL_ANSWER} {reply}"

    def reply(self, question: str) -> str:
        """The customer-facing answer to `question`."""
        return answer(
            self.knowledge, question, unknown_reply=self.unknown_reply, language=self.language
        )

    def supports_function_calling(self) -> bool:
        return False  # CrewAI then uses its text ReAct loop, whose Final Answer we write

    def supports_stop_words(self) -> bool:
        return False

    def get_context_window_size(self) -> int:
        return 1_000_000  # no real limit: never let CrewAI summarise the prompt through us

    def get_input_tokens_count(
        self,
        messages: str | list[LLMMessage],
        tools: list[dict[str, BaseTool]] | None = None,
        response_model: type[BaseModel] | None = None,
    ) -> int:
        return _estimate_tokens(_all_text(messages))


def _all_text(messages: str | Sequence[Mapping[str, Any]]) -> str:
    if isinstance(messages, str):
        return messages
    return "\n".join(message_text(message) for message in messages)


def _estimate_tokens(text: str) -> int:
    """About four characters per token, as CrewAI itself estimates."""
    return (len(text) + 3) // 4

"""The built-in offline model: answers from the domain's documents and tools, no network.

`CHATWOOTAI_LLM=offline` (the default) makes every agent use `OfflineLLM`, a
CrewAI `BaseLLM` that needs no key and no download. It does not generate: the
reply is `hub.offline.answers.answer`, lines of the domain's documents verbatim
under a short lead-in, or the domain's `messages.unknown`, which offers a human.
When the agent has tools and one of them answers the question better (an order
number and `order_status`, a booking request and `appointment_slots`…), it calls
the tool first through CrewAI's text ReAct loop (`hub.offline.planner` decides)
and answers from the typed result the tool recorded on the turn's context
(`hub.offline.results`). Every fact in a reply is therefore a fact of this
domain's documents or of its business data. The reply is in the customer's
language (`hub.language`): the model's own words and the domain's unknown message
in it, the documents quoted as written; the question is searched in the
documents' words (`hub.knowledge.glossary`).

This module is the CrewAI side only: it reads CrewAI's templated prompt
(`hub.offline.prompt`), writes "Action:" or "Final Answer:" in the format
CrewAI's text ReAct loop parses, and emits the call events and token usage
CrewAI expects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from crewai.events.types.llm_events import LLMCallType
from crewai.llms.base_llm import BaseLLM, llm_call_context
from pydantic import BaseModel, Field

from hub.knowledge.glossary import search_text
from hub.knowledge.lexical import LexicalIndex
from hub.language import choose, code
from hub.offline.answers import answer
from hub.offline.planner import Action, Missing, decide
from hub.offline.prompt import (
    FINAL_ANSWER,
    Messages,
    all_text,
    question_from_messages,
    read_prompt,
    wants_react,
)
from hub.offline.results import ask_for, final_answer, result_for, which
from hub.turn import Retrieved, TurnContext

if TYPE_CHECKING:
    from crewai.agents.agent_builder.base_agent import BaseAgent
    from crewai.task import Task
    from crewai.tools.base_tool import BaseTool
    from crewai.utilities.types import LLMMessage

__all__ = ["MODEL_NAME", "OfflineLLM"]

MODEL_NAME = "offline"
TRACED_PASSAGES = 3
"""The passages of the documents search a turn's trace shows, best first."""


class OfflineLLM(BaseLLM):
    """A CrewAI model that replies from one domain's knowledge index (`hub.offline.answers`).

    Built fresh for each customer message with the message as `question` (CrewAI's
    prompt around it is long and templated, the question is what matters) and the
    turn's `context`, where the turn's tools record their typed results. Holds no
    shared mutable state (the index is immutable, the context is the turn's own),
    so concurrent turns are safe.
    """

    llm_type: str = "offline"
    knowledge: LexicalIndex
    question: str = ""
    unknown_reply: str
    """The domain's `messages.unknown`, in the domain's language."""
    unknown_replies: dict[str, str] = Field(default_factory=dict)
    """Its translations by language code ("en" → …): said in the customer's language."""
    language: str = "pt-BR"
    """The domain's language: the reply's when the customer's cannot be told."""
    aliases: dict[str, str] = Field(default_factory=dict)
    """The domain's `knowledge.aliases` (customers' words → the documents')."""
    context: TurnContext | None = None
    """The turn's context: the tools' typed results are read from it (none without)."""

    def __init__(
        self,
        index: LexicalIndex,
        *,
        question: str = "",
        unknown_reply: str,
        unknown_replies: Mapping[str, str] | None = None,
        language: str = "pt-BR",
        aliases: Mapping[str, str] | None = None,
        context: TurnContext | None = None,
        model: str = MODEL_NAME,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            model=model,
            provider="offline",
            knowledge=index,
            question=question,
            unknown_reply=unknown_reply,
            unknown_replies=dict(unknown_replies or {}),
            language=language,
            aliases=dict(aliases or {}),
            context=context,
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
                    "prompt_tokens": _estimate_tokens(all_text(messages)),
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

    def respond(self, messages: Messages) -> str:
        """The raw model output for `messages`: the reply, or ReAct text around it.

        In CrewAI's ReAct loop: the final answer from a tool's typed result when a
        tool ran; else a tool call when one of the agent's tools answers better
        than the documents; else the documents' answer. The reply is in the
        customer's language (`reply_language`); the documents are searched with
        their own words (`hub.knowledge.glossary.search_text`).
        """
        question = self.question.strip() or question_from_messages(messages)
        if not wants_react(messages):
            return self.reply(question)
        prompt = read_prompt(messages)
        language = self.reply_language(question, prompt.history)
        search = self.search_text(question, language)
        unknown = self.unknown(language)
        if prompt.steps:
            step = prompt.steps[-1]
            results = self.context.results if self.context is not None else ()
            reply = final_answer(
                search,
                step,
                result_for(step, results),
                self.knowledge,
                unknown_reply=unknown,
                language=language,
            )
            return f"Thought: I answer from what {step.tool} returned.\n{FINAL_ANSWER} {reply}"
        decision = decide(search, prompt)
        if isinstance(decision, Action):
            return decision.text()
        if isinstance(decision, Missing):
            reply = ask_for(decision.needed, self.knowledge, language=language)
            return f"Thought: {decision.thought}\n{FINAL_ANSWER} {reply}"
        if decision is not None:
            reply = which(decision.options, language=language)
            return f"Thought: {decision.thought}\n{FINAL_ANSWER} {reply}"
        reply = self.reply(question, language)
        thought = (
            "The unknown reply fits: the documents do not answer this."
            if reply == unknown
            else "I found the answer in the knowledge documents."
        )
        return f"Thought: {thought}\n{FINAL_ANSWER} {reply}"

    def reply(self, question: str, language: str | None = None) -> str:
        """The customer-facing answer to `question`, in `language` (default: the
        question's own, else the domain's)."""
        language = language or choose(question, self.language)
        search = self.search_text(question, language)
        unknown = self.unknown(language)
        reply = answer(self.knowledge, search, unknown_reply=unknown, language=language)
        if self.context is not None and reply != unknown:
            self.context.retrieved.extend(
                Retrieved(hit.chunk.source, hit.chunk.heading, hit.score, hit.chunk.text, "offline")
                for hit in self.knowledge.search(search, k=TRACED_PASSAGES)
            )
        return reply

    def unknown(self, language: str) -> str:
        """The domain's "I don't know" in `language` (a code), else in its own language."""
        return self.unknown_replies.get(code(language), self.unknown_reply)

    def reply_language(self, question: str, history: Sequence[tuple[str, str]] = ()) -> str:
        """The customer's language: the question's, else their previous message's in
        the conversation, else the domain's (`hub.language.choose`)."""
        said = [text for role, text in history if role == "customer"]
        fallback = choose(said[-1], self.language) if said else self.language
        return choose(question, fallback)

    def search_text(self, question: str, language: str) -> str:
        """The question in the documents' words, as the answers and the planner read it."""
        return search_text(
            question, knows=self.knowledge.knows, aliases=self.aliases, language=language
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
        return _estimate_tokens(all_text(messages))


def _estimate_tokens(text: str) -> int:
    """About four characters per token, as CrewAI itself estimates."""
    return (len(text) + 3) // 4

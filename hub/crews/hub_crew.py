"""HubCrew: routes a customer's message to the right specialist crew and runs it.

Routing is cheap first: the keyword/TF-IDF router decides when it is confident.
Only ambiguous messages cost a model call, made by the domain's `hub` crew (its
task lists the routes); with the offline model, or when the model's answer names
no route, the domain's default route is taken.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import structlog

from hub.conversation.handoff import handoff_message
from hub.conversation.hours import WEEKDAY_NAMES_PT
from hub.crews.answer_cache import AnswerCache, Question, served
from hub.crews.grounding import Grounding, ground, screen_for
from hub.crews.llm import TurnModels, is_offline, model_name, turn_cost
from hub.crews.screen import Verdict
from hub.domains.localized import translate
from hub.domains.vocabulary import (
    BOT_ENTRY,
    CUSTOMER_ENTRY,
    EMPTY_HISTORY,
    HUB_CREW,
    placeholders_in,
)
from hub.exceptions import CrewError
from hub.offline.answers import answer as offline_answer
from hub.turn import (
    CacheOutcome,
    HubResult,
    PassageData,
    ReplySource,
    RoutedBy,
    Turn,
    TurnContext,
)

if TYPE_CHECKING:
    from crewai import Crew
    from crewai.crews.crew_output import CrewOutput

    from hub.crews.builder import CrewBuilder
    from hub.crews.kit import DomainKit
    from hub.plugins.manager import PluginHost
    from hub.plugins.signals import Verdicts
    from hub.settings import Settings

log = structlog.get_logger(__name__)

RETRY_NOTE = (
    "(Atenção: a sua resposta anterior foi recusada antes de chegar ao cliente: {advice}. "
    "Escreva de novo só a mensagem para o cliente.)"
)
"""Added below the message when the crew runs again after the reply gate refused."""

ROUTE_MAX_TOKENS = 32
"""The hub crew's answer is a route's name: a cap this low keeps a model that explains
its choice from generating a whole reply's worth of tokens before it is read."""

GATE_PASSAGES = 6
"""Passages the question and, apart, the offline model's reply find: the evidence its
reply is screened against before the answer cache stores it."""

FOLLOW_UP_WORDS = 8
"""A reply this short to a question of the bot ("pode ser o primeiro", "quinta às 10h")
answers that question: it stays on the route that asked it."""


class HubCrew:
    """One domain's hub: route, then run the spoke crew on a fresh Crew."""

    def __init__(
        self,
        builder: CrewBuilder,
        kit: DomainKit,
        plugins: PluginHost,
        settings: Settings,
        answers: AnswerCache | None = None,
    ) -> None:
        self.builder = builder
        self.kit = kit
        self.domain = kit.domain
        self.plugins = plugins
        self.settings = settings
        self.answers = answers if kit.domain.spec.cache.answers else None
        """The answer cache, when there is one and the domain uses it."""

    def run(self, turn: Turn) -> HubResult:
        """Answer one turn; raises CrewError (or a ModelError) when no reply can be made.

        The domain's plugins see the turn first (`before_crew`: context for the
        prompt, priority, or an answer that skips the crew) and the reply last
        (`after_crew`), each guarded: a failing plugin is skipped, never the turn.
        A question the answer cache holds is answered from it, before routing; the
        plugins' `after_crew` runs on it all the same (the name, the signature).
        """
        started = time.perf_counter()
        plugins = self.plugins
        verdicts = plugins.before_crew(self.domain, turn)
        if verdicts.answered_by is not None:
            return self._answered_by_plugin(verdicts, started)
        question = (
            None
            if self.answers is None
            else self.answers.question(self.kit, turn, verdicts.context)
        )
        held = 0
        if self.answers is not None and isinstance(question, Question):
            stored, held = self.answers.find(question)
            if stored is not None:
                reply = plugins.after_crew(self.domain, turn, stored.reply, route=stored.route)
                return replace(served(stored, reply, started), urgent=verdicts.urgent)
        inputs = self.inputs(turn, context=verdicts.context)
        route, routed_by, confidence = self.route(turn, inputs)
        crew_name = self.domain.spec.routing.routes[route].crew
        offline = is_offline(self.domain, self.settings)
        grounding = None if offline else ground(self.kit, turn)
        if grounding is not None:
            notes = (
                (inputs["context"], *grounding.notes()) if inputs["context"] else grounding.notes()
            )
            inputs["context"] = "\n\n".join(notes)
        if inputs["context"] and not self._reads_context(crew_name):
            # Below the message, after a blank line: the offline model reads the
            # message up to there, a real model reads both.
            inputs["message"] = f"{inputs['message']}\n\n{inputs['context']}"
        context = TurnContext(
            domain_id=self.domain.id,
            account_id=turn.account_id,
            conversation_id=turn.conversation_id,
            customer_name=turn.customer_name,
            contact_phone=turn.contact_phone,
            contact_email=turn.contact_email,
        )
        if grounding is not None:
            context.retrieved.extend(grounding.retrieved())
        with self.models(turn, context, images=turn.images) as models:
            rejections: tuple[str, ...] = ()
            source: ReplySource = "model"
            if grounding is None:
                output = kickoff(self.builder.build(self.kit, crew_name, models, context), inputs)
                reply = _clean(str(output.raw))
                usage = output.token_usage.model_dump() if output.token_usage else {}
            else:
                first, usage = self._attempt(crew_name, models, context, inputs, grounding)
                screened = self._screened(
                    turn, crew_name, first, grounding, context, inputs, models
                )
                reply, rejections, source, retry_usage = screened
                usage = _most(usage, retry_usage)
        if not reply:
            raise CrewError(f"crew {crew_name!r} returned an empty reply")
        cost = turn_cost(self.domain, self.settings, usage)
        result = HubResult(
            reply=reply,
            route=route,
            routed_by=routed_by,
            route_confidence=confidence,
            crew_seconds=time.perf_counter() - started,
            usage=usage,
            handoff_reason=context.handoff_reason,
            tool_calls=tuple(context.tool_calls),
            tool_failures=tuple(context.tool_failures),
            urgent=verdicts.urgent,
            rejections=rejections,
            source=source,
            observations=tuple(found.text for found in context.results),
            calls=tuple(context.calls),
            retrieved=tuple(context.retrieved),
            model=model_name(self.domain, self.settings),
            cost_usd=float(cost) if cost is not None else None,
        )
        outcome: CacheOutcome | None = None
        if self.answers is not None:
            outcome = "skip"
            if isinstance(question, Question):
                gate = None
                if grounding is None:  # the offline model's reply: not screened yet

                    def gate() -> bool:
                        return self._passes_gate(turn, crew_name, result, inputs)

                kept = self.answers.keep(question, turn, result, held=held, gate=gate)
                outcome = "miss" if kept == "skip" else kept
        reply = plugins.after_crew(self.domain, turn, reply, route=route)
        return replace(result, reply=reply, cache=outcome)

    def _passes_gate(
        self, turn: Turn, crew_name: str, result: HubResult, inputs: dict[str, str]
    ) -> bool:
        """Whether the offline model's reply passes the reply gate, its evidence the
        passages the question and the reply find in the documents (it quotes them; its
        language is its own choice)."""
        knowledge = self.kit.knowledge
        hits = [*knowledge.search(turn.message, k=GATE_PASSAGES)]
        hits += knowledge.search(result.reply, k=GATE_PASSAGES)
        chunks = {hit.chunk.sha256: hit.chunk for hit in hits}.values()
        passages = tuple(PassageData(c.source, c.heading, c.text) for c in chunks)
        grounding = Grounding(passages, language="")
        context = TurnContext(domain_id=self.domain.id)
        gate = screen_for(self.kit, crew_name, turn, grounding, context, inputs)
        return replace(gate, language=None)(result.reply).passed

    def _attempt(
        self,
        crew_name: str,
        models: TurnModels,
        context: TurnContext,
        inputs: dict[str, str],
        grounding: Grounding,
    ) -> tuple[str | None, dict[str, Any]]:
        """One kickoff of a real model's crew: its reply and token usage; None for the
        reply when CrewAI stopped the agent for repeating a tool call without progress."""
        from crewai.tools.tool_failure import ToolExecutionFailedError

        crew = self.builder.build(self.kit, crew_name, models, context, grounding.passages)
        try:
            output = kickoff(crew, inputs)
        except ToolExecutionFailedError as error:
            log.info("agent stopped in a tool loop", error=str(error)[-160:])
            return None, {}
        usage = output.token_usage.model_dump() if output.token_usage else {}
        return _clean(str(output.raw)), usage

    def _screened(
        self,
        turn: Turn,
        crew_name: str,
        reply: str | None,
        grounding: Grounding,
        context: TurnContext,
        inputs: dict[str, str],
        models: TurnModels,
    ) -> tuple[str, tuple[str, ...], ReplySource, dict[str, Any]]:
        """A real model's reply through the gate (`hub.crews.screen`): as it is when it
        passes; else, once, the crew again with the reason; else the offline model's
        answer when it has one; else the domain's unknown message, which offers a person.
        A refused reply of a turn that hands off becomes the domain's handoff message.
        """
        gate = screen_for(self.kit, crew_name, turn, grounding, context, inputs)
        verdict = gate(reply) if reply is not None else Verdict("tool_loop")
        if verdict.passed and reply is not None:
            return reply, (), "model", {}
        rejections = [str(verdict.reason)]
        log.info("reply refused by the gate", reason=verdict.reason, detail=verdict.detail[:80])
        language = grounding.language
        if context.handoff_reason is not None:
            handoff = handoff_message(self.domain, turn.now, language)
            return handoff, tuple(rejections), "handoff", {}
        retry = dict(inputs)
        note = RETRY_NOTE.format(advice=verdict.advice())
        retry["message"] = f"{inputs['message']}\n\n{note}"
        again, usage = self._attempt(crew_name, models, context, retry, grounding)
        gate = screen_for(self.kit, crew_name, turn, grounding, context, inputs)
        second = gate(again) if again is not None else Verdict("tool_loop")
        if second.passed and again is not None:
            return again, tuple(rejections), "retry", usage
        rejections.append(str(second.reason))
        log.info("retry refused by the gate", reason=second.reason, detail=second.detail[:80])
        if context.handoff_reason is not None:
            handoff = handoff_message(self.domain, turn.now, language)
            return handoff, tuple(rejections), "handoff", usage
        unknown = translate(self.domain.spec.messages.unknown, language)
        extractive = offline_answer(
            self.kit.knowledge, turn.message, unknown_reply=unknown, language=language
        )
        if extractive.strip() != unknown.strip():
            return extractive, tuple(rejections), "offline", usage
        return unknown, tuple(rejections), "unknown", usage

    def _answered_by_plugin(self, verdicts: Verdicts, started: float) -> HubResult:
        """A plugin's verdict replaced the crew: its reply, or a handoff with the domain's text."""
        reply = verdicts.reply or handoff_message(self.domain)
        log.info(
            "plugin answered without the crew",
            domain=self.domain.id,
            plugin=verdicts.answered_by,
            handoff=verdicts.handoff_reason is not None,
        )
        return HubResult(
            reply=reply,
            route=f"plugin:{verdicts.answered_by}",
            routed_by="plugin",
            route_confidence=1.0,
            crew_seconds=time.perf_counter() - started,
            handoff_reason=verdicts.handoff_reason,
            urgent=verdicts.urgent,
        )

    def _reads_context(self, crew_name: str) -> bool:
        """Whether a task of the crew places `{context}` itself."""
        crew = self.domain.spec.crews[crew_name]
        return any("context" in placeholders_in(task.description) for task in crew.tasks.values())

    def route(self, turn: Turn, inputs: dict[str, str]) -> tuple[str, RoutedBy, float]:
        """The route for this message, who decided it, and the router's confidence."""
        routing = self.domain.spec.routing
        score = self.kit.router.score(turn.message)
        if score.best is not None and score.confidence >= routing.min_confidence:
            return score.best, "classifier", score.confidence
        if turn.previous_route in routing.routes and is_follow_up(turn):
            return turn.previous_route, "follow_up", score.confidence
        if is_offline(self.domain, self.settings):
            return routing.default, "default", score.confidence
        with self.models(turn, max_tokens=ROUTE_MAX_TOKENS) as models:
            answer = str(kickoff(self.builder.build(self.kit, HUB_CREW, models), inputs).raw)
        chosen = parse_route(answer, list(routing.routes))
        if chosen is None:
            log.info("hub crew named no route; using the default", answer=answer[:80])
            return routing.default, "default", score.confidence
        return chosen, "llm", score.confidence

    def models(
        self,
        turn: Turn,
        context: TurnContext | None = None,
        *,
        images: tuple[str, ...] = (),
        max_tokens: int | None = None,
    ) -> TurnModels:
        """The models of this turn (reading the tools' results from `context`, showing
        `images` to a model that sees, capped at `max_tokens` when given), released when
        the `with` block ends."""
        return TurnModels(
            self.domain,
            self.settings,
            question=turn.message,
            knowledge=self.kit.knowledge,
            context=context,
            images=images,
            max_tokens=max_tokens,
        )

    def inputs(self, turn: Turn, *, context: tuple[str, ...] = ()) -> dict[str, str]:
        """The placeholders every crew text may use (see `hub.domains.vocabulary`).

        `context` is what plugins added for this turn (`before_crew`).
        """
        spec = self.domain.spec
        now = turn.now or datetime.now(ZoneInfo(spec.timezone))
        history = "\n".join(
            f"{CUSTOMER_ENTRY if role == 'customer' else BOT_ENTRY}: {text}"
            for role, text in turn.history
        )
        routes = "\n".join(
            f"- {name}: {route.description}" for name, route in spec.routing.routes.items()
        )
        return {
            "message": turn.message,
            "history": history or EMPTY_HISTORY,
            "customer_name": turn.customer_name or "cliente",
            "channel": turn.channel or "chat",
            "business_name": spec.name,
            "now": f"{WEEKDAY_NAMES_PT[now.weekday()]}, {now:%d/%m/%Y %H:%M}",
            "routes": routes,
            "context": "\n".join(f"Observação: {note}" for note in context),
        }


def kickoff(crew: Crew, inputs: dict[str, str]) -> CrewOutput:
    """Run a (non-streaming) crew and return its output."""
    from crewai.crews.crew_output import CrewOutput

    output = crew.kickoff(inputs=inputs)
    if not isinstance(output, CrewOutput):
        raise CrewError(f"unexpected crew output {type(output).__name__}")
    return output


def is_follow_up(turn: Turn) -> bool:
    """A short message right after the bot asked something or offered options."""
    if not turn.history or turn.history[-1][0] != "bot":
        return False
    asked = turn.history[-1][1].rstrip()
    offered = asked.endswith("?") or re.search(r"(?m)^\s*(?:\d+[.)]|[-*•])\s+\S", asked)
    return bool(offered) and len(turn.message.split()) <= FOLLOW_UP_WORDS


def parse_route(answer: str, routes: list[str]) -> str | None:
    """The route a model named: the first route name found as a whole word."""
    text = answer.lower()
    found = [
        (m.start(), name) for name in routes if (m := re.search(rf"\b{re.escape(name)}\b", text))
    ]
    return min(found)[1] if found else None


def _most(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """Token usage over two kickoffs of one turn's models (CrewAI counts per model
    object, so the second already holds the first: the larger of each count)."""
    keys = set(first) | set(second)
    return {
        key: max(first.get(key) or 0, second.get(key) or 0)
        if isinstance(first.get(key, 0), int | float)
        and isinstance(second.get(key, 0), int | float)
        else second.get(key, first.get(key))
        for key in keys
    }


def _clean(reply: str) -> str:
    """Strip the ReAct scaffolding some models leave around a final answer."""
    reply = reply.strip()
    if "Final Answer:" in reply:
        reply = reply.rsplit("Final Answer:", 1)[1].strip()
    return reply

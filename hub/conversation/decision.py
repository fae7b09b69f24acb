"""What a turn does, decided in one place: the worker, `chatwootai chat` and `chatwootai test`.

    domain rule ("dor no peito")          → its reply, a handoff, no model call
    the domain is over one of its limits  → `messages.limit`, a handoff (reason `limit`)
    the customer asks for a person        → the handoff (or after-hours) message
    a short yes after the bot offered one → the same, when the last reply was a miss
    only a voice note nobody could hear,  → the domain's `audio_unsupported` /
    or a picture the model cannot see       `image_unsupported` (write, describe): a miss
                                          (also a miss beside a picture the model did not see)
    otherwise the crew                    → its reply, or the handoff it asked for
        raises                            → the domain's fallback message, a handoff
        a tool's system failed            → the same: a reply without the data may be wrong
        "I don't know" (`messages.unknown`)→ a miss; at `handoff.max_failures` in a row,
                                            a person takes over instead

The function is pure but for the crew, which the caller passes in (`CrewRun`):
each caller reads the conversation's state its own way (Redis and SQL, a
terminal session, a story) and keeps what the decision says (`Decision.misses`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from hub.conversation.handoff import accepts_offer, handoff_message
from hub.conversation.handoff import decide as decide_handoff
from hub.conversation.limits import LimitName
from hub.domains.domain import Domain
from hub.domains.localized import Localized, translate
from hub.exceptions import ChatwootAIError, ModelError, ModelTimeoutError
from hub.language import choose
from hub.trace import trace_of
from hub.turn import Decision, Draft, HubResult, Turn

CrewRun = Callable[[Turn], HubResult]
"""Runs the domain's HubCrew on a turn (`HubCrew.run`)."""

FAILURE_REASON = "falha ao gerar resposta"
"""How a handoff caused by a crew failure starts its reason."""
UNANSWERED_REASON = "o bot não soube responder"
"""How a handoff after repeated misses starts its reason."""
UNHEARD_REASON = "o cliente mandou áudio que o bot não consegue ouvir"
UNSEEN_REASON = "o cliente mandou imagem que o bot não consegue ver"
"""How a handoff starts its reason when the last miss was a voice note or a picture."""
LIMIT_REASON = "limite do domínio atingido"
"""How a handoff because the domain is over one of its `limits:` starts its reason."""


def decide(
    domain: Domain,
    turn: Turn,
    crew: CrewRun,
    *,
    misses: int = 0,
    limited: LimitName | None = None,
) -> Decision:
    """The decision for `turn`, with its trace (`hub.trace`); never raises for what the
    crew or a model did.

    `misses`: the conversation's unanswered turns in a row before this one.
    `limited`: the domain limit this turn is over (`hub.conversation.limits`), if any.
    """
    started = time.perf_counter()
    decision = _decide(domain, turn, crew, misses=misses, limited=limited)
    trace = trace_of(turn, decision, time.perf_counter() - started)
    return replace(decision, trace=trace.to_json())


def _decide(
    domain: Domain, turn: Turn, crew: CrewRun, *, misses: int, limited: LimitName | None
) -> Decision:
    language = reply_language(domain, turn)
    offered = misses > 0 and accepts_offer(turn.message)
    rule = decide_handoff(domain, turn.message, turn.now, human_offered=offered, language=language)
    if rule is not None:
        draft = Draft(rule.reply, handoff_reason=rule.reason, urgent=rule.urgent, kind=rule.kind)
        return Decision(draft, routed_by="rule", misses=misses)
    if limited is not None:  # a rule still answers an emergency; nothing else runs
        text = translate(domain.spec.messages.limit, language)
        draft = Draft(text, handoff_reason=f"{LIMIT_REASON}: {limited}", kind="limit")
        return Decision(draft, routed_by="rule", misses=misses, limited=limited)
    unusable = _unusable_media(domain, turn, language)
    if unusable is not None:  # nothing a model could answer: ask for words instead
        text, reason = unusable
        said = Decision(Draft(text), routed_by="rule")
        return _after_a_miss(domain, turn, said, misses + 1, language, reason=reason)
    try:
        result = crew(turn)
    except Exception as error:  # the crew's boundary: model, tool and CrewAI errors
        described = f"{type(error).__name__}: {str(error)[:300]}"
        draft = Draft(
            translate(domain.spec.messages.fallback, language),
            handoff_reason=f"{FAILURE_REASON}: {described}",
            kind="failure",
        )
        return Decision(
            draft, misses=misses, failure=failure_kind(error), error=described, exception=error
        )
    if result.tool_failures:
        reason = f"{FAILURE_REASON}: ferramenta indisponível: {'; '.join(result.tool_failures)}"
        fallback = translate(domain.spec.messages.fallback, language)
        draft = Draft(fallback, handoff_reason=reason, kind="failure")
        return Decision(
            draft,
            route=result.route,
            routed_by=result.routed_by,
            result=result,
            misses=misses,
            failure="tool_error",
        )
    answered = Decision(
        Draft(
            result.reply,
            handoff_reason=result.handoff_reason,
            urgent=result.urgent,
            kind=None
            if result.handoff_reason is None
            else ("plugin" if result.routed_by == "plugin" else "crew"),
        ),
        route=result.route,
        routed_by=result.routed_by,
        result=result,
    )
    if answered.draft.hands_off:
        return replace(answered, misses=misses)
    if not is_miss(domain, answered.draft.text):
        return answered  # a real answer: the count starts again
    if turn.images and not turn.sees_images:  # the picture may hold what it could not find
        unseen = translate(domain.spec.messages.image_unsupported, language)
        answered = replace(answered, draft=Draft(unseen))
        return _after_a_miss(domain, turn, answered, misses + 1, language, reason=UNSEEN_REASON)
    return _after_a_miss(domain, turn, answered, misses + 1, language)


@dataclass
class Session:
    """What a worker keeps of a conversation between turns (in Redis and the store),
    kept in memory by the callers that have neither: `chatwootai chat` and the stories."""

    id: int
    history: list[tuple[str, str]] = field(default_factory=list)
    route: str | None = None
    misses: int = 0

    def after(self, text: str, decision: Decision) -> None:
        """Keep what the turn leaves: its texts, its route, the count of misses."""
        self.history += [("customer", text), ("bot", decision.draft.text)]
        self.route = decision.recorded_route
        self.misses = decision.misses


def is_miss(domain: Domain, reply: str) -> bool:
    """The reply says the domain's "I don't know" (which offers a person), or that the
    bot cannot hear or see what the customer sent, in any of their languages, whatever
    plugins put around it (a greeting before, a signature after)."""
    said = _squashed(reply)
    messages = domain.spec.messages
    return any(
        _squashed(variant) in said
        for text in (messages.unknown, messages.audio_unsupported, messages.image_unsupported)
        for variant in (text.variants() if isinstance(text, Localized) else {text})
    )


def _squashed(text: str) -> str:
    return " ".join(text.split())


def reply_language(domain: Domain, turn: Turn) -> str:
    """The language to answer the turn in: the message's, else the conversation's last
    customer message's, else the domain's (`hub.language.choose`)."""
    said = [text for role, text in turn.history if role == "customer"]
    fallback = choose(said[-1], domain.spec.language) if said else domain.spec.language
    return choose(turn.message, fallback)


def _unusable_media(domain: Domain, turn: Turn, language: str) -> tuple[str, str] | None:
    """The reply and handoff reason for a turn of media only that the bot cannot use:
    voice notes nobody transcribed, pictures the model is not shown."""
    if not turn.media_only:
        return None
    messages = domain.spec.messages
    if turn.unheard_audio:
        return translate(messages.audio_unsupported, language), UNHEARD_REASON
    if turn.images and not turn.sees_images:
        return translate(messages.image_unsupported, language), UNSEEN_REASON
    return None


def _after_a_miss(
    domain: Domain,
    turn: Turn,
    decision: Decision,
    misses: int,
    language: str,
    *,
    reason: str | None = None,
) -> Decision:
    """A miss is said, unless it is the `handoff.max_failures`-th in a row: then a
    person takes over instead of the bot saying it once more."""
    draft = decision.draft
    if misses >= domain.spec.handoff.max_failures:
        why = f"{reason} ({misses} vezes seguidas)" if reason else None
        draft = Draft(
            handoff_message(domain, turn.now, language),
            handoff_reason=why or f"{UNANSWERED_REASON} {misses} vezes seguidas",
            kind="unanswered",
        )
    return replace(decision, draft=draft, misses=misses, miss=True)


def failure_kind(error: BaseException) -> str:
    """The metrics label of a crew failure: model_timeout, model_error or crew_error.

    CrewAI wraps provider errors (openai.APITimeoutError inside a ConnectionError,
    httpx.ReadTimeout under that), so the whole cause chain is searched for a timeout.
    """
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        if isinstance(link, TimeoutError | ModelTimeoutError) or "Timeout" in type(link).__name__:
            return "model_timeout"
        link = link.__cause__ or link.__context__
    if isinstance(error, ChatwootAIError) and not isinstance(error, ModelError):
        return "crew_error"
    return "model_error"

"""Handoffs decided before any model runs: domain rules and customers asking for a person.

A domain rule (`handoff.rules`, e.g. the clinic's emergencies) answers with its
own reply and hands off at once, whatever the hour. A customer asking for a
human (`handoff.keywords`) gets the handoff message, or outside business hours
the after-hours message saying when humans are back. Matching is on normalised
text (case and accents folded), and keywords match whole words only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from hub.conversation.hours import describe_opening, is_open, local_now, next_opening
from hub.domains.domain import Domain
from hub.domains.localized import translate
from hub.knowledge.text import normalize
from hub.language import choose
from hub.language import code as code_of
from hub.turn import HandoffKind


@dataclass(frozen=True)
class HandoffDecision:
    """Why the conversation goes to a human and what the customer is told."""

    reason: str
    reply: str
    urgent: bool = False
    kind: HandoffKind = "rule"
    """`rule` (a domain rule) or `customer_asked`: the metrics' label."""


def handoff_message(
    domain: Domain, now: datetime | None = None, language: str | None = None
) -> str:
    """The domain's handoff text, or its after-hours text with when humans are back,
    in `language` when the domain translated it (else in the domain's language)."""
    spec = domain.spec
    language = language or spec.language
    moment = local_now(spec.timezone, now)
    if is_open(spec.business_hours, moment):
        return translate(spec.messages.handoff, language)
    opening = describe_opening(next_opening(spec.business_hours, moment), moment, code_of(language))
    return translate(spec.messages.after_hours, language).replace("{next_open}", opening)


def is_urgent(domain: Domain, text: str) -> bool:
    """Whether an urgent domain rule matches: the message jumps the queue (receiver)."""
    return any(
        rule.urgent and any(re.search(pattern, text) for pattern in rule.patterns)
        for rule in domain.spec.handoff.rules
    )


def decide(
    domain: Domain,
    text: str,
    now: datetime | None = None,
    *,
    human_offered: bool = False,
    language: str | None = None,
) -> HandoffDecision | None:
    """A handoff the message calls for before the crew runs, or None.

    `human_offered`: the bot's last reply was the domain's `messages.unknown`, which
    offers a person; a short yes ("sim", "pode chamar") accepts the offer.
    `language`: what to answer in (default: the message's, else the domain's).
    """
    handoff = domain.spec.handoff
    language = language or choose(text, domain.spec.language)
    for rule in handoff.rules:
        if any(re.search(pattern, text) for pattern in rule.patterns):
            reply = translate(rule.reply, language)
            return HandoffDecision(f"regra {rule.name}", reply, urgent=rule.urgent)
    folded = normalize(text)
    for keyword in handoff.keywords:
        if _keyword(keyword).search(folded):
            return HandoffDecision(
                f"o cliente pediu atendimento humano ({keyword!r})",
                handoff_message(domain, now, language),
                kind="customer_asked",
            )
    if human_offered and accepts_offer(text):
        return HandoffDecision(
            "o cliente pediu atendimento humano (aceitou a oferta do bot)",
            handoff_message(domain, now, language),
            kind="customer_asked",
        )
    return None


YES = frozenset(
    {"sim", "pode", "quero", "claro", "ok", "okay", "blz", "beleza", "chama", "chame", "s"}
    | {"yes", "yeah", "sure", "please", "isso", "aceito", "gostaria", "por"}
    | {"si", "vale", "bueno"}
)
"""Words a short acceptance starts with ("sim, por favor", "pode chamar", "yes please")."""

ACCEPTANCE = YES | frozenset(
    {"favor", "chamar", "sim", "uma", "um", "pessoa", "alguem", "atendente", "humano"}
    | {"da", "equipe", "por", "ai", "entao", "obrigado", "obrigada", "vlw", "valeu"}
    | {"it", "do", "ok", "someone", "a", "person", "thanks", "thank", "you"}
    | {"gracias", "alguien", "persona", "una"}
)
"""Every word of an acceptance comes from here: "quero saber o preço" is a new question."""


def accepts_offer(text: str) -> bool:
    """A short yes to the bot's offer of a person; anything else is a new message."""
    words = re.findall(r"\w+", normalize(text))
    return 0 < len(words) <= 6 and words[0] in YES and set(words) <= ACCEPTANCE


@lru_cache(maxsize=1024)
def _keyword(keyword: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(normalize(keyword))}(?!\w)")

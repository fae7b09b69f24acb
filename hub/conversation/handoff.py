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
from hub.knowledge.text import normalize


@dataclass(frozen=True)
class HandoffDecision:
    """Why the conversation goes to a human and what the customer is told."""

    reason: str
    reply: str
    urgent: bool = False


def handoff_message(domain: Domain, now: datetime | None = None) -> str:
    """The domain's handoff text, or its after-hours text with when humans are back."""
    spec = domain.spec
    moment = local_now(spec.timezone, now)
    if is_open(spec.business_hours, moment):
        return spec.messages.handoff
    opening = describe_opening(next_opening(spec.business_hours, moment), moment)
    return spec.messages.after_hours.replace("{next_open}", opening)


def is_urgent(domain: Domain, text: str) -> bool:
    """Whether an urgent domain rule matches: the message jumps the queue (receiver)."""
    return any(
        rule.urgent and any(re.search(pattern, text) for pattern in rule.patterns)
        for rule in domain.spec.handoff.rules
    )


def decide(domain: Domain, text: str, now: datetime | None = None) -> HandoffDecision | None:
    """A handoff the message calls for before the crew runs, or None."""
    handoff = domain.spec.handoff
    for rule in handoff.rules:
        if any(re.search(pattern, text) for pattern in rule.patterns):
            return HandoffDecision(f"regra {rule.name}", rule.reply, urgent=rule.urgent)
    folded = normalize(text)
    for keyword in handoff.keywords:
        if _keyword(keyword).search(folded):
            return HandoffDecision(
                f"o cliente pediu atendimento humano ({keyword!r})", handoff_message(domain, now)
            )
    return None


@lru_cache(maxsize=1024)
def _keyword(keyword: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(normalize(keyword))}(?!\w)")

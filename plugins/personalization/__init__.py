"""Personalization: the customer's first name, a greeting by the local time of day,
the business's tone and signature, and channel limits (long WhatsApp replies split).

It only adds around the crew's reply and cuts between sentences: facts (prices,
times, numbers) reach the customer exactly as the crew wrote them.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from hub.language import choose
from hub.plugins import Verdict, hookimpl
from plugins.personalization.settings import PersonalizationSettings
from plugins.personalization.text import already_greets, first_name, greeting, split

if TYPE_CHECKING:
    from hub.domains.domain import Domain
    from hub.turn import Turn

__all__ = ["PersonalizationSettings", "first_name", "greeting", "split"]


@hookimpl
def settings_model() -> type[BaseModel]:
    return PersonalizationSettings


@hookimpl
def before_crew(config: PersonalizationSettings) -> Verdict | None:
    """The business's tone, as a note in the crew's prompt."""
    return Verdict(context=f"tom de voz da empresa: {config.tone}") if config.tone else None


@hookimpl
def after_crew(
    domain: Domain, config: PersonalizationSettings, turn: Turn, reply: str
) -> str | None:
    """A greeting with the first name on the conversation's first reply; the signature."""
    text = reply
    if config.greeting and not turn.history and not already_greets(reply):
        zone = ZoneInfo(domain.spec.timezone)
        moment = (turn.now or datetime.now(zone)).astimezone(zone)
        hello = greeting(moment, choose(turn.message, domain.spec.language))
        name = first_name(turn.customer_name)
        text = f"{hello}, {name}! {text}" if name else f"{hello}! {text}"
    if config.signature and not text.rstrip().endswith(config.signature):
        text = f"{text}\n\n{config.signature}"
    return text if text != reply else None


@hookimpl
def reply_parts(
    config: PersonalizationSettings, text: str, channel: str | None
) -> list[str] | None:
    """Long replies on the configured channels, cut at paragraph and sentence boundaries."""
    if channel not in config.split_channels or len(text) <= config.max_length:
        return None
    return split(text, config.max_length)

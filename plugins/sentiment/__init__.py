"""Sentiment: a lexicon-and-rules score of each customer message, Portuguese and English.

Offline (`analyzer.py`, VADER-style with lexicons in `lexicon/`), well under a
millisecond per message, so it runs in the receiver too. A very negative message
is urgent (priority) and labelled; the crew gets a note when the customer is
unhappy; a domain may hand such customers to a human (`handoff_below`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel

from hub.plugins import Signals, Verdict, hookimpl
from plugins.sentiment.analyzer import Sentiment, analyze
from plugins.sentiment.settings import SentimentSettings

if TYPE_CHECKING:
    from hub.turn import Turn

__all__ = ["Sentiment", "SentimentSettings", "analyze"]


@hookimpl
def settings_model() -> type[BaseModel]:
    return SentimentSettings


@hookimpl
def message_received(config: SentimentSettings, text: str) -> Signals:
    """Urgent and labelled when very negative; a handoff when the domain's rule says so."""
    sentiment = analyze(text)
    urgent = sentiment.score <= config.urgent_below
    return Signals(
        urgent=urgent,
        handoff_reason=_handoff_reason(config, sentiment),
        labels=(config.label,) if urgent and config.label else (),
        attributes={"sentiment": sentiment.label, "sentiment_score": sentiment.score},
    )


@hookimpl
def before_crew(config: SentimentSettings, turn: Turn) -> Verdict | None:
    """The same reading in the worker: a note for the crew, priority, or the handoff rule."""
    sentiment = analyze(turn.message)
    reason = _handoff_reason(config, sentiment)
    if reason is not None:
        return Verdict(urgent=True, handoff_reason=reason, reply=config.handoff_reply)
    note = None
    if sentiment.score <= config.note_below:
        note = (
            "o cliente parece insatisfeito"
            + (" e usa ironia" if sentiment.irony else "")
            + f" (sentimento {sentiment.score:+.2f}): reconheça o problema com empatia, "
            "seja objetivo e ofereça uma pessoa da equipe se não puder resolver."
        )
    urgent = sentiment.score <= config.urgent_below
    return Verdict(context=note, urgent=urgent) if note or urgent else None


def _handoff_reason(config: SentimentSettings, sentiment: Sentiment) -> str | None:
    if config.handoff_below is None or sentiment.score > config.handoff_below:
        return None
    return f"sentimento muito negativo ({sentiment.score:+.2f}): cliente insatisfeito"

"""What a domain sets under `plugins.sentiment`."""

from __future__ import annotations

from pydantic import Field

from hub.plugins import PluginSettings


class SentimentSettings(PluginSettings):
    """Thresholds on the compound score (-1 very negative … 1 very positive)."""

    urgent_below: float = Field(default=-0.6, ge=-1, le=0)
    """At or below: the conversation is urgent (priority) and labelled."""
    handoff_below: float | None = Field(default=None, ge=-1, le=0)
    """At or below: the domain's rule hands the conversation to a human (unset: never)."""
    handoff_reply: str | None = Field(default=None, min_length=1)
    """What the customer is told on that handoff (unset: the domain's handoff message)."""
    note_below: float = Field(default=-0.2, ge=-1, le=0)
    """At or below: the crew is told the customer is unhappy (a prompt note)."""
    label: str | None = Field(default="cliente-insatisfeito", min_length=1)
    """The Chatwoot label of an urgent (very negative) message; null for none."""

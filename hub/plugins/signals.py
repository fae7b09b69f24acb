"""What plugins hand back to the pipeline: signals on arrival, a verdict before the crew."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Signals:
    """What `message_received` learned about a message, cheaply, as it arrived.

    `urgent` raises the conversation's priority; `handoff_reason` asks for a human;
    `labels` go on the conversation; `attributes` are facts (a sentiment score)
    worth keeping on it. The host merges every plugin's signals (`merged`).
    """

    urgent: bool = False
    handoff_reason: str | None = None
    labels: tuple[str, ...] = ()
    attributes: Mapping[str, Any] = field(default_factory=dict)

    def merged(self, other: Signals) -> Signals:
        """Urgent if either is; the first reason; labels in order, once; first value per key."""
        return Signals(
            urgent=self.urgent or other.urgent,
            handoff_reason=self.handoff_reason or other.handoff_reason,
            labels=tuple(dict.fromkeys((*self.labels, *other.labels))),
            attributes={**other.attributes, **self.attributes},
        )


@dataclass(frozen=True)
class Verdict:
    """What one plugin's `before_crew` decided about a turn; every field is optional.

    `context` is a note added to the crew's prompt; `urgent` raises the priority;
    `reply` answers without the crew; `handoff_reason` hands the conversation to a
    human (with `reply`, or the domain's handoff message, as the customer's answer).
    """

    context: str | None = None
    urgent: bool = False
    reply: str | None = None
    handoff_reason: str | None = None

    @property
    def answers(self) -> bool:
        """Whether this verdict replaces the crew's run."""
        return self.reply is not None or self.handoff_reason is not None


@dataclass(frozen=True)
class Verdicts:
    """Every enabled plugin's verdict on one turn, merged by the host.

    Contexts add up and urgency is any plugin's; the first plugin (in the domain's
    `plugins:` order) whose verdict answers decides the turn, as `answered_by`.
    """

    context: tuple[str, ...] = ()
    urgent: bool = False
    reply: str | None = None
    handoff_reason: str | None = None
    answered_by: str | None = None

    def add(self, plugin: str, verdict: Verdict) -> Verdicts:
        answering = self.answered_by is None and verdict.answers
        return Verdicts(
            context=(*self.context, verdict.context) if verdict.context else self.context,
            urgent=self.urgent or verdict.urgent,
            reply=verdict.reply if answering else self.reply,
            handoff_reason=verdict.handoff_reason if answering else self.handoff_reason,
            answered_by=plugin if answering else self.answered_by,
        )

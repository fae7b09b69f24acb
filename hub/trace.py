"""A turn's trace: why the bot answered what it did, as plain JSON-able data.

`hub.conversation.decision.decide` builds one for every turn it decides, so the
worker, `chatwootai chat`, `chatwootai test` and the console's playground show the
same record; the worker stores it with the turn (`hub.store.conversations`).
It holds:

    route          the route, who chose it (router, follow-up, model, default, rule,
                   plugin) and the router's confidence
    passages       the knowledge passages the model looked at: file, heading, score
    tools          each tool call: name, arguments, result kind and summary, error
    gate           the reply gate's refusals in order, and who wrote the reply posted
    handoff        the handoff's kind, reason and urgency (None for a plain reply)
    miss/failure   an "I don't know", a crew failure's label and error
    tokens, cost, seconds, model
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from hub.turn import Decision, Turn

SUMMARY_CHARS = 240
"""A tool result's text is cut to this many characters in the trace."""
PASSAGE_CHARS = 320
"""A passage's text is cut to this many characters in the trace."""


@dataclass(frozen=True)
class Trace:
    """One turn's trace (see the module); `to_json` is what is stored and shown."""

    message: str
    channel: str = ""
    route: str | None = None
    routed_by: str | None = None
    route_confidence: float | None = None
    model: str = ""
    passages: list[dict[str, Any]] = field(default_factory=list)
    tools: list[dict[str, Any]] = field(default_factory=list)
    gate: dict[str, Any] = field(default_factory=dict)
    handoff: dict[str, Any] | None = None
    miss: bool = False
    failure: str | None = None
    error: str | None = None
    tokens: dict[str, int] = field(default_factory=dict)
    cost_usd: float | None = None
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """The trace as a dict of JSON types only."""
        return asdict(self)

    @property
    def rejected(self) -> bool:
        """The reply gate refused at least one reply of the turn."""
        return bool(self.gate.get("rejections"))


def trace_of(turn: Turn, decision: Decision, seconds: float) -> Trace:
    """The trace of `decision`, taken for `turn` in `seconds`."""
    result = decision.result
    draft = decision.draft
    handoff = (
        {"kind": draft.kind, "reason": draft.handoff_reason, "urgent": draft.urgent}
        if draft.hands_off
        else None
    )
    if result is None:
        return Trace(
            message=turn.message,
            channel=turn.channel,
            route=decision.route,
            routed_by=decision.routed_by,
            handoff=handoff,
            miss=decision.miss,
            failure=decision.failure,
            error=decision.error,
            seconds=round(seconds, 4),
        )
    usage = result.usage
    return Trace(
        message=turn.message,
        channel=turn.channel,
        route=result.route,
        routed_by=result.routed_by,
        route_confidence=round(result.route_confidence, 4),
        model=result.model,
        passages=[
            {
                "source": p.source,
                "heading": p.heading,
                "score": round(p.score, 4),
                "by": p.by,
                "text": p.text[:PASSAGE_CHARS],
            }
            for p in result.retrieved
        ],
        tools=[
            {
                "tool": call.tool,
                "arguments": _plain(call.arguments),
                "kind": call.kind,
                "summary": call.summary[:SUMMARY_CHARS],
                "error": call.error,
            }
            for call in result.calls
        ],
        gate={
            "rejections": list(result.rejections),
            "retried": len(result.rejections) > 0 and result.source != "handoff",
            "source": result.source,
        },
        handoff=handoff,
        miss=decision.miss,
        failure=decision.failure,
        error=decision.error,
        tokens={
            key: int(usage[key])
            for key in ("prompt_tokens", "completion_tokens", "total_tokens")
            if isinstance(usage.get(key), int | float)
        },
        cost_usd=result.cost_usd,
        seconds=round(seconds, 4),
    )


def _plain(value: Any) -> Any:
    """`value` with anything that is not a JSON type turned into its text."""
    if isinstance(value, dict):
        return {str(key): _plain(inner) for key, inner in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(inner) for inner in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)

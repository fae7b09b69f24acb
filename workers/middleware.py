"""What watches a turn from outside it: metrics, the turn's log lines, plugin notices.

As dramatiq's middleware: the worker calls each hook where the thing happened
(a turn starts, a decision is made, a message reaches Chatwoot, a conversation
goes to a person, a call fails), and the middleware only observes; none of
them changes what the turn does.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Literal

import structlog

from hub.conversation.inbound import InboundMessage
from hub.domains.domain import Domain
from hub.plugins.manager import PluginHost
from hub.telemetry import Telemetry
from hub.turn import Decision, Draft

log = structlog.get_logger(__name__)

ReplyKind = Literal["answer", "handoff"]


class Middleware:
    """The hooks; each does nothing unless a subclass says otherwise."""

    def turn_started(self, domain: Domain, burst: Sequence[InboundMessage]) -> None:
        """A burst's first attempt is about to be decided (a retry carries out its draft)."""

    def decided(self, domain: Domain, last: InboundMessage, decision: Decision) -> None:
        """The turn was decided (rules, offers, misses, crew)."""

    def replied(self, domain: Domain, message: InboundMessage, kind: ReplyKind) -> None:
        """A customer-facing message reached Chatwoot: the answer, or a handoff's notice."""

    def handed_off(self, domain: Domain, message: InboundMessage, draft: Draft) -> None:
        """Every call of a handoff reached Chatwoot: a person owns the conversation now."""

    def failed(self, domain_id: str, reason: str) -> None:
        """Handling a message met `reason` (chatwoot_error, redis_error) and will retry."""

    def handled(self, domain_id: str, outcome: str) -> None:
        """A task ended: its message was `outcome` (replied, …, dead_letter)."""

    def dead_lettered(self, domain_id: str, reason: str) -> None:
        """A message was given up on and kept in the dead-letter list, for `reason`."""


class Middlewares(Middleware):
    """Several middlewares, called in order."""

    def __init__(self, members: Sequence[Middleware]) -> None:
        self.members = tuple(members)

    def turn_started(self, domain: Domain, burst: Sequence[InboundMessage]) -> None:
        for member in self.members:
            member.turn_started(domain, burst)

    def decided(self, domain: Domain, last: InboundMessage, decision: Decision) -> None:
        for member in self.members:
            member.decided(domain, last, decision)

    def replied(self, domain: Domain, message: InboundMessage, kind: ReplyKind) -> None:
        for member in self.members:
            member.replied(domain, message, kind)

    def handed_off(self, domain: Domain, message: InboundMessage, draft: Draft) -> None:
        for member in self.members:
            member.handed_off(domain, message, draft)

    def failed(self, domain_id: str, reason: str) -> None:
        for member in self.members:
            member.failed(domain_id, reason)

    def handled(self, domain_id: str, outcome: str) -> None:
        for member in self.members:
            member.handled(domain_id, outcome)

    def dead_lettered(self, domain_id: str, reason: str) -> None:
        for member in self.members:
            member.dead_lettered(domain_id, reason)


class Metrics(Middleware):
    """The worker's series of `hub.telemetry` (documented there, scraped from /metrics)."""

    def __init__(self, telemetry: Telemetry) -> None:
        self.telemetry = telemetry

    def turn_started(self, domain: Domain, burst: Sequence[InboundMessage]) -> None:
        now = time.time()
        for message in burst:
            self.telemetry.observe(
                "queue_wait_seconds", domain.id, max(0.0, now - message.received_at)
            )

    def decided(self, domain: Domain, last: InboundMessage, decision: Decision) -> None:
        if decision.failure is not None:
            self.telemetry.count("failures", domain.id, decision.failure)
        if decision.limited is not None:
            self.telemetry.count("tenant_limited", domain.id, decision.limited)
        result = decision.result
        if result is None:
            return
        self.telemetry.observe("crew_seconds", domain.id, result.crew_seconds)
        if result.cache is not None:
            self.telemetry.count("answer_cache", domain.id, result.cache)
        for reason in result.rejections:
            self.telemetry.count("replies_rejected", domain.id, reason)
        if result.rejections:
            self.telemetry.count("reply_fallbacks", domain.id, result.source)
        if decision.failure is not None:
            return
        for kind in ("prompt", "completion"):
            tokens = int(result.usage.get(f"{kind}_tokens") or 0)
            if tokens:
                self.telemetry.count("model_tokens", domain.id, kind, tokens)

    def replied(self, domain: Domain, message: InboundMessage, kind: ReplyKind) -> None:
        self.telemetry.count("replies", domain.id, kind)
        self.telemetry.observe(
            "reply_seconds", domain.id, max(0.0, time.time() - message.received_at)
        )

    def handed_off(self, domain: Domain, message: InboundMessage, draft: Draft) -> None:
        self.telemetry.count("handoffs", domain.id, draft.kind or "crew")

    def failed(self, domain_id: str, reason: str) -> None:
        self.telemetry.count("failures", domain_id, reason)

    def handled(self, domain_id: str, outcome: str) -> None:
        self.telemetry.count("messages_handled", domain_id, outcome)

    def dead_lettered(self, domain_id: str, reason: str) -> None:
        self.telemetry.count("dead_letters", domain_id, reason)


class TurnLog(Middleware):
    """The turn's log lines: what the crew answered or why it failed."""

    def decided(self, domain: Domain, last: InboundMessage, decision: Decision) -> None:
        result = decision.result
        if decision.error is not None:
            log.error(
                "crew failed; handing off",
                domain=domain.id,
                error=decision.error,
                exc_info=decision.exception,
            )
        elif decision.failure == "tool_error" and result is not None:
            log.error("tool failed; handing off", failures=list(result.tool_failures))
        elif result is not None:
            log.info(
                "crew answered",
                route=result.route,
                routed_by=result.routed_by,
                crew_seconds=round(result.crew_seconds, 3),
                queue_seconds=round(time.time() - last.received_at, 3),
                tools=list(result.tool_calls),
                tokens=result.usage.get("total_tokens"),
                rejections=list(result.rejections),
                source=result.source,
                cache=result.cache,
            )


class PluginNotices(Middleware):
    """Tells the domain's plugins that a conversation went to a person (`handed_off`)."""

    def __init__(self, plugins: PluginHost) -> None:
        self.plugins = plugins

    def handed_off(self, domain: Domain, message: InboundMessage, draft: Draft) -> None:
        self.plugins.handed_off(
            domain,
            account_id=message.account_id,
            conversation_id=message.conversation_id,
            reason=draft.handoff_reason or "",
        )

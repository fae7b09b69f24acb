"""The conversation's turns in the store: read for the prompt, written after the post.

A store outage never blocks a reply: the history is then empty (a warning), and a
turn the database refuses goes to the turn spool (`hub.store.spool`), counted as
failures{reason="store_unavailable"}, to be written when the database is back.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy.exc import SQLAlchemyError

from hub.conversation.inbound import InboundMessage
from hub.crews.llm import turn_cost
from hub.domains.domain import Domain
from hub.store.conversations import TurnRecord, recent, record_turn
from hub.store.database import connection_scope
from hub.store.spool import drain_quietly
from hub.turn import Draft
from workers.runtime import WorkerRuntime

log = structlog.get_logger(__name__)

STORE_UNAVAILABLE = "store_unavailable"
"""The `failures` reason of a turn the database refused (spooled)."""


def read_history(
    runtime: WorkerRuntime, domain: Domain, message: InboundMessage
) -> tuple[tuple[tuple[str, str], ...], str | None]:
    """The conversation's last turns for the prompt and the last turn's route; none if
    the store is unavailable."""
    try:
        with connection_scope(runtime.factory.engine, read_only=True) as connection:
            turns, route = recent(
                connection,
                domain.id,
                message.account_id,
                message.conversation_id,
                turns=domain.spec.conversation.history_turns,
            )
            return tuple(turns), route
    except SQLAlchemyError as error:
        log.warning("conversation history unavailable", error=str(error)[:200])
        return (), None


def record(
    runtime: WorkerRuntime,
    domain: Domain,
    burst: Sequence[InboundMessage],
    draft: Draft,
    route: str | None,
    usage: dict[str, object],
    trace: dict[str, Any] | None = None,
) -> None:
    """Keep the turn for the next prompt's history, with its trace (`hub.trace`).

    A burst is one turn, filed under its last message, with the customer's texts joined.
    It runs after the post and before the turn is closed (confirmed, out of the
    mailbox): whatever goes wrong here is logged, never raised, or the posted reply
    would stay unconfirmed and its burst be answered again.
    """
    try:
        last = burst[-1]
        turn = TurnRecord(
            domain=domain.id,
            account_id=last.account_id,
            conversation_id=last.conversation_id,
            message_id=last.message_id,
            customer_text="\n".join(m.text for m in burst),
            reply_text=draft.text,
            route=route,
            latency_ms=int((time.time() - last.received_at) * 1000),
            prompt_tokens=_tokens(usage, "prompt_tokens"),
            completion_tokens=_tokens(usage, "completion_tokens"),
            cost_usd=turn_cost(domain, runtime.settings, usage) if usage else None,
            trace=trace or None,
            handoff_kind=draft.kind if draft.hands_off else None,
            failure=(trace or {}).get("failure"),
            rejected=bool((trace or {}).get("gate", {}).get("rejections")),
        )
    except Exception:
        log.exception("turn not recorded")
        return
    answered_at = datetime.now(UTC)
    try:
        with connection_scope(runtime.factory.engine) as connection:
            record_turn(connection, turn, now=answered_at)
    except SQLAlchemyError as error:
        spool(runtime, turn, answered_at, error)
        return
    except Exception:
        log.exception("turn not recorded")
        return
    if runtime.spool.pending:  # this process spooled turns: the database is back
        drain_quietly(runtime.spool, runtime.factory.engine, batches=1)  # the rest: drainer


def spool(
    runtime: WorkerRuntime, turn: TurnRecord, answered_at: datetime, error: Exception
) -> None:
    """Keep a turn the database refused in the spool, counted; logged if even that fails."""
    runtime.middleware.failed(turn.domain, STORE_UNAVAILABLE)
    try:
        kept = runtime.spool.add(turn, answered_at)
    except Exception as failure:  # Redis away as well
        log.error("turn not recorded", error=str(error)[:200], spool=str(failure)[:200])
        return
    if kept:
        log.warning("turn spooled: database unavailable", error=str(error)[:200])


def _tokens(usage: dict[str, object], name: str) -> int | None:
    value = usage.get(name)
    return int(value) if isinstance(value, int | float) else None

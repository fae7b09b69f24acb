"""The Celery task: `chatwootai.handle_message`, one customer message per run.

Transient Chatwoot failures (429, 5xx, network) retry with exponential backoff
and jitter; whatever still fails is written to the dead-letter list and logged.
Crew and model failures never reach here: the handler answers those with the
domain's fallback message and a handoff.
"""

from __future__ import annotations

import random
from typing import Any

import redis
import structlog
from celery import Task
from pydantic import ValidationError

from hub.conversation.inbound import InboundMessage
from hub.conversation.lock import LOCK_TTL_SECONDS
from hub.exceptions import ChatwootAPIError
from hub.logs import message_context
from hub.queue import HANDLE_MESSAGE, priority_of, queue_name
from workers import app
from workers.delivery import report_refusal
from workers.handler import handle
from workers.runtime import WorkerRuntime, runtime

log = structlog.get_logger(__name__)

MAX_RETRIES = 6
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 120.0

RECHECK_SECONDS = LOCK_TTL_SECONDS
"""When another worker holds the conversation, the message is in its mailbox and that
worker answers it; the task only comes back this much later to make sure, which also
covers a holder that died (its lock expires within LOCK_TTL_SECONDS)."""


def backoff(retries: int) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(cap, base * 2^retries)]."""
    return random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**retries))


@app.task(name=HANDLE_MESSAGE, bind=True, max_retries=MAX_RETRIES)  # type: ignore[untyped-decorator]
def handle_message(self: Task, payload: dict[str, Any]) -> str:
    """Answer one queued customer message; returns what became of it.

    Transient failures (Chatwoot 429/5xx/network, Redis) retry with backoff;
    whatever cannot be answered ends in the dead-letter list, never in silence.
    """
    rt = runtime()
    with rt.telemetry.batch():  # not started (tests): every metric in one round trip
        return _handle(self, rt, payload)


def _handle(self: Task, rt: WorkerRuntime, payload: dict[str, Any]) -> str:
    try:
        message = InboundMessage.model_validate(payload)
    except ValidationError as error:
        return _dead_letter(rt, payload, "invalid_payload", str(error))
    with message_context(
        domain=message.domain,
        conversation_id=message.conversation_id,
        account_id=message.account_id,
        message_id=message.message_id,
    ):
        try:
            handled = handle(rt, message)
        except (ChatwootAPIError, redis.RedisError) as error:
            retryable = not isinstance(error, ChatwootAPIError) or error.retryable
            if retryable and self.request.retries < MAX_RETRIES:
                delay = backoff(self.request.retries)
                log.warning(
                    "transient failure; retrying",
                    delay=round(delay, 1),
                    attempt=self.request.retries + 1,
                    error=str(error),
                )
                # Celery rebuilds a retry's argsrepr from the args (customer text and
                # name) unless told: keep the ids-only one the receiver set for Flower.
                raise self.retry(
                    exc=error,
                    countdown=delay,
                    argsrepr=message.safe_repr,
                    kwargsrepr="{}",
                ) from error
            if isinstance(error, ChatwootAPIError) and error.refused:
                report_refusal(message, error)
            return _dead_letter(rt, payload, type(error).__name__, str(error))
        except Exception as error:  # a bug: keep the message for an operator
            log.exception("unexpected failure")
            return _dead_letter(rt, payload, "unexpected", f"{type(error).__name__}: {error}")
        if handled.status == "busy":
            _recheck_later(message, RECHECK_SECONDS)
        elif handled.status == "deferred" and handled.recheck is not None:
            _recheck_later(handled.recheck, handled.delay)
        log.info(
            "message handled",
            status=handled.status,
            route=handled.route,
            reason=handled.reason,
            burst=handled.messages,
        )
        rt.middleware.handled(message.domain, handled.status)
        return handled.status


def _recheck_later(message: InboundMessage, delay: float) -> None:
    """Queue a message's task again, delayed: published before this run is acknowledged.

    A delayed task waits in a worker's memory, not in a thread: waiting for a burst
    to end costs no capacity.
    """
    handle_message.apply_async(
        args=[message.model_dump()],
        queue=queue_name(message.domain),
        countdown=delay,
        priority=priority_of(message.urgent),
        argsrepr=message.safe_repr,
        kwargsrepr="{}",
    )


def _dead_letter(rt: WorkerRuntime, payload: dict[str, Any], reason: str, error: str) -> str:
    rt.dead_letters.add(payload, reason=reason, error=error)
    try:
        message = InboundMessage.model_validate(payload)
    except ValidationError:
        pass
    else:  # kept for an operator, so out of the mailbox: a later burst must not answer it
        try:
            rt.mailbox.withdraw(message)
        except redis.RedisError as failure:
            log.warning("dead letter left in its mailbox", error=str(failure))
    rt.middleware.handled(str(payload.get("domain", "unknown")), "dead_letter")
    log.error("message dead-lettered", reason=reason, error=error)
    return "dead_letter"

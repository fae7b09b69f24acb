"""The Celery tasks: `chatwootai.handle_message`, one customer message per run, and
`chatwootai.claim_turn`, a shared queue's token, which claims the message its shard's
tenants are due (`hub.conversation.fairness`) and answers it the same way.

Transient Chatwoot failures (429, 5xx, network) and Redis errors are retried for
a time, not a count (CHATWOOTAI_CHATWOOT_RETRY_SECONDS, from the message's first
failure), with capped exponential backoff and jitter. A retry is a delayed task:
no worker thread waits, and the conversation's lock is let go, so its later
messages join the same burst (answered in order, once). While Chatwoot's circuit
is open (`hub.chatwoot.breaker`) the task does not even start a turn: it comes
back when the circuit may let a call through. Whatever still fails is written to
the dead-letter list (`hub.conversation.deadletter`) with why and when, counted,
and reported (`workers.unanswered`). Crew and model failures never reach here:
the handler answers those with the domain's fallback message and a handoff.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import redis
import structlog
from celery import Task
from celery.exceptions import Retry as Retrying
from pydantic import ValidationError

from hub.conversation.inbound import InboundMessage
from hub.conversation.lock import LOCK_TTL_SECONDS
from hub.exceptions import ChatwootAPIError, ChatwootUnavailableError, DomainNotFoundError
from hub.logs import message_context
from hub.queue import (
    CLAIM_TURN,
    ENQUEUE_MESSAGE,
    HANDLE_MESSAGE,
    PRIORITY_NORMAL,
    is_shard,
    priority_of,
    queue_for,
    queue_of,
)
from workers import app
from workers.delivery import report_refusal
from workers.handler import handle
from workers.runtime import WorkerRuntime, runtime
from workers.unanswered import report_unanswered

log = structlog.get_logger(__name__)

BACKOFF_BASE_SECONDS = 2.0

RECHECK_SECONDS = LOCK_TTL_SECONDS
"""When another worker holds the conversation, the message is in its mailbox and that
worker answers it; the task only comes back at most this much later to make sure,
which also covers a holder that died (its lock expires within LOCK_TTL_SECONDS)."""

RECHECK_MARGIN_SECONDS = 1.0
"""A busy message comes back this long after the lock would expire: a live holder has
renewed it by then (every third of the TTL), a dead one's is gone."""


def recheck_delay(expires_in: float) -> float:
    """When a busy message comes back: just after the holder's lock would expire if the
    holder died, so a dead holder costs the rest of its lock's life, not a full recheck."""
    return min(RECHECK_SECONDS, expires_in + RECHECK_MARGIN_SECONDS)


REPUBLISH_POLICY = {"max_retries": 18, "interval_start": 0, "interval_step": 1, "interval_max": 5}
"""How a retry or a re-check is published while Redis is away: again every 1, 2, … 5 s,
about 75 s in all, so a Redis restart does not drop the task that carries the message
(its original stays unacknowledged, given again only after the visibility timeout)."""


def backoff(retries: int, cap: float) -> float:
    """Capped exponential backoff with jitter: uniform in [d/2, d], d = min(cap, base·2^n).
    Half of it fixed keeps a message from coming back at once; the jittered half spreads
    the messages an outage piled up."""
    delay = min(cap, BACKOFF_BASE_SECONDS * 2**retries)
    return random.uniform(delay / 2, delay)


def retry_delay(error: Exception, retries: int, cap: float) -> float:
    """When to try again: after the backoff, and not before the circuit may let a call
    through (plus up to a second of jitter, so the backlog does not arrive at once)."""
    delay = backoff(retries, cap)
    if isinstance(error, ChatwootUnavailableError):
        delay = max(delay, error.retry_in + random.uniform(0, 1))
    return delay


@app.task(name=HANDLE_MESSAGE, bind=True, max_retries=None)  # type: ignore[untyped-decorator]
def handle_message(self: Task, payload: dict[str, Any], failing_since: float | None = None) -> str:
    """Answer one queued customer message; returns what became of it.

    Transient failures (Chatwoot 429/5xx/network, Redis) retry with backoff until
    CHATWOOTAI_CHATWOOT_RETRY_SECONDS after `failing_since` (the first failure);
    whatever cannot be answered ends in the dead-letter list, never in silence.
    """
    rt = runtime()
    with rt.telemetry.batch():  # not started (tests): every metric in one round trip
        return _handle(
            rt, payload, failing_since, attempt=self.request.retries, retry=_retry_by(self)
        )


@app.task(name=CLAIM_TURN, bind=True, max_retries=None)  # type: ignore[untyped-decorator]
def claim_turn(self: Task, queue: str, failing_since: float | None = None) -> str:
    """A shared queue's token: answer the message its tenants are due, fairly.

    Every tenant with work at its cap: the token is parked, and the next release
    queues one again. A transient failure retries the token itself (the same task
    id), which keeps its claim in flight and resumes the same message.
    """
    rt = runtime()
    task_id = str(self.request.id)
    with rt.telemetry.batch():
        claim = rt.fair.claim(queue, task_id)
        if claim.payload is None:
            return claim.kind  # "capped" (parked) or "empty": another token took its message
        if claim.kind == "resumed":
            log.info("claim resumed", tenant=claim.tenant, queue=queue)
        try:
            status = _handle(
                rt,
                claim.payload,
                failing_since,
                attempt=self.request.retries,
                retry=_retry_by(self, shard=queue),
            )
        except Retrying:
            raise  # the claim stays in flight for the retry
        except BaseException:
            _release(rt, queue, task_id)
            raise
        _release(rt, queue, task_id)
        return status


def _release(rt: WorkerRuntime, queue: str, task_id: str) -> None:
    """Free the claim; queue a parked token again in its place, before this one is
    acknowledged (a worker that dies in between has its token redelivered instead)."""
    if rt.fair.release(queue, task_id).unparked:
        claim_turn.apply_async(
            args=[queue],
            queue=queue,
            priority=PRIORITY_NORMAL,
            argsrepr=queue,
            retry=True,
            retry_policy=REPUBLISH_POLICY,
        )


Retry = Callable[[InboundMessage, Exception, float, float], str]
"""How a transient failure comes back: (message, error, failing since, delay) → status."""


def _retry_by(task: Task, shard: str | None = None) -> Retry:
    """A retry of `task` itself, delayed, with the same id; Flower shows the message's
    ids (after the shard, for a token: as the receiver queued it)."""

    def retry(message: InboundMessage, error: Exception, since: float, delay: float) -> str:
        # Celery rebuilds a retry's argsrepr from the args (customer text and
        # name) unless told: keep the ids-only one the receiver set for Flower.
        raise task.retry(
            exc=error,
            countdown=delay,
            kwargs={"failing_since": since},
            argsrepr=f"{shard} for {message.safe_repr}" if shard else message.safe_repr,
            kwargsrepr="{}",
            retry=True,
            retry_policy=REPUBLISH_POLICY,
        ) from error

    return retry


@app.task(name=ENQUEUE_MESSAGE)  # type: ignore[untyped-decorator]
def enqueue_message(payload: dict[str, Any]) -> str:
    """A shared tenant's message due again (a re-check): back in its tenant's line,
    with a token, so it is claimed in fair order like a new one."""
    rt = runtime()
    message = InboundMessage.model_validate(payload)
    queue = _queue_of(rt, message.domain)
    cap = _cap_of(rt, message.domain)
    rt.fair.enqueue(queue, message.domain, payload, urgent=message.urgent, cap=cap)
    claim_turn.apply_async(
        args=[queue],
        queue=queue,
        priority=priority_of(message.urgent),
        argsrepr=f"{queue} for {message.safe_repr}",
        retry=True,
        retry_policy=REPUBLISH_POLICY,
    )
    return "enqueued"


def _queue_of(rt: WorkerRuntime, domain_id: str) -> str:
    """A domain's queue; one no longer loaded goes to its shard."""
    try:
        return queue_of(rt.registry.get(domain_id), rt.settings.queue_shards)
    except DomainNotFoundError:
        return queue_for(domain_id, dedicated=False, shards=rt.settings.queue_shards)


def _cap_of(rt: WorkerRuntime, domain_id: str) -> int | None:
    try:
        return rt.registry.get(domain_id).spec.limits.max_concurrent
    except DomainNotFoundError:
        return None


def _handle(
    rt: WorkerRuntime,
    payload: dict[str, Any],
    failing_since: float | None,
    *,
    attempt: int,
    retry: Retry,
) -> str:
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
            waiting = rt.chatwoot.unavailable_for()
            if waiting > 0:  # down for everyone: no turn, no crew, no lock taken
                raise ChatwootUnavailableError(
                    "chatwoot is down (circuit open)", retry_in=waiting, call="turn"
                )
            handled = handle(rt, message)
        except (ChatwootAPIError, redis.RedisError) as error:
            retryable = not isinstance(error, ChatwootAPIError) or error.retryable
            since = time.time() if failing_since is None else failing_since
            window = rt.settings.chatwoot_retry_seconds
            if retryable and time.time() - since < window:
                delay = retry_delay(error, attempt, rt.settings.chatwoot_retry_max_delay_seconds)
                log.warning(
                    "transient failure; retrying",
                    delay=round(delay, 1),
                    attempt=attempt + 1,
                    failing_for=round(time.time() - since, 1),
                    error=str(error),
                )
                return retry(message, error, since, delay)
            if isinstance(error, ChatwootAPIError) and error.refused:
                report_refusal(message, error)
            return _dead_letter(rt, payload, _reason(error, retryable), str(error))
        except Exception as error:  # a bug: keep the message for an operator
            log.exception("unexpected failure")
            return _dead_letter(rt, payload, "unexpected", f"{type(error).__name__}: {error}")
        if handled.status == "busy":
            _recheck_later(rt, message, _busy_delay(rt, message))
        elif handled.status == "deferred" and handled.recheck is not None:
            _recheck_later(rt, handled.recheck, handled.delay)
        log.info(
            "message handled",
            status=handled.status,
            route=handled.route,
            reason=handled.reason,
            burst=handled.messages,
        )
        rt.middleware.handled(message.domain, handled.status)
        return handled.status


def _busy_delay(rt: WorkerRuntime, message: InboundMessage) -> float:
    try:
        expires_in = rt.locks.expires_in(message.account_id, message.conversation_id)
    except redis.RedisError:
        return RECHECK_SECONDS
    return recheck_delay(expires_in)


def _recheck_later(rt: WorkerRuntime, message: InboundMessage, delay: float) -> None:
    """Queue a message's task again, delayed: published before this run is acknowledged.

    A delayed task waits in a worker's memory, not in a thread: waiting for a burst
    to end costs no capacity. On a shared queue, what comes back puts the message in
    its tenant's line again (`enqueue_message`): the turn it leads to is claimed
    fairly and counts against the tenant's cap.
    """
    queue = _queue_of(rt, message.domain)
    task = enqueue_message if is_shard(queue) else handle_message
    task.apply_async(
        args=[message.model_dump()],
        queue=queue,
        countdown=delay,
        priority=priority_of(message.urgent),
        argsrepr=message.safe_repr,
        kwargsrepr="{}",
        retry=True,
        retry_policy=REPUBLISH_POLICY,
    )


def _reason(error: Exception, retryable: bool) -> str:
    """A dead letter's reason, as counted: what an operator would do differs."""
    if isinstance(error, redis.RedisError):
        return "redis_unavailable"
    return "chatwoot_unavailable" if retryable else "chatwoot_refused"


def _dead_letter(rt: WorkerRuntime, payload: dict[str, Any], reason: str, error: str) -> str:
    entry = rt.dead_letters.add(payload, reason=reason, error=error)
    message: InboundMessage | None = None
    try:
        message = InboundMessage.model_validate(payload)
    except ValidationError:
        pass
    else:  # kept for an operator, so out of the mailbox: a later burst must not answer it
        try:
            rt.mailbox.withdraw(message)
        except redis.RedisError as failure:
            log.warning("dead letter left in its mailbox", error=str(failure))
    domain = str(payload.get("domain", "unknown"))
    rt.middleware.handled(domain, "dead_letter")
    rt.middleware.dead_lettered(domain, reason)
    log.error("message dead-lettered", reason=reason, error=error, dead_letter=entry["id"])
    if message is not None:
        report_unanswered(rt, message, reason=reason, letter=entry["id"])
    return "dead_letter"

"""ChatwootClient: the few bot-API calls we make, with retries, over one connection pool.

Every call targets `/api/v1/accounts/{account_id}/conversations/{conversation_id}/…`
with the header `api_access_token`. 429, 5xx and network errors are retried with
capped exponential backoff and full jitter (429 waits what `Retry-After` says, up
to a cap); other 4xx are final. What still fails raises ChatwootAPIError, whose
text names the call and the path but never the token.

Idempotency: posting a message is not idempotent. An attempt that may have
reached Chatwoot without us hearing back (no answer in time, a dropped
connection, a gateway's 502 or 504) may hide a message Chatwoot did store, and
sending it again would post it twice. So `send_message` takes `already_sent`,
asked before any such attempt is repeated: when it says Chatwoot has the message
(`hub.conversation.replies` watches for the copy Chatwoot sends the bot), the
message is not sent again. The caller also records the reply (claim → post →
confirm) before the task that posts it can be retried. Status, labels, priority
and assignment calls set state and are safe to repeat.

Given a `breaker` (`hub.chatwoot.breaker`, as workers are), every attempt asks the
circuit of the Chatwoot host first: while Chatwoot is down for every worker, a
call raises ChatwootUnavailableError at once instead of posting and sleeping,
and the task comes back when the circuit may let it through.

With no `base_url` (CHATWOOTAI_CHATWOOT_URL unset) nothing is sent: every call
is logged and returns {} ("replies are logged, not sent"), its body (the reply's
text) at DEBUG only.

Responses' headers are parsed by `hub.patches.http_client` while the patches are
on: the standard library's parser was half the CPU of a post.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import structlog
import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)

from hub import patches
from hub.chatwoot.breaker import Breaker
from hub.exceptions import ChatwootAPIError
from hub.settings import Settings, get_settings

log = structlog.get_logger(__name__)

Status = Literal["open", "pending", "resolved", "snoozed"]
Priority = Literal["urgent", "high", "medium", "low"]
"""Chatwoot's priority enum; None (JSON null) clears it. The string "none" is a 422."""

TIMEOUT_SECONDS = 10.0
"""Per attempt. Chatwoot answers bot calls in well under a second when healthy."""

MAX_ATTEMPTS = 4
"""First try plus three retries: rides out a restart or a burst of 429s."""

BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0
"""Attempt n waits uniform(0, min(cap, base * 2**(n-1))): full jitter spreads retries."""

RETRY_AFTER_CAP_SECONDS = 30.0
"""A longer `Retry-After` is cut to this: a worker thread should not sleep for minutes."""

MAX_CONNECTIONS = 32
"""Pool size; a worker process runs a handful of threads (CHATWOOTAI_WORKER_CONCURRENCY)."""

ERROR_BODY_CHARS = 200
"""How much of Chatwoot's error body goes into ChatwootAPIError (it explains 4xx)."""

PRIORITIES = frozenset({"urgent", "high", "medium", "low"})

RETRYABLE_STATUSES = frozenset({429}) | frozenset(range(500, 600))

UNANSWERED_STATUSES = frozenset({502, 504})
"""A gateway in front of Chatwoot gave up on it: Chatwoot may still have done the work."""

USER_AGENT = "ChatwootAI"

TYPING_TIMEOUT_SECONDS = 2.0
"""The typing indicator is cosmetic: one short attempt, never a retry that delays a reply."""


class ChatwootClient:
    """Sync client of Chatwoot's bot API; one instance per process, safe across threads.

    `sleep` and `jitter` are for tests: record waits instead of sleeping, make the
    backoff deterministic. `settings` (the process's by default) decide the
    dependency patches, the header parser among them, if nothing did before.

    The transport is urllib3's connection pool for the one Chatwoot host: a post
    costs about 0.5 ms of CPU there against 1.2-1.4 ms through httpx, on a worker
    whose threads share one interpreter lock with the crews they wait for.
    """

    def __init__(
        self,
        base_url: str | None,
        *,
        timeout: float = TIMEOUT_SECONDS,
        max_attempts: int = MAX_ATTEMPTS,
        backoff_base: float = BACKOFF_BASE_SECONDS,
        backoff_cap: float = BACKOFF_CAP_SECONDS,
        retry_after_cap: float = RETRY_AFTER_CAP_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[float, float], float] = random.uniform,
        settings: Settings | None = None,
        breaker: Breaker | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        patches.install(settings or get_settings())
        self.base_url = base_url.rstrip("/") if base_url else None
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.retry_after_cap = retry_after_cap
        self.sleep = sleep
        self.jitter = jitter
        self.breaker = breaker
        self._http: urllib3.HTTPConnectionPool | None = None
        self._timeout = urllib3.Timeout(connect=timeout, read=timeout)
        self._prefix = ""
        if self.base_url is not None:
            # Chatwoot may live under a path (https://example.com/chatwoot): keep it.
            self._prefix = (urllib3.util.parse_url(self.base_url).path or "").rstrip("/")
            self._http = urllib3.connection_from_url(
                self.base_url,
                maxsize=MAX_CONNECTIONS,
                block=False,  # a busy moment opens one more connection; none waits
                timeout=self._timeout,
                retries=False,  # retries are ours, with backoff, jitter and Retry-After
            )

    # The bot API ------------------------------------------------------------

    def send_message(
        self,
        account_id: int,
        conversation_id: int,
        content: str,
        *,
        token: str | None,
        private: bool = False,
        content_type: str | None = None,
        content_attributes: Mapping[str, Any] | None = None,
        already_sent: Callable[[], bool] | None = None,
        attempts: int | None = None,
    ) -> dict[str, Any]:
        """Post a reply (or, with `private=True`, a note only agents see); returns the message.

        For options, `content_type="input_select"` with
        `content_attributes={"items": [{"title": ..., "value": ...}]}`.

        `already_sent` is asked after an attempt that may have reached Chatwoot unheard
        (see `UNANSWERED_STATUSES` and `_may_have_arrived`), before sending again or
        giving up: True means Chatwoot has the message, and {} is returned (its id is
        unknown) instead of a second post or an error. `attempts` (default: the
        client's) bounds the tries, e.g. 1 for a note that must not delay anything.
        """
        body: dict[str, Any] = {"content": content, "message_type": "outgoing", "private": private}
        if content_type is not None:
            body["content_type"] = content_type
        if content_attributes is not None:
            body["content_attributes"] = dict(content_attributes)
        return self._post(
            "send_message",
            account_id,
            conversation_id,
            "messages",
            body,
            token,
            already_sent,
            attempts=attempts,
        )

    def toggle_status(
        self,
        account_id: int,
        conversation_id: int,
        status: Status,
        *,
        token: str | None,
        snoozed_until: datetime | int | None = None,
    ) -> dict[str, Any]:
        """Set the status; pending → open is the handoff to humans.

        `snoozed_until` (with "snoozed") is sent as Unix seconds; without it the
        conversation sleeps until the contact's next message.
        """
        body: dict[str, Any] = {"status": status}
        if snoozed_until is not None:
            if isinstance(snoozed_until, datetime):
                snoozed_until = int(snoozed_until.timestamp())
            body["snoozed_until"] = snoozed_until
        return self._post(
            "toggle_status", account_id, conversation_id, "toggle_status", body, token
        )

    def assign(
        self,
        account_id: int,
        conversation_id: int,
        *,
        token: str | None,
        assignee_id: int | None = None,
        team_id: int | None = None,
    ) -> dict[str, Any]:
        """Assign a team, an agent, or both; returns Chatwoot's answer to the last call.

        Chatwoot's assignments endpoint sets only the agent when a body names both,
        so both take two calls: the team first (a new team may clear an assignee who
        is not one of its members, or pick one), then the agent.
        """
        if assignee_id is None and team_id is None:
            raise ValueError("assign() needs assignee_id or team_id")
        answer: dict[str, Any] = {}
        if team_id is not None:
            answer = self._post(
                "assign", account_id, conversation_id, "assignments", {"team_id": team_id}, token
            )
        if assignee_id is not None:
            body = {"assignee_id": assignee_id}
            answer = self._post("assign", account_id, conversation_id, "assignments", body, token)
        return answer

    def add_labels(
        self, account_id: int, conversation_id: int, labels: Iterable[str], *, token: str | None
    ) -> dict[str, Any]:
        """Set the conversation's labels.

        Despite the name, Chatwoot *replaces* the whole list with `labels`: to
        add, pass the existing labels (`conversation.labels` of the webhook) too.
        """
        body = {"labels": list(labels)}
        return self._post("add_labels", account_id, conversation_id, "labels", body, token)

    def toggle_priority(
        self,
        account_id: int,
        conversation_id: int,
        priority: Priority | None,
        *,
        token: str | None,
    ) -> dict[str, Any]:
        """Set the priority; None clears it (Chatwoot's enum has no "none")."""
        if priority is not None and priority not in PRIORITIES:
            raise ValueError(f"priority must be one of {sorted(PRIORITIES)} or None")
        body = {"priority": priority}
        return self._post(
            "toggle_priority", account_id, conversation_id, "toggle_priority", body, token
        )

    def toggle_typing(
        self, account_id: int, conversation_id: int, on: bool, *, token: str | None
    ) -> dict[str, Any]:
        """Show or hide "typing…" to the contact (Chatwoot 2026-03 and later).

        One attempt with a short timeout (`TYPING_TIMEOUT_SECONDS`): a reply must not
        wait for a cosmetic call. Failures raise ChatwootAPIError like any call.
        """
        body = {"typing_status": "on" if on else "off"}
        return self._post(
            "toggle_typing",
            account_id,
            conversation_id,
            "toggle_typing_status",
            body,
            token,
            attempts=1,
            timeout=TYPING_TIMEOUT_SECONDS,
        )

    def unavailable_for(self) -> float:
        """Seconds the circuit to this Chatwoot stays open (0: calls may be tried)."""
        return self.breaker.unavailable_for() if self.breaker is not None else 0.0

    def close(self) -> None:
        """Close the connection pool; the client must not be used afterwards."""
        if self._http is not None:
            self._http.close()

    def __enter__(self) -> ChatwootClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # Transport --------------------------------------------------------------

    def _post(
        self,
        name: str,
        account_id: int,
        conversation_id: int,
        action: str,
        body: dict[str, Any],
        token: str | None,
        already_sent: Callable[[], bool] | None = None,
        *,
        attempts: int | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        path = f"/api/v1/accounts/{account_id}/conversations/{conversation_id}/{action}"
        if self._http is None:
            # The body (a reply's text) only at DEBUG: INFO lines carry no customer data.
            log.info(
                "chatwoot not configured: request logged, not sent",
                call=name,
                method="POST",
                path=path,
                fields=sorted(body),
            )
            log.debug("chatwoot request not sent", call=name, path=path, body=body)
            return {}
        if not token:
            raise ChatwootAPIError(
                f"{name} POST {path}: no api_access_token configured "
                "(CHATWOOTAI_CHATWOOT_TOKEN or the token variable of a domain on the account)",
                status=None,
                retryable=False,
                call=name,
            )
        return self._request(
            name, "POST", path, body, token, already_sent, attempts=attempts, timeout=timeout
        )

    def _request(
        self,
        name: str,
        method: str,
        path: str,
        body: dict[str, Any],
        token: str,
        already_sent: Callable[[], bool] | None = None,
        *,
        attempts: int | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        assert self._http is not None
        max_attempts = self.max_attempts if attempts is None else attempts
        per_attempt = urllib3.Timeout(connect=timeout, read=timeout) if timeout else self._timeout
        where = f"{name} {method} {path}"
        payload = json.dumps(body, ensure_ascii=False).encode()
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "api_access_token": token,
        }
        for attempt in range(1, max_attempts + 1):
            last = attempt == max_attempts
            probe = self.breaker.admit(where) if self.breaker is not None else False
            try:
                response = self._http.urlopen(
                    method,
                    self._prefix + path,
                    body=payload,
                    headers=headers,
                    timeout=per_attempt,
                )
            except urllib3.exceptions.HTTPError as error:
                reason = _redact(f"{_transport_failure(error)}: {error}", token)
                if self.breaker is not None:
                    self.breaker.failed(where, reason, probe=probe)
                if _may_have_arrived(error) and self._arrived(where, reason, already_sent):
                    return {}
                if last:
                    raise ChatwootAPIError(
                        f"{where} failed after {attempt} attempts: {reason}",
                        retryable=True,
                        call=name,
                    ) from None
                self._wait(where, attempt, reason, None)
                continue
            status = response.status
            retryable = status in RETRYABLE_STATUSES
            if self.breaker is not None:
                if retryable:
                    self.breaker.failed(where, f"HTTP {status}", probe=probe)
                else:  # Chatwoot is up, whatever it thinks of this call
                    self.breaker.succeeded(probe=probe)
            if 200 <= status < 300:
                return _json_object(response.data)
            if status in UNANSWERED_STATUSES and self._arrived(
                where, f"HTTP {status}", already_sent
            ):
                return {}
            if not retryable or last:
                text = response.data[: ERROR_BODY_CHARS * 4].decode("utf-8", "replace")
                detail = _redact(text[:ERROR_BODY_CHARS], token)
                tries = f" after {attempt} attempts" if attempt > 1 else ""
                raise ChatwootAPIError(
                    f"{where} failed{tries}: HTTP {status} {detail}".rstrip(),
                    status=status,
                    retryable=retryable,
                    call=name,
                )
            self._wait(where, attempt, f"HTTP {status}", _retry_after(response.headers))
        raise AssertionError("unreachable: the last attempt returns or raises")

    @staticmethod
    def _arrived(where: str, reason: str, already_sent: Callable[[], bool] | None) -> bool:
        """After an attempt Chatwoot may have received unheard: whether it has the message."""
        if already_sent is None or not already_sent():
            return False
        log.warning("chatwoot has the message already; not sent again", call=where, reason=reason)
        return True

    def _wait(self, where: str, attempt: int, reason: str, retry_after: float | None) -> None:
        if retry_after is not None:
            delay = min(max(retry_after, 0.0), self.retry_after_cap)
        else:
            delay = self.jitter(0.0, min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1)))
        log.warning(
            "chatwoot call failed; retrying",
            call=where,
            attempt=attempt,
            reason=reason,
            retry_in=round(delay, 3),
        )
        self.sleep(delay)


def _transport_failure(error: urllib3.exceptions.HTTPError) -> str:
    """What went wrong on the wire, named the same whatever the HTTP library says."""
    if isinstance(error, NewConnectionError):  # a subclass of ConnectTimeoutError
        return "ConnectError"
    if isinstance(error, ConnectTimeoutError):
        return "ConnectTimeout"
    if isinstance(error, ReadTimeoutError):
        return "ReadTimeout"
    if isinstance(error, ProtocolError):
        return "ConnectionDropped"
    return type(error).__name__


def _may_have_arrived(error: urllib3.exceptions.HTTPError) -> bool:
    """Whether a request that failed this way may have reached Chatwoot: every failure
    but one to connect (then nothing was sent)."""
    return not isinstance(error, ConnectTimeoutError)  # NewConnectionError is one too


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """`Retry-After` as seconds: either a number or an HTTP date; None when absent or bad."""
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) else None
    try:
        return parsedate_to_datetime(value).timestamp() - time.time()
    except (TypeError, ValueError):
        return None


def _json_object(content: bytes) -> dict[str, Any]:
    """The response's JSON object; {} for an empty or non-object body (`head :ok`)."""
    if not content:
        return {}
    try:
        data = json.loads(content)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _redact(text: str, token: str) -> str:
    return text.replace(token, "[token]") if token else text


__all__ = ["ChatwootClient", "Priority", "Status"]

"""Every exception ChatwootAI raises, in one tree.

Catch `ChatwootAIError` to catch them all. Nothing else in the code base defines
its own exception classes: add new ones here, under the branch they belong to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


class ChatwootAIError(Exception):
    """Base class of every error ChatwootAI raises on purpose."""


@dataclass(frozen=True)
class Location:
    """Where in a configuration file a problem is: file, 1-based line, key path."""

    file: Path | None
    line: int | None = None
    key_path: str = ""

    def __str__(self) -> str:
        where = str(self.file) if self.file else "<unknown file>"
        if self.line:
            where += f":{self.line}"
        if self.key_path:
            where += f": {self.key_path}"
        return where


class ConfigurationError(ChatwootAIError):
    """Raised when configuration (a domain file, a setting) is invalid.

    Carries the file, line and key path so the message points at the exact spot
    to fix, and `expected` says what would have been valid.
    """

    def __init__(
        self,
        message: str,
        *,
        file: Path | str | None = None,
        line: int | None = None,
        key_path: str = "",
        expected: str | None = None,
    ) -> None:
        self.message = message
        self.location = Location(Path(file) if file else None, line, key_path)
        self.expected = expected
        super().__init__(self.render())

    @property
    def file(self) -> Path | None:
        return self.location.file

    @property
    def line(self) -> int | None:
        return self.location.line

    @property
    def key_path(self) -> str:
        return self.location.key_path

    def render(self) -> str:
        """One line: `file:line: key.path: message (expected ...)`."""
        text = f"{self.location}: {self.message}"
        if self.expected:
            text += f" (expected {self.expected})"
        return text


class YAMLSyntaxError(ConfigurationError):
    """Raised when a file is not well-formed YAML (or repeats a key)."""


class SchemaError(ConfigurationError):
    """Raised when a value has the wrong type or shape, or a key is unknown or missing."""


class DanglingReferenceError(ConfigurationError):
    """Raised when a name points at nothing: an agent, a tool, a crew, a route, a domain."""


class InheritanceError(ConfigurationError):
    """Raised when `extends` names a missing domain or forms a cycle."""


class PromptLabelWarning(ConfigurationError):
    """A crew task whose prompt labels the offline model would not find (the label before
    `{message}`, the one above `{history}`). Never raised: `chatwootai domains validate`
    reports it as a warning, since a real model reads any wording and the domain stays
    valid (`hub.domains.labels`)."""


class TokenWarning(ConfigurationError):
    """A Chatwoot account the domains serve (or switch conversations within) that no
    reply can reach: no bot token for it, tokens that disagree, a handoff's agent or
    team from another account. Never raised: `chatwootai domains validate` reports it
    (`hub.domains.tokens`), since tokens live in the environment, not in the YAML."""


class DomainInvalidError(ChatwootAIError):
    """Raised when a domain has one or more configuration errors; holds all of them."""

    def __init__(self, domain_id: str, errors: Iterable[ConfigurationError]) -> None:
        self.domain_id = domain_id
        self.errors = list(errors)
        lines = "\n".join(f"  {error.render()}" for error in self.errors)
        super().__init__(f"domain {domain_id!r} is invalid ({len(self.errors)} errors):\n{lines}")


class DomainNotFoundError(ChatwootAIError):
    """Raised when a domain id names no loaded, valid domain."""

    def __init__(self, domain_id: str, known: Iterable[str] = ()) -> None:
        self.domain_id = domain_id
        known_list = sorted(known)
        hint = f"; known domains: {', '.join(known_list)}" if known_list else ""
        super().__init__(f"no domain {domain_id!r}{hint}")


class ScriptError(ChatwootAIError):
    """Raised when a Lua script file cannot be loaded: it is missing, its header is
    malformed, or it includes a file that is not there or is not a rule."""


class ServiceUnavailableError(ChatwootAIError):
    """Raised when a required service (Redis, the database) cannot be reached."""


class WebhookError(ChatwootAIError):
    """Raised when an incoming webhook cannot be accepted; `status` is the HTTP answer."""

    status: int = 400


class InvalidPayloadError(WebhookError):
    """Raised when a webhook body is not JSON or not the shape Chatwoot sends."""

    status = 400


class SignatureError(WebhookError):
    """Raised when a webhook signature is missing, wrong or outside the time window."""

    status = 401


class PayloadTooLargeError(WebhookError):
    """Raised when a webhook body is over the size limit."""

    status = 413


class QueueError(ChatwootAIError):
    """Raised when a message cannot be made durable on the broker (Chatwoot should retry)."""


class ChatwootAPIError(ChatwootAIError):
    """Raised when a Chatwoot API call fails for good (after retries).

    `status` is the last HTTP status (None for network errors); `retryable` says
    whether a later attempt could succeed (429, 5xx, network) or not (4xx); `call`
    names the client method that failed (`send_message`, `assign`…) when known.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        call: str | None = None,
    ) -> None:
        self.status = status
        self.retryable = retryable
        self.call = call
        super().__init__(message)

    @property
    def refused(self) -> bool:
        """Chatwoot answered 401, 403 or 404 for good: a wrong token or account, a
        missing conversation, team or agent. Retrying cannot help; an operator can."""
        return self.status in (401, 403, 404) and not self.retryable


class ChatwootUnavailableError(ChatwootAPIError):
    """Raised without calling Chatwoot: its circuit is open (it is down for every
    worker) or it is draining a backlog at a bounded rate. `retry_in` says when
    trying again makes sense."""

    def __init__(self, message: str, *, retry_in: float, call: str | None = None) -> None:
        self.retry_in = retry_in
        super().__init__(message, status=None, retryable=True, call=call)


class ModelError(ChatwootAIError):
    """Raised when the language model fails: provider error, bad answer."""


class ModelTimeoutError(ModelError):
    """Raised when the language model does not answer within its timeout."""


class CrewError(ChatwootAIError):
    """Raised when a crew cannot be built or its run fails."""


class StoreError(ChatwootAIError):
    """Raised when business data (catalogue, orders, slots) cannot be read or changed as asked."""


class InvalidOrderNumberError(StoreError):
    """Raised when an order number does not have the expected format."""


class RecordNotFoundError(StoreError):
    """Raised when a professional or appointment does not exist in the domain."""


class SlotUnavailableError(StoreError):
    """Raised when a booking asks for a time that is not one of the professional's future slots."""


class SlotTakenError(SlotUnavailableError):
    """Raised when the slot is already booked (the database refused a second booking)."""


class CancellationRefusedError(StoreError):
    """Raised when an appointment is already cancelled or has already started."""


class PluginError(ChatwootAIError):
    """Raised at start when a plugin cannot be loaded: an import error, a hook
    implementation no hook spec declares, a signature pluggy refuses."""


class ExternalSystemError(ChatwootAIError):
    """Raised when an external system (an HTTP API, an ERP) fails for good, after retries.

    `retryable` says whether a later attempt could succeed (5xx, network, timeout).
    """

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        self.retryable = retryable
        super().__init__(message)


class ExternalAuthError(ExternalSystemError):
    """Raised when an external system refuses the configured credentials."""


class ExternalArgumentError(ChatwootAIError):
    """Raised when an agent's argument for an external call is unsafe to send (a `..`
    path segment): the customer's input, not a system failure."""


class JSONRPCError(ExternalSystemError):
    """Raised when a JSON-RPC server (Odoo) answers with an error object."""

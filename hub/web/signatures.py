"""Which secrets a webhook must be signed with, decided by what we know of its account.

A payload names its account, inbox and labels, and all three are the sender's to
choose: none of them may pick the secret it is checked against. The rule:

- an account that serving domains claim (by any inbox, or whole) takes the secret
  of any of them, whatever inbox the payload names;
- an account claimed only by a domain whose file is invalid takes that file's
  secret (or the global one): a broken file never opens its account;
- an account no domain claims takes the secret of the fallback domain (`default`),
  which is the global secret unless that domain names its own;
- when a rule above finds no secret, the payload is refused, unless no secret at
  all is configured: then signatures are off, every webhook is taken unsigned, and
  the receiver says so at start and on /readyz (for local use only).
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import structlog

from hub import defaults
from hub.chatwoot.signature import verify_any
from hub.domains.registry import DomainRegistry
from hub.exceptions import SignatureError
from hub.settings import Settings

log = structlog.get_logger(__name__)

SignatureMode = Literal["on", "off"]

UNSIGNED_WARNING = (
    "webhook signatures are OFF: no webhook secret is configured, so anyone who can "
    "reach the receiver can post as Chatwoot. For local use only: set "
    "CHATWOOTAI_WEBHOOK_SECRET (or each domain's chatwoot.webhook_secret_env) to the "
    "Agent Bot's secret before exposing it (docs/security.md)."
)


@dataclass(frozen=True)
class Requirement:
    """The secrets a payload may be signed with (any one of them), and whose they are."""

    secrets: tuple[str, ...]
    owner: str
    """`account 1 (domains cosmetics)`: for the operator's log, never the response."""


class SecretRule:
    """The rule above, read from the registry's current domains and the settings."""

    def __init__(
        self,
        settings: Settings,
        registry: DomainRegistry,
        *,
        default_domain: str = defaults.DEFAULT_DOMAIN,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.default_domain = default_domain

    @property
    def mode(self) -> SignatureMode:
        """`off` only when no secret is configured anywhere: the settings, a serving
        domain, or a variable an invalid domain's file names."""
        if self._global() is not None:
            return "on"
        if any(domain.webhook_secret(self.settings) for domain in self.registry.domains.values()):
            return "on"
        if any(_env(claim.webhook_secret_env) for claim in self.registry.unserved_claims()):
            return "on"
        return "off"

    def required(self, account_id: int | None) -> Requirement | None:
        """What a payload naming `account_id` must be signed with; None when signatures
        are off. An empty `secrets` means the payload cannot be accepted at all."""
        if self.mode == "off":
            return None
        if account_id is not None:
            claimants = self.registry.claimants(account_id)
            if claimants:
                found = [domain.webhook_secret(self.settings) for domain in claimants]
                names = ", ".join(domain.id for domain in claimants)
                return Requirement(_distinct(found), f"account {account_id} (domains {names})")
            broken = [c for c in self.registry.unserved_claims() if c.account_id == account_id]
            if broken:
                found = [_env(claim.webhook_secret_env) or self._global() for claim in broken]
                names = ", ".join(claim.domain_id for claim in broken)
                return Requirement(
                    _distinct(found), f"account {account_id} (invalid domains {names})"
                )
        fallback = self.registry.domains.get(self.default_domain)
        secret = fallback.webhook_secret(self.settings) if fallback else self._global()
        what = "no account" if account_id is None else f"account {account_id}"
        return Requirement(_distinct([secret]), f"{what} (claimed by no domain)")

    def check(
        self,
        account_id: int | None,
        raw: bytes,
        headers: Mapping[str, str],
        url_token: str | None,
        now: float,
    ) -> None:
        """Return when the payload proves it comes from the account's Chatwoot; else
        raise SignatureError. A signature header wins over a URL token."""
        requirement = self.required(account_id)
        if requirement is None:
            return
        if not requirement.secrets:
            log.error(
                "webhook refused: no webhook secret is set for its account",
                account=requirement.owner,
            )
            raise SignatureError("no webhook secret is configured for this account")
        signature = headers.get("X-Chatwoot-Signature")
        if signature is None and url_token is not None:
            token = url_token.encode()
            if not any(
                [hmac.compare_digest(token, secret.encode()) for secret in requirement.secrets]
            ):
                raise SignatureError("wrong webhook token in the URL")
            return
        verify_any(
            requirement.secrets,
            body=raw,
            signature=signature,
            timestamp=headers.get("X-Chatwoot-Timestamp"),
            now=now,
            window_seconds=defaults.SIGNATURE_WINDOW_SECONDS,
        )

    def _global(self) -> str | None:
        secret = self.settings.webhook_secret
        return secret.get_secret_value() or None if secret else None


def _env(name: str | None) -> str | None:
    return os.environ.get(name) or None if name else None


def _distinct(secrets: list[str | None]) -> tuple[str, ...]:
    """The secrets found, each once, in order; None (nothing set) left out."""
    return tuple(dict.fromkeys(secret for secret in secrets if secret))


__all__ = ["UNSIGNED_WARNING", "Requirement", "SecretRule", "SignatureMode"]

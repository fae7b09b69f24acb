"""Chatwoot's webhook signatures (4.13+): HMAC-SHA256 over `"{timestamp}." + raw body`.

Headers: `X-Chatwoot-Signature: sha256=<hex>` and `X-Chatwoot-Timestamp: <unix
seconds>`. Verify against the raw bytes, never re-serialised JSON, and refuse
timestamps outside a window so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Sequence

from hub import defaults
from hub.exceptions import SignatureError

SCHEME = "sha256"
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")


def sign(secret: str, timestamp: str | int, body: bytes) -> str:
    """The `X-Chatwoot-Signature` value Chatwoot sends for this body: `sha256=<hex>`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SCHEME}={digest.hexdigest()}"


def verify(
    secret: str,
    *,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    now: float | None = None,
    window_seconds: int = defaults.SIGNATURE_WINDOW_SECONDS,
) -> None:
    """Return if the headers prove Chatwoot sent `body` recently; else raise SignatureError."""
    verify_any(
        (secret,),
        body=body,
        signature=signature,
        timestamp=timestamp,
        now=now,
        window_seconds=window_seconds,
    )


def verify_any(
    secrets: Sequence[str],
    *,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    now: float | None = None,
    window_seconds: int = defaults.SIGNATURE_WINDOW_SECONDS,
) -> None:
    """Like `verify`, for a body any of `secrets` may have signed (the domains sharing a
    Chatwoot account): every secret is compared, in constant time each.

    The digest is checked before the clock, so only a genuine sender learns that
    its request was stale (or its clock is off).
    """
    if not signature:
        raise SignatureError("missing X-Chatwoot-Signature header")
    if not timestamp:
        raise SignatureError("missing X-Chatwoot-Timestamp header")
    timestamp = timestamp.strip()
    if not _UNIX_SECONDS.fullmatch(timestamp):
        raise SignatureError("malformed X-Chatwoot-Timestamp header (expected Unix seconds)")
    scheme, _, digest = signature.strip().partition("=")
    if scheme.lower() != SCHEME or not _HEX_DIGEST.fullmatch(digest):
        raise SignatureError("malformed X-Chatwoot-Signature header (expected sha256=<64 hex>)")
    matches = [
        hmac.compare_digest(sign(secret, timestamp, body).partition("=")[2], digest.lower())
        for secret in secrets
    ]
    if not any(matches):
        raise SignatureError("signature does not match the body")
    age = (time.time() if now is None else now) - int(timestamp)
    if age > window_seconds:
        raise SignatureError(f"stale signature: {int(age)} s old, limit {window_seconds} s")
    if age < -window_seconds:
        raise SignatureError(
            f"signature timestamp {int(-age)} s in the future, limit {window_seconds} s"
        )


__all__ = ["sign", "verify", "verify_any"]

"""Webhook signatures: HMAC-SHA256 over "{timestamp}." + raw body, within a time window."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest

from hub.chatwoot.signature import sign, verify
from hub.exceptions import SignatureError

SECRET = "segredo-do-webhook"
BODY = b'{"event":"message_created","id":9001,"content":"Oi, voc\xc3\xaas t\xc3\xaam?"}'
NOW = 1_764_165_600
TIMESTAMP = str(NOW)


def check(
    *,
    body: bytes = BODY,
    signature: str | None = None,
    timestamp: str | None = TIMESTAMP,
    secret: str = SECRET,
    now: float = NOW,
) -> None:
    if signature is None:
        signature = sign(SECRET, TIMESTAMP, BODY)
    verify(secret, body=body, signature=signature, timestamp=timestamp, now=now)


def refusal(**kwargs: Any) -> str:
    with pytest.raises(SignatureError) as caught:
        check(**kwargs)
    assert caught.value.status == 401
    return str(caught.value)


def test_sign_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{TIMESTAMP}.".encode() + BODY, hashlib.sha256)
    assert sign(SECRET, TIMESTAMP, BODY) == f"sha256={expected.hexdigest()}"
    assert sign(SECRET, NOW, BODY) == sign(SECRET, TIMESTAMP, BODY)


def test_a_valid_signature_passes() -> None:
    check()


def test_the_digest_is_compared_without_regard_to_case() -> None:
    check(signature="sha256=" + sign(SECRET, TIMESTAMP, BODY).partition("=")[2].upper())


def test_a_signature_within_the_window_passes_on_both_sides() -> None:
    check(now=NOW + 299)
    check(now=NOW - 299)


def test_a_tampered_body_is_refused() -> None:
    assert "does not match" in refusal(body=BODY.replace(b"9001", b"9002"))


def test_a_reserialised_body_is_refused() -> None:
    assert "does not match" in refusal(body=BODY.replace(b'","', b'", "'))


def test_the_wrong_secret_is_refused() -> None:
    assert "does not match" in refusal(secret="outro-segredo")


def test_a_signature_for_another_timestamp_is_refused() -> None:
    assert "does not match" in refusal(timestamp=str(NOW + 1), now=NOW + 1)


def test_a_stale_timestamp_is_refused() -> None:
    assert "stale" in refusal(now=NOW + 301)


def test_a_timestamp_from_the_future_is_refused() -> None:
    assert "future" in refusal(now=NOW - 301)


def test_the_window_is_configurable() -> None:
    verify(
        SECRET,
        body=BODY,
        signature=sign(SECRET, TIMESTAMP, BODY),
        timestamp=TIMESTAMP,
        now=NOW + 1000,
        window_seconds=3600,
    )
    with pytest.raises(SignatureError):
        verify(
            SECRET,
            body=BODY,
            signature=sign(SECRET, TIMESTAMP, BODY),
            timestamp=TIMESTAMP,
            now=NOW + 61,
            window_seconds=60,
        )


def test_the_current_time_is_used_when_now_is_not_given() -> None:
    with pytest.raises(SignatureError, match="stale"):
        verify(SECRET, body=BODY, signature=sign(SECRET, TIMESTAMP, BODY), timestamp=TIMESTAMP)


@pytest.mark.parametrize("signature", ["", None])
def test_a_missing_signature_header_is_refused(signature: str | None) -> None:
    with pytest.raises(SignatureError, match="missing X-Chatwoot-Signature"):
        verify(SECRET, body=BODY, signature=signature, timestamp=TIMESTAMP, now=NOW)


@pytest.mark.parametrize("timestamp", ["", None])
def test_a_missing_timestamp_header_is_refused(timestamp: str | None) -> None:
    assert "missing X-Chatwoot-Timestamp" in refusal(timestamp=timestamp)


@pytest.mark.parametrize(
    "signature",
    [
        "deadbeef",
        "sha1=" + "0" * 40,
        "sha256=" + "z" * 64,
        "sha256=" + "0" * 63,
        "sha256:" + "0" * 64,
    ],
)
def test_a_malformed_signature_header_is_refused(signature: str) -> None:
    assert "malformed X-Chatwoot-Signature" in refusal(signature=signature)


@pytest.mark.parametrize("timestamp", ["yesterday", "1764165600.5", "-5", "1e9"])
def test_a_malformed_timestamp_header_is_refused(timestamp: str) -> None:
    assert "malformed X-Chatwoot-Timestamp" in refusal(timestamp=timestamp)


def test_the_error_never_contains_the_secret_or_the_expected_digest() -> None:
    message = refusal(secret="s3cr3t-value")
    assert "s3cr3t-value" not in message
    assert sign("s3cr3t-value", TIMESTAMP, BODY).partition("=")[2] not in message

"""The pure Zendesk signature verifier (syncwright.connectors.zendesk.signature)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from syncwright.connectors.zendesk import signature as sig
from syncwright.errors import AuthError

SECRET = "dGhpc19pc19hX3NpZ25pbmdfc2VjcmV0"
TIMESTAMP = "2024-04-17T17:18:10Z"
SENT_AT = datetime(2024, 4, 17, 17, 18, 10, tzinfo=UTC)
BODY = b'{"type":"zen:event-type:organization.created","id":"a540ab78"}'


def _reference(body: bytes, secret: str, timestamp: str) -> str:
    """Zendesk's documented recipe, written out independently of the module under test."""
    mac = hmac.new(
        secret.encode("utf-8"), (timestamp + body.decode("utf-8")).encode("utf-8"), hashlib.sha256
    )
    return base64.b64encode(mac.digest()).decode("ascii")


def test_sign_follows_the_documented_recipe() -> None:
    assert sig.sign_zendesk_payload(BODY, SECRET, TIMESTAMP) == _reference(BODY, SECRET, TIMESTAMP)


def test_a_genuine_signature_verifies() -> None:
    signature = _reference(BODY, SECRET, TIMESTAMP)
    sig.verify_zendesk_signature(BODY, signature, TIMESTAMP, [SECRET], now=SENT_AT)
    sig.verify_zendesk_signature(
        BODY, signature, TIMESTAMP, [SECRET], now=SENT_AT.timestamp() + 299
    )


def test_secret_rotation_accepts_old_and_new() -> None:
    signature = _reference(BODY, "old-secret", TIMESTAMP)
    sig.verify_zendesk_signature(
        BODY, signature, TIMESTAMP, ["new-secret", "old-secret"], now=SENT_AT
    )


def _code(
    body: bytes, signature: str | None, timestamp: str | None, secrets: list[str], **kwargs: object
) -> str:
    with pytest.raises(AuthError) as caught:
        sig.verify_zendesk_signature(body, signature, timestamp, secrets, **kwargs)  # type: ignore[arg-type]
    return caught.value.code


@pytest.mark.parametrize(
    ("body", "signature", "timestamp", "secrets", "now", "code"),
    [
        (
            BODY + b" ",
            _reference(BODY, SECRET, TIMESTAMP),
            TIMESTAMP,
            [SECRET],
            SENT_AT,
            sig.CODE_MISMATCH,
        ),
        (
            BODY,
            _reference(BODY, "other", TIMESTAMP),
            TIMESTAMP,
            [SECRET],
            SENT_AT,
            sig.CODE_MISMATCH,
        ),
        # The timestamp is part of the signed message: moving it breaks the signature.
        (
            BODY,
            _reference(BODY, SECRET, TIMESTAMP),
            "2024-04-17T17:18:11Z",
            [SECRET],
            SENT_AT,
            sig.CODE_MISMATCH,
        ),
        (
            BODY,
            _reference(BODY, SECRET, TIMESTAMP),
            TIMESTAMP,
            [SECRET],
            SENT_AT + timedelta(seconds=301),
            sig.CODE_STALE,
        ),
        (
            BODY,
            _reference(BODY, SECRET, TIMESTAMP),
            TIMESTAMP,
            [SECRET],
            SENT_AT - timedelta(minutes=10),
            sig.CODE_STALE,
        ),
        (BODY, None, TIMESTAMP, [SECRET], SENT_AT, sig.CODE_MISSING_SIGNATURE),
        (BODY, "c2ln", None, [SECRET], SENT_AT, sig.CODE_MISSING_TIMESTAMP),
        (BODY, "c2ln", "yesterday", [SECRET], SENT_AT, sig.CODE_BAD_TIMESTAMP),
        (BODY, "not base64!", TIMESTAMP, [SECRET], SENT_AT, sig.CODE_MALFORMED),
        (BODY, "c2ln", TIMESTAMP, [], SENT_AT, sig.CODE_NO_SECRET),
        (BODY, "c2ln", TIMESTAMP, [""], SENT_AT, sig.CODE_NO_SECRET),
    ],
)
def test_rejections_carry_stable_codes(
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    secrets: list[str],
    now: datetime,
    code: str,
) -> None:
    assert _code(body, signature, timestamp, secrets, now=now) == code


def test_tolerance_is_configurable() -> None:
    signature = _reference(BODY, SECRET, TIMESTAMP)
    late = SENT_AT + timedelta(hours=1)
    assert _code(BODY, signature, TIMESTAMP, [SECRET], now=late) == sig.CODE_STALE
    sig.verify_zendesk_signature(
        BODY, signature, TIMESTAMP, [SECRET], now=late, tolerance_seconds=3601
    )


def test_errors_are_auth_errors_and_never_retryable() -> None:
    with pytest.raises(AuthError) as caught:
        sig.verify_zendesk_signature(BODY, "c2ln", TIMESTAMP, [SECRET], now=SENT_AT)
    assert not caught.value.retryable
    assert SECRET not in str(caught.value)


def test_verifier_reads_headers_case_insensitively() -> None:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    verifier = sig.ZendeskSignatureVerifier([SECRET])
    verifier.verify(
        BODY,
        {
            "x-zendesk-webhook-signature": _reference(BODY, SECRET, now),
            "X-ZENDESK-WEBHOOK-SIGNATURE-TIMESTAMP": now,
        },
    )
    with pytest.raises(AuthError):
        verifier.verify(BODY, {})

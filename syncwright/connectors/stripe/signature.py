"""Stripe's webhook signature scheme: ``Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]``.

The signed payload is ``f"{t}.".encode() + raw_body`` and each ``v1`` is the hex HMAC-SHA256 of it
keyed with the endpoint secret (the whole ``whsec_...`` string, UTF-8). A delivery verifies when
*any* ``v1`` matches *any* configured secret, so both sides of a secret rotation keep working.
Other schemes (``v0`` in test mode) are ignored, as Stripe's SDKs do.

Docs: https://docs.stripe.com/webhooks#verify-manually and
https://docs.stripe.com/webhooks/signature
(notes in ``../shared/vendor/stripe/WEBHOOK-SIGNATURE.txt``).

This module is pure (no I/O, no sandbox imports): the intake path and the connector share it. The
Stripe emulator signs with its own implementation (emulators never import connector code).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence

from syncwright.errors import AuthError, ConfigError

__all__ = [
    "CODE_MALFORMED",
    "CODE_MISMATCH",
    "CODE_MISSING_HEADER",
    "CODE_NO_SECRET",
    "CODE_TIMESTAMP",
    "DEFAULT_TOLERANCE_SECONDS",
    "SIGNATURE_HEADER",
    "compute_stripe_signature",
    "sign_stripe_payload",
    "verify_stripe_signature",
]

SIGNATURE_HEADER = "Stripe-Signature"
EXPECTED_SCHEME = "v1"
# Stripe's SDKs default to a five-minute tolerance.
DEFAULT_TOLERANCE_SECONDS = 300

CODE_MISSING_HEADER = "stripe.signature.missing_header"
CODE_MALFORMED = "stripe.signature.malformed"
CODE_TIMESTAMP = "stripe.signature.timestamp_out_of_tolerance"
CODE_MISMATCH = "stripe.signature.no_matching_signature"
CODE_NO_SECRET = "stripe.signature.no_secret_configured"  # noqa: S105 - an error code


def _as_bytes(payload: bytes | bytearray | str) -> bytes:
    return payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)


def compute_stripe_signature(payload: bytes | bytearray | str, secret: str, timestamp: int) -> str:
    """The hex ``v1`` signature of ``payload`` at ``timestamp`` under ``secret``."""
    signed = str(int(timestamp)).encode("ascii") + b"." + _as_bytes(payload)
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def sign_stripe_payload(payload: bytes | bytearray | str, secret: str, timestamp: int) -> str:
    """The full ``Stripe-Signature`` header value (``t=...,v1=...``) for ``payload``."""
    signature = compute_stripe_signature(payload, secret, timestamp)
    return f"t={int(timestamp)},{EXPECTED_SCHEME}={signature}"


def _unix_time(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) <= 12


def _parse_header(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for element in header.split(","):
        key, sep, value = element.strip().partition("=")
        if not sep or not key:
            raise AuthError("Stripe-Signature header is malformed", code=CODE_MALFORMED)
        if key == "t":
            # ASCII digits only ("²".isdigit() is true), no longer than a Unix time needs.
            if timestamp is not None or not _unix_time(value):
                raise AuthError("Stripe-Signature timestamp is malformed", code=CODE_MALFORMED)
            timestamp = int(value)
        elif key == EXPECTED_SCHEME:
            signatures.append(value)
    if timestamp is None:
        raise AuthError("Stripe-Signature header has no timestamp", code=CODE_MALFORMED)
    if not signatures:
        raise AuthError("Stripe-Signature header has no v1 signature", code=CODE_MALFORMED)
    return timestamp, signatures


def verify_stripe_signature(
    payload: bytes | bytearray | str,
    header: str | None,
    secrets: Sequence[str],
    *,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> None:
    """Verify a Stripe webhook delivery; return quietly or raise.

    Raises :class:`~syncwright.errors.AuthError` with ``code`` one of :data:`CODE_MISSING_HEADER`,
    :data:`CODE_MALFORMED`, :data:`CODE_TIMESTAMP`, :data:`CODE_MISMATCH`; and
    :class:`~syncwright.errors.ConfigError` (:data:`CODE_NO_SECRET`) when no secret is configured.

    The timestamp must lie within ``tolerance_seconds`` of ``now`` in either direction (Stripe's
    SDKs only check the past; a clock far in the future is as suspicious). ``tolerance_seconds <=
    0`` disables the check. Messages never contain the secrets or the signatures.
    """
    usable = [s for s in secrets if s and s.strip()]
    if not usable:
        raise ConfigError("no Stripe webhook signing secret is configured", code=CODE_NO_SECRET)
    if header is None or not header.strip():
        raise AuthError("Stripe-Signature header is missing", code=CODE_MISSING_HEADER)
    timestamp, signatures = _parse_header(header)
    current = time.time() if now is None else now
    if tolerance_seconds > 0 and abs(current - timestamp) > tolerance_seconds:
        raise AuthError(
            f"Stripe-Signature timestamp is outside the tolerance of {tolerance_seconds}s",
            code=CODE_TIMESTAMP,
        )
    matched = False
    for secret in usable:
        expected = compute_stripe_signature(payload, secret, timestamp)
        for candidate in signatures:
            # compare_digest on ASCII str is constant-time; keep looping to not leak which matched.
            if hmac.compare_digest(expected.encode("ascii"), candidate.encode("ascii", "replace")):
                matched = True
    if not matched:
        raise AuthError(
            "no Stripe-Signature v1 signature matches the configured secrets", code=CODE_MISMATCH
        )

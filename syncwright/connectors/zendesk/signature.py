"""Zendesk webhook signatures: verify an inbound delivery, or sign one (tests, the sandbox).

Scheme (https://developer.zendesk.com/documentation/webhooks/verifying/):
``X-Zendesk-Webhook-Signature = base64(HMAC-SHA256(key=signing_secret, msg=timestamp + body))``
where ``timestamp`` is the ``X-Zendesk-Webhook-Signature-Timestamp`` header exactly as sent
(ISO-8601, e.g. ``2024-04-17T17:18:10Z``) and ``body`` the raw request bytes. Zendesk puts no
replay window in the scheme, so the timestamp tolerance is ours.

Pure functions: no I/O, no clock unless ``now`` is omitted.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from syncwright.errors import AuthError

SIGNATURE_HEADER = "X-Zendesk-Webhook-Signature"
TIMESTAMP_HEADER = "X-Zendesk-Webhook-Signature-Timestamp"
DEFAULT_TOLERANCE_SECONDS = 300

# Stable error codes (the ledger and the intake's metrics key on them).
CODE_NO_SECRET = "zendesk.signature.no_secret"  # noqa: S105 -- an error code
CODE_MISSING_SIGNATURE = "zendesk.signature.missing"
CODE_MISSING_TIMESTAMP = "zendesk.signature.timestamp_missing"
CODE_BAD_TIMESTAMP = "zendesk.signature.timestamp_invalid"
CODE_STALE = "zendesk.signature.stale"
CODE_MALFORMED = "zendesk.signature.malformed"
CODE_MISMATCH = "zendesk.signature.mismatch"

__all__ = [
    "CODE_BAD_TIMESTAMP",
    "CODE_MALFORMED",
    "CODE_MISMATCH",
    "CODE_MISSING_SIGNATURE",
    "CODE_MISSING_TIMESTAMP",
    "CODE_NO_SECRET",
    "CODE_STALE",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "ZendeskSignatureVerifier",
    "sign_zendesk_payload",
    "verify_zendesk_signature",
]


def _digest(body: bytes, secret: str, timestamp: str) -> bytes:
    return hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()


def sign_zendesk_payload(body: bytes, secret: str, timestamp: str) -> str:
    """The ``X-Zendesk-Webhook-Signature`` value Zendesk sends for ``body`` at ``timestamp``."""
    return base64.b64encode(_digest(body, secret, timestamp)).decode()


def _parse_timestamp(timestamp: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(timestamp.strip())
    except ValueError as exc:
        raise AuthError(
            "Zendesk signature timestamp is not an ISO-8601 time", code=CODE_BAD_TIMESTAMP
        ) from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _as_datetime(now: datetime | float | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if isinstance(now, datetime):
        return now.replace(tzinfo=UTC) if now.tzinfo is None else now
    return datetime.fromtimestamp(now, UTC)


def verify_zendesk_signature(
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    secrets: Sequence[str],
    *,
    tolerance_seconds: float = DEFAULT_TOLERANCE_SECONDS,
    now: datetime | float | None = None,
) -> None:
    """Return if ``signature`` is Zendesk's for ``body`` under one of ``secrets``.

    Several secrets allow a rotation (the old and the new one for a while). Raises
    :class:`~syncwright.errors.AuthError` with one of the ``CODE_*`` codes otherwise; a
    timestamp further than ``tolerance_seconds`` from ``now`` (either way) is ``stale``.
    """
    usable = [secret for secret in secrets if secret]
    if not usable:
        raise AuthError("no Zendesk signing secret is configured", code=CODE_NO_SECRET)
    if not signature:
        raise AuthError(f"missing {SIGNATURE_HEADER} header", code=CODE_MISSING_SIGNATURE)
    if not timestamp:
        raise AuthError(f"missing {TIMESTAMP_HEADER} header", code=CODE_MISSING_TIMESTAMP)
    sent_at = _parse_timestamp(timestamp)
    skew = abs((_as_datetime(now) - sent_at).total_seconds())
    if skew > tolerance_seconds:
        raise AuthError(
            f"Zendesk signature timestamp is {skew:.0f}s away from now "
            f"(tolerance {tolerance_seconds:.0f}s)",
            code=CODE_STALE,
        )
    try:
        given = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise AuthError("Zendesk signature is not base64", code=CODE_MALFORMED) from exc
    for secret in usable:
        if hmac.compare_digest(given, _digest(body, secret, timestamp)):
            return
    raise AuthError("Zendesk signature does not match the body", code=CODE_MISMATCH)


class ZendeskSignatureVerifier:
    """The intake's :class:`~syncwright.connectors._base.WebhookVerifier` for Zendesk."""

    def __init__(
        self, secrets: Sequence[str], *, tolerance_seconds: float = DEFAULT_TOLERANCE_SECONDS
    ) -> None:
        self._secrets = tuple(secrets)
        self._tolerance = tolerance_seconds

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        lowered = {key.lower(): value for key, value in headers.items()}
        verify_zendesk_signature(
            body,
            lowered.get(SIGNATURE_HEADER.lower()),
            lowered.get(TIMESTAMP_HEADER.lower()),
            self._secrets,
            tolerance_seconds=self._tolerance,
        )

"""HubSpot webhook signatures (v3): verify an inbound delivery, or sign one (tests).

Scheme (https://developers.hubspot.com/docs/api/webhooks/validating-requests):
``X-HubSpot-Signature-v3 = base64(HMAC-SHA256(key=app client secret,
msg=method + URI + body + timestamp))`` with ``X-HubSpot-Request-Timestamp`` in epoch
*milliseconds*; a timestamp older than 5 minutes is refused. The URI is the one HubSpot
called -- the app's webhook target URL -- so the verifier is told it
(``options.webhook_url``); without it the URI is rebuilt from the ``Host`` header as
``https://<host>/hooks/<connection>`` (``http://`` also accepted, for a proxy that ends TLS).

Pure functions apart from the clock, which ``now`` replaces.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence
from urllib.parse import unquote

from syncwright.connectors import header_value
from syncwright.errors import AuthError

__all__ = ["HubSpotSignatureVerifier", "sign_v3", "verify_v3"]

SIGNATURE_HEADER = "X-HubSpot-Signature-v3"
TIMESTAMP_HEADER = "X-HubSpot-Request-Timestamp"
DEFAULT_TOLERANCE_SECONDS = 300


def sign_v3(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    message = method.encode() + uri.encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def verify_v3(
    body: bytes,
    headers: Mapping[str, str],
    secrets: Sequence[str],
    uris: Sequence[str],
    *,
    method: str = "POST",
    tolerance_seconds: float = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> None:
    """Return if the delivery carries HubSpot's v3 signature of ``body`` for one of ``uris``
    under one of ``secrets`` (several during a rotation); :class:`AuthError` otherwise."""
    usable = [s for s in secrets if s]
    if not usable:
        raise AuthError(
            "no HubSpot client secret is configured", code="hubspot.signature.no_secret"
        )
    signature = header_value(headers, SIGNATURE_HEADER)
    stamp = header_value(headers, TIMESTAMP_HEADER)
    if not signature or not stamp:
        raise AuthError(
            f"missing {SIGNATURE_HEADER} or {TIMESTAMP_HEADER} header",
            code="hubspot.signature.missing",
        )
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 15):
        raise AuthError(
            f"{TIMESTAMP_HEADER} is not epoch milliseconds", code="hubspot.signature.malformed"
        )
    age = (time.time() if now is None else now) - int(stamp) / 1000
    if abs(age) > tolerance_seconds:
        raise AuthError(
            f"HubSpot signature timestamp is {age:.0f}s from now (tolerance "
            f"{tolerance_seconds:.0f}s)",
            code="hubspot.signature.stale",
        )
    try:
        given = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise AuthError(
            "HubSpot signature is not base64", code="hubspot.signature.malformed"
        ) from exc
    for secret in usable:
        for uri in uris:
            # HubSpot signs the URI with these characters decoded (its validation guide).
            for candidate in dict.fromkeys((uri, unquote(uri))):
                expected = base64.b64decode(sign_v3(secret, method, candidate, body, stamp))
                if hmac.compare_digest(given, expected):
                    return
    raise AuthError("HubSpot signature does not match", code="hubspot.signature.mismatch")


class HubSpotSignatureVerifier:
    """The intake's verifier for ``POST /hooks/<connection>``."""

    def __init__(
        self,
        secrets: Sequence[str],
        *,
        connection: str,
        webhook_url: str | None,
        tolerance_seconds: float = DEFAULT_TOLERANCE_SECONDS,
    ) -> None:
        self._secrets = tuple(secrets)
        self._connection = connection
        self._url = webhook_url
        self._tolerance = tolerance_seconds

    def _uris(self, headers: Mapping[str, str]) -> list[str]:
        if self._url:
            return [self._url]
        host = header_value(headers, "host") or ""
        path = f"/hooks/{self._connection}"
        return [f"https://{host}{path}", f"http://{host}{path}"]

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        verify_v3(
            body, headers, self._secrets, self._uris(headers), tolerance_seconds=self._tolerance
        )

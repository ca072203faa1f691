"""The example vendor's webhook signature: ``X-Example-Signature: t=<unix>,v1=<hex>`` where
``v1 = HMAC-SHA256(secret, f"{t}.{body}")`` -- the same family of scheme Stripe uses."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence

from syncwright.errors import AuthError

HEADER = "x-example-signature"


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


class ExampleSignatureVerifier:
    def __init__(self, secrets: Sequence[str], tolerance_seconds: int = 300) -> None:
        self._secrets = list(secrets)
        self._tolerance = tolerance_seconds

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        header = headers.get(HEADER)
        if not header:
            raise AuthError(f"missing {HEADER} header", code="signature.missing")
        parts: dict[str, list[str]] = {}
        for item in header.split(","):
            key, _, value = item.strip().partition("=")
            parts.setdefault(key, []).append(value)
        stamp = parts.get("t", [""])[0]
        # ASCII digits only, no longer than a Unix time: int() would take "²", "1_0" or a
        # number too large to subtract from the clock.
        if not (stamp.isascii() and stamp.isdigit()) or len(stamp) > 12:
            raise AuthError("signature header has no timestamp", code="signature.malformed")
        timestamp = int(stamp)
        if abs(time.time() - timestamp) > self._tolerance:
            raise AuthError("signature timestamp outside tolerance", code="signature.stale")
        signed = f"{timestamp}.".encode() + body
        for secret in self._secrets:
            expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
            # Bytes, not str: compare_digest refuses a str with non-ASCII characters.
            given = [value.encode("utf-8", "replace") for value in parts.get("v1", [])]
            if any(hmac.compare_digest(expected.encode(), g) for g in given):
                return
        raise AuthError("no signature matches a configured secret", code="signature.mismatch")

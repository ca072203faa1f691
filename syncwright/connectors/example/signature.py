"""The example vendor's webhook signature: ``X-Example-Signature: t=<unix>,v1=<hex>`` where
``v1 = HMAC-SHA256(secret, f"{t}.{body}")`` -- the same family of scheme Stripe uses."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from syncwright.connectors import (
    check_timestamp,
    header_value,
    hmac_sha256_hex,
    parse_signature_header,
    signature_matches,
)
from syncwright.errors import AuthError

HEADER = "x-example-signature"


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    ts = int(time.time()) if timestamp is None else timestamp
    return f"t={ts},v1={hmac_sha256_hex(secret, f'{ts}.'.encode() + body)}"


class ExampleSignatureVerifier:
    def __init__(self, secrets: Sequence[str], tolerance_seconds: int = 300) -> None:
        self._secrets = list(secrets)
        self._tolerance = tolerance_seconds

    def __repr__(self) -> str:
        return f"ExampleSignatureVerifier(secrets={len(self._secrets)})"

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        header = header_value(headers, HEADER)
        if not header:
            raise AuthError(f"missing {HEADER} header", code="signature.missing")
        parts = parse_signature_header(header)
        timestamp = check_timestamp(next(iter(parts.get("t", [])), None), self._tolerance)
        signed = f"{timestamp}.".encode() + body
        given = parts.get("v1", [])
        # Any configured secret may match: a new one is added before the old is removed.
        if any(signature_matches(hmac_sha256_hex(s, signed), given) for s in self._secrets):
            return
        raise AuthError("no signature matches a configured secret", code="signature.mismatch")

"""Webhook signature helpers: parse a vendor's signature header, compute an HMAC, compare in
constant time, check a signed timestamp's age.

Stripe-style headers list ``key=value`` pairs (``t=1700000000,v1=abc...,v1=def...``); one key may
repeat during a secret rotation, so :func:`parse_signature_header` keeps every value.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping

from syncwright.errors import AuthError

__all__ = [
    "check_timestamp",
    "header_value",
    "hmac_sha256_base64",
    "hmac_sha256_hex",
    "parse_signature_header",
    "signature_matches",
]


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """A header whatever its case (a plain dict from a test, or httpx/Starlette headers)."""
    found = headers.get(name)
    if found is not None:
        return found
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


def parse_signature_header(
    header: str, *, separator: str = ",", assign: str = "="
) -> dict[str, list[str]]:
    """``"t=1,v1=aa,v1=bb"`` -> ``{"t": ["1"], "v1": ["aa", "bb"]}``; blanks are skipped."""
    parts: dict[str, list[str]] = {}
    for item in header.split(separator):
        key, found, value = item.strip().partition(assign)
        if found and key:
            parts.setdefault(key.strip(), []).append(value.strip())
    return parts


def hmac_sha256_hex(secret: str | bytes, message: bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def hmac_sha256_base64(secret: str | bytes, message: bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def signature_matches(expected: str, given: Iterable[str]) -> bool:
    """True when any given signature equals ``expected``, each compared in constant time (a
    plain ``==`` leaks, through timing, how much of a forged signature is right)."""
    want = expected.encode()
    return any(hmac.compare_digest(want, candidate.encode()) for candidate in given)


def check_timestamp(
    timestamp: str | None, tolerance_seconds: float, *, now: float | None = None
) -> int:
    """The signed unix ``timestamp`` as an int; :class:`AuthError` when it is missing, not a
    number, or further than ``tolerance_seconds`` from now (a replayed delivery)."""
    # ASCII digits only, no longer than a Unix time: int() would take "²", "1_0" or a number
    # too large to subtract from the clock.
    valid = timestamp is not None and timestamp.isascii() and timestamp.isdigit()
    stamp = int(timestamp) if valid and timestamp is not None and len(timestamp) <= 12 else None
    if stamp is None:
        raise AuthError("signature header has no valid timestamp", code="signature.malformed")
    current = time.time() if now is None else now
    if abs(current - stamp) > tolerance_seconds:
        raise AuthError("signature timestamp outside tolerance", code="signature.stale")
    return stamp

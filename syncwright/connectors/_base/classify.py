"""HTTP statuses and transport failures -> the error classes of :mod:`syncwright.errors`.

The defaults follow what vendors document alike: 429 and 5xx pass (retry, honouring
``Retry-After``), 401/403 are credentials (never retried blindly), any other 4xx is the data (park
with remediation). A transport failure before the request left is safe to retry; after a *write*
left, its outcome is uncertain and the engine probes before retrying. A vendor that differs
(NetSuite answers some business errors with 500) classifies those cases itself first and hands
the rest to these functions.
"""

from __future__ import annotations

import httpx

from syncwright.connectors._base.http import NEVER_SENT, parse_retry_after
from syncwright.errors import (
    AuthError,
    BusinessRuleError,
    SyncwrightError,
    TransientError,
    UncertainOutcomeError,
)

__all__ = ["DEFAULT_REMEDIATION", "RETRYABLE_STATUSES", "error_for_status", "error_for_transport"]

#: Statuses that mean "try again later" (408 Request Timeout, 425 Too Early, 429, 5xx).
RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
DEFAULT_REMEDIATION = "Correct the record named in the message in the source system, then retry."


def error_for_status(
    response: httpx.Response,
    *,
    vendor: str,
    code: str | None = None,
    message: str | None = None,
    remediation: str | None = None,
) -> SyncwrightError | None:
    """The error a response stands for, or ``None`` when it succeeded (1xx-3xx).

    ``code`` is the vendor's own error code when the body has one (the result's ``code`` is
    ``<vendor>.<code>``, else ``<vendor>.http_<status>``); ``message`` the vendor's words,
    ``remediation`` what a person should change for a 4xx business error.
    """
    status = response.status_code
    if status < 400:
        return None
    full_code = f"{vendor}.{code}" if code else f"{vendor}.http_{status}"
    text = message or f"{vendor} answered {status} {response.reason_phrase}".strip()
    if status in RETRYABLE_STATUSES or status >= 500:
        return TransientError(
            text, code=full_code, retry_after=parse_retry_after(response.headers.get("retry-after"))
        )
    if status in (401, 403):
        return AuthError(text, code=full_code)
    return BusinessRuleError(text, code=full_code, remediation=remediation or DEFAULT_REMEDIATION)


def error_for_transport(
    exc: httpx.TransportError, *, vendor: str, write: bool, what: str
) -> SyncwrightError:
    """A transport failure of the request ``what`` (``"PUT /customers/c1"``).

    Never sent (connect errors, pool timeouts): :class:`TransientError`. Sent and unanswered:
    a read is :class:`TransientError`, a write :class:`UncertainOutcomeError` (it may have been
    applied; the engine probes before any retry).
    """
    kind = type(exc).__name__
    if isinstance(exc, NEVER_SENT) or not write:
        return TransientError(f"{vendor} unreachable for {what}: {kind}", code=f"{vendor}.network")
    return UncertainOutcomeError(
        f"{what} at {vendor} got no answer ({kind}); it may have been applied",
        code=f"{vendor}.uncertain",
    )

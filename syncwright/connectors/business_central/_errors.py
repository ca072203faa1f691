"""Business Central answers -> syncwright errors (what to do next is part of the type).

Microsoft, "Business Central API v2.0 error codes" (dev-itpro/api-reference/v2.0/
dynamics-error-codes.md): every error is ``{"error": {"code", "message"}}``. 429 (over the
request limit) and 5xx retry, honouring ``Retry-After``; ``Request_EntityChanged`` (a stale
ETag) retries too -- the retry reads the record again; 401 is the credentials; other codes are
the data, parked with what to change.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from syncwright.connectors import error_for_status, error_for_transport
from syncwright.errors import AuthError, BusinessRuleError, SyncwrightError, TransientError

__all__ = ["DOCUMENTED_ERRORS", "classify_response", "classify_transport"]

VENDOR = "business_central"

DOCUMENTED_ERRORS: Mapping[str, type[SyncwrightError]] = {
    "Authentication_InvalidCredentials": AuthError,
    "BadRequest_NotFound": BusinessRuleError,
    "BadRequest": BusinessRuleError,
    "Internal_InvalidTableRelation": BusinessRuleError,
    "Internal_EntityWithSameKeyExists": BusinessRuleError,
    "Internal_RecordNotFound": BusinessRuleError,
    "Application_DialogException": BusinessRuleError,
    "Request_EntityChanged": TransientError,
    "Internal_ServerError": TransientError,
}

_REMEDIATION = {
    "Internal_InvalidTableRelation": (
        "A value names a record Business Central does not have (an item number, a tax area): "
        "map it under connections.{connection}.options (items, default_item, tax_areas) or "
        "create it in Business Central, then retry."
    ),
    "Application_DialogException": (
        "Business Central's business logic refused the write (the message says why: a blocked "
        "customer or item, a posted document): fix it in Business Central, then retry."
    ),
    "Internal_EntityWithSameKeyExists": (
        "A record with this number already exists in Business Central: link it or renumber "
        "it, then retry."
    ),
}
_DEFAULT = (
    "Correct the record named in the message in Business Central or in the source, then retry."
)


def classify_response(response: httpx.Response, *, what: str, connection: str) -> SyncwrightError:
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    code = str(error.get("code") or "") or None
    message = str(error.get("message") or "").split("  CorrelationId:")[0]
    text = f"Business Central {what}: {message or response.reason_phrase} ({response.status_code})"
    remediation = _REMEDIATION.get(code or "", _DEFAULT).replace("{connection}", connection)
    if code == "Request_EntityChanged":
        return TransientError(text, code=f"{VENDOR}.{code}")
    if code is not None and DOCUMENTED_ERRORS.get(code) is BusinessRuleError:
        return BusinessRuleError(text, code=f"{VENDOR}.{code}", remediation=remediation)
    found = error_for_status(
        response, vendor=VENDOR, code=code, message=text, remediation=remediation
    )
    assert found is not None  # only called for >= 400
    return found


def classify_transport(exc: httpx.TransportError, *, write: bool, what: str) -> SyncwrightError:
    return error_for_transport(exc, vendor=VENDOR, write=write, what=what)

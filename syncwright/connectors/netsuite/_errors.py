"""Turn NetSuite failures into syncwright's error types, with remediation for operations.

- 429, 5xx, connect failures and read timeouts -> :class:`TransientError` (``Retry-After``
  honoured when sent);
- a timeout or dropped connection *after a write was sent* -> :class:`UncertainOutcomeError`
  (the engine probes by external id before it retries);
- 400 (INVALID_CONTENT, USER_ERROR, INVALID_KEY_OR_REF, ...) and 404 ->
  :class:`BusinessRuleError` coded ``netsuite.<o:errorCode>``, with a remediation that names
  the field (``o:errorPath``) and the value we sent;
- 401/403 -> :class:`AuthError`.

Error body shape: Oracle, "Error Handling in REST Web Services"
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_156570709583.html
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from syncwright.connectors import NEVER_SENT, parse_retry_after
from syncwright.errors import (
    AuthError,
    BusinessRuleError,
    ConfigError,
    DependencyMissingError,
    SyncwrightError,
    TransientError,
    UncertainOutcomeError,
)

__all__ = [
    "classify_response",
    "classify_transport",
    "is_over_application",
    "parse_retry_after",
    "remediation_for",
]

_RETRY = "then retry the exception"
# A posting dated in a closed or locked accounting period (NetSuite's USER_ERROR wording).
_PERIOD_CLOSED = re.compile(r"accounting period .* (closed|locked)|closed period", re.I)
# An application line for more than is due on its invoice: USER_ERROR at apply.items[n].amount
# (classify_response puts the error path at the end of the message). Any USER_ERROR in the
# apply sublist counts: the caller then reads what is due and tries once more, so a refusal
# worded or placed otherwise by a real account costs two reads, not a wrong booking.
_OVER_APPLIED = re.compile(r"\(at apply(\.items\[\d+\](\.amount)?)?\)$")
#: ``waits_for["check"]`` of a posting that waits for its accounting period to reopen.
PERIOD_OPEN_CHECK = "accounting_period_open"


def period_closed(message: str, date: str | None, record: str) -> DependencyMissingError:
    """The posting waits (exception status ``waiting``) until the period of its date is open
    again; the worker asks NetSuite (``NetSuiteConnector.dependency_ready``)."""
    when = f"dated {date}" if date else "dated today"
    return DependencyMissingError(
        message,
        code="netsuite.period_closed",
        remediation=(
            f"The accounting period of this {record} ({when}) is closed or locked for "
            "receivables in NetSuite. Finance reopens it (Setup > Accounting > Manage "
            "Accounting Periods) and the exception retries by itself. To book it in a later "
            "period instead, post it by hand in NetSuite and resolve this exception."
        ),
        waits_for={"check": PERIOD_OPEN_CHECK, "date": date or ""},
    )


def _details(response: httpx.Response) -> list[dict[str, Any]]:
    try:
        body = response.json()
    except ValueError:
        return []
    details = body.get("o:errorDetails") if isinstance(body, dict) else None
    return [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []


_SEGMENT = re.compile(r"^(?P<name>[^\[\]]+)(?:\[(?P<index>\d+)\])?$")


def value_at(body: Any, path: str | None) -> str | None:
    """The value we sent at a NetSuite ``o:errorPath`` such as ``item.items[0].item``."""
    if not path or body is None:
        return None
    current: Any = body
    for segment in path.split("."):
        match = _SEGMENT.match(segment)
        if match is None or not isinstance(current, dict):
            return None
        wanted = match.group("name").lower()
        key = next((k for k in current if isinstance(k, str) and k.lower() == wanted), None)
        if key is None:
            return None
        current = current[key]
        if match.group("index") is not None:
            index = int(match.group("index"))
            if not isinstance(current, list) or index >= len(current):
                return None
            current = current[index]
    if isinstance(current, dict):
        current = current.get("id", current.get("externalId"))
    return None if current is None or isinstance(current, dict | list) else str(current)


def remediation_for(
    code: str, path: str | None, value: str | None, detail: str, record: str
) -> str:
    """Plain words for operations: what to change, where, then retry."""
    field = re.sub(r"\[\d+\]", "", path or "").split(".")[-1].lower() if path else ""
    missing = value is None or "enter value" in detail.lower()
    if field == "subsidiary":
        if missing:
            return (
                "The record carries no subsidiary: map the account's legal entity to a NetSuite "
                f"subsidiary (ownership/mapping), {_RETRY}."
            )
        if code == "INVALID_KEY_OR_REF":
            return (
                f"Create subsidiary {value} in NetSuite or map the account's legal entity to an "
                f"existing subsidiary (ownership/mapping), {_RETRY}."
            )
        return (
            f"Subsidiary {value} does not match the customer's subsidiary in NetSuite: fix the "
            f"legal-entity-to-subsidiary mapping (ownership/mapping) for this account, {_RETRY}."
        )
    if field == "currency":
        if code == "INVALID_KEY_OR_REF":
            return (
                f"Enable currency {value} in NetSuite (Lists > Accounting > Currencies) or map "
                f"the source currency to an existing NetSuite currency (mappings), {_RETRY}."
            )
        return (
            f"The NetSuite customer does not use currency {value}: add it to the customer's "
            f"currencies in NetSuite or correct the currency mapping, {_RETRY}."
        )
    if field in ("taxcode", "taxitem"):
        return (
            f"Tax code {value} is not valid for this subsidiary: map the source tax rate to a "
            "NetSuite tax code of the subsidiary's country (mappings: tax codes), or set that "
            f"tax code up in NetSuite, {_RETRY}."
        )
    if field in ("entity", "customer"):
        if missing:
            return (
                "The transaction names no customer: make sure the customer is synced and linked "
                f"before its transactions, {_RETRY}."
            )
        return (
            f"Customer {value} does not exist in NetSuite: sync the customer first (or fix the "
            f"customer link in the mapping), {_RETRY}."
        )
    if field == "item":
        if missing:
            return f"A line has no item: map every product to a NetSuite item, {_RETRY}."
        return (
            f"Item {value} does not exist in NetSuite: create the item or fix the "
            f"product-to-item mapping, {_RETRY}."
        )
    if field == "doc":
        return (
            f"Invoice {value} cannot take this application (missing, another customer or "
            f"another currency): check the invoice link in the trace and fix it, {_RETRY}."
        )
    if field == "amount" and path and path.startswith("apply"):
        return (
            "The amount applied exceeds what is still due on the invoice: look for an earlier "
            "or duplicate payment on it (run reconcile), then resolve or retry the exception."
        )
    if field == "payment":
        return (
            "The payment amount is missing or smaller than the amounts applied: fix the "
            f"payment mapping, {_RETRY}."
        )
    if field == "externalid":
        return (
            "A NetSuite record already has this external ID: upsert by external ID (PUT "
            f"eid:...) instead of creating, or link the existing record, {_RETRY}."
        )
    if field == "entityid":
        return (
            f"A NetSuite customer already uses customer ID {value}: map a unique entityId or "
            f"link the existing customer, {_RETRY}."
        )
    if field == "terms":
        return f"Terms {value} do not exist in NetSuite: map them to existing terms, {_RETRY}."
    if field == "createdfrom":
        return (
            f"Source transaction {value} is missing or belongs to another customer: re-link "
            f"it, {_RETRY}."
        )
    if code == "NONEXISTENT_ID":
        return (
            f"The {record} no longer exists in NetSuite (deleted or never created): clear its "
            f"stored NetSuite link so it is matched by external ID or re-created, {_RETRY}."
        )
    where = f" at '{path}'" if path else ""
    return (
        f"NetSuite refused the {record}{where}: {detail} Fix the source data or the mapping "
        f"for that field, {_RETRY}."
    )


def classify_response(
    response: httpx.Response, *, operation: str, record: str, body: Any = None
) -> SyncwrightError:
    """The syncwright error for a NetSuite error response (status >= 400)."""
    status = response.status_code
    details = _details(response)
    first = details[0] if details else {}
    ns_code = str(first.get("o:errorCode") or f"http_{status}")
    path = first.get("o:errorPath")
    detail_text = "; ".join(str(d.get("detail", "")) for d in details) or response.reason_phrase
    where = f" (at {path})" if path else ""
    message = f"NetSuite {operation} {record}: HTTP {status} {ns_code}: {detail_text}{where}"
    code = f"netsuite.{ns_code}"
    if status in (401, 403):
        return AuthError(message, code=code)
    if status == 429 or status >= 500:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return TransientError(message, code=code, retry_after=retry_after)
    if status == 400 and ns_code == "USER_ERROR" and _PERIOD_CLOSED.search(detail_text):
        return period_closed(message, value_at(body, "tranDate"), record)
    value = value_at(body, path if isinstance(path, str) else None)
    remediation = remediation_for(
        ns_code,
        path if isinstance(path, str) else None,
        value,
        str(first.get("detail", "")),
        record,
    )
    return BusinessRuleError(message, code=code, remediation=remediation)


def is_over_application(exc: BusinessRuleError) -> bool:
    """Whether NetSuite refused a payment or credit memo for applying more to an invoice than
    is due on it: ``classify_response`` of a 400 USER_ERROR in the apply sublist (the emulator
    says ``apply.items[n].amount``; a line or the sublist itself counts too)."""
    return exc.code == "netsuite.USER_ERROR" and bool(_OVER_APPLIED.search(exc.message))


def classify_transport(
    exc: httpx.TransportError, *, operation: str, record: str, write: bool, timeout: float
) -> SyncwrightError:
    """The syncwright error for a request that got no HTTP response."""
    kind = type(exc).__name__
    if isinstance(exc, httpx.UnsupportedProtocol):
        return ConfigError(
            f"NetSuite {operation} {record}: base URL not usable ({kind})",
            code="netsuite.base_url",
        )
    if write and not isinstance(exc, NEVER_SENT):
        return UncertainOutcomeError(
            f"NetSuite {operation} {record}: no response ({kind} after {timeout}s); the write "
            "may have been applied -- probe by external id before retrying",
            code="netsuite.uncertain_outcome",
        )
    is_timeout = isinstance(exc, httpx.TimeoutException)
    return TransientError(
        f"NetSuite {operation} {record}: {'timed out' if is_timeout else 'no response'} ({kind})",
        code="netsuite.timeout" if is_timeout else "netsuite.connection",
    )

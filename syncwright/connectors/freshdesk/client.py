"""HTTP client for the Freshdesk API v2: companies and their fields, SLA policies, tickets.

Authentication is the API key over HTTP basic auth, the key as username and any password
(https://developers.freshdesk.com/api/#authentication).

Every failure is raised as a syncwright error whose *type* says what to do next
(https://developers.freshdesk.com/api/#error, https://developers.freshdesk.com/api/#ratelimit):

- 429 (``Retry-After``), 5xx, connect failures and timeouts of reads -> :class:`TransientError`;
- a timeout or dropped connection *after a write was sent* -> :class:`UncertainOutcomeError`;
- 401 / 403 -> :class:`AuthError`;
- 400 (``{"description", "errors": [{field, message, code}]}``), 409 ``duplicate_value``, 404
  -> :class:`BusinessRuleError` with remediation built from the field errors.

The error code is ``freshdesk.<code of the first field error>`` (``invalid_field``,
``invalid_value``, ``missing_field``, ``duplicate_value``, ...), the body's own ``code`` when it
has no field errors (401 ``invalid_credentials``), else ``freshdesk.http_<status>``. The client
never retries on its own; the API key never appears in a message, a log line or ``repr``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import httpx

from syncwright.connectors import (
    ConcurrencyLimiter,
    RateLimiter,
    VendorHttpClient,
    error_for_status,
    error_for_transport,
)
from syncwright.errors import (
    BusinessRuleError,
    SyncwrightError,
    TransientError,
    UncertainOutcomeError,
)

__all__ = ["FreshdeskClient", "classify_response", "remediation_for"]

log = logging.getLogger(__name__)

API = "/api/v2"
_RETRY = "then retry the exception"
# Freshdesk pages hold at most 100 records.
MAX_PAGE = 100


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def remediation_for(errors: list[Mapping[str, Any]], what: str) -> str:
    """Plain words for operations from Freshdesk's field errors: what to change, then retry."""
    advice: list[str] = []
    for error in errors:
        field = str(error.get("field") or "")
        code = str(error.get("code") or "")
        message = str(error.get("message") or "").strip()
        custom = (
            field.removeprefix("custom_fields.") if field.startswith("custom_fields.") else None
        )
        if custom is not None and code == "invalid_field":
            advice.append(
                f"Freshdesk has no company field {custom!r}: create it (Admin > Customer fields > "
                "Company fields) or point the connection's options at an existing field"
            )
        elif custom is not None and code == "invalid_value":
            advice.append(
                f"Freshdesk refused the value of company field {custom!r} ({message}): add the "
                "value as a choice of that dropdown, or change the tier names sent"
            )
        elif code == "duplicate_value":
            advice.append(
                f"Another Freshdesk record already has this {field or 'value'}: if it is this "
                "customer, link it (set its syncwright id field to the account's global id in "
                "Freshdesk), otherwise rename one of them"
            )
        elif code == "missing_field":
            advice.append(f"{what} needs a value for {field!r}: fill it in at the source")
        else:
            advice.append(f"Freshdesk refused {field or 'the request'}: {message or code}")
    if not advice:
        advice.append(f"Freshdesk refused the {what}; see the message for the reason")
    return "; ".join(advice) + f", {_RETRY}."


def classify_response(response: httpx.Response, *, what: str) -> SyncwrightError:
    """The syncwright error for a Freshdesk error response (status >= 400)."""
    status = response.status_code
    body = _json(response)
    body = body if isinstance(body, dict) else {}
    raw_errors = body.get("errors")
    listed = raw_errors if isinstance(raw_errors, list) else []
    errors = [e for e in listed if isinstance(e, Mapping)]
    code = str(errors[0].get("code") or "") if errors else str(body.get("code") or "")
    detail = "; ".join(
        f"{e.get('field')}: {e.get('message')} ({e.get('code')})" for e in errors
    ) or str(body.get("message") or body.get("description") or response.reason_phrase)
    message = f"Freshdesk {what}: HTTP {status}: {detail}"
    if status == 404:
        remediation = (
            f"The Freshdesk record behind this {what} does not exist (deleted in Freshdesk?), or "
            f"the connection's base_url points at another Freshdesk account; check both, {_RETRY}."
        )
    else:
        remediation = remediation_for(errors, what)
    error = error_for_status(
        response,
        vendor="freshdesk",
        # Throttling and server errors are told apart by status alone (their bodies vary).
        code=code if code.isidentifier() and status < 500 and status != 429 else None,
        message=message,
        remediation=remediation,
    )
    assert error is not None  # status >= 400
    return error


class FreshdeskClient(VendorHttpClient):
    """``FreshdeskClient("https://acme.freshdesk.com", api_key)``; an emulator's
    ``ServerThread.url`` works as ``base_url`` too."""

    vendor = "freshdesk"

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 30.0,
        limiter: ConcurrencyLimiter | None = None,
        rate: RateLimiter | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        super().__init__(timeout=timeout, limiter=limiter, rate=rate, http=http)
        self.base_url = base_url.rstrip("/")
        self._auth = httpx.BasicAuth(api_key, "X")

    def __repr__(self) -> str:
        return f"FreshdeskClient(base_url={self.base_url!r})"

    # -- companies --------------------------------------------------------------------------
    # https://developers.freshdesk.com/api/#companies

    def find_company(self, field: str, value: str, *, timeout: float | None = None) -> Any:
        """``GET /search/companies?query="<field>:'<value>'"``: the oldest company whose custom
        field equals ``value``, or None."""
        if "'" in value or '"' in value:
            # Freshdesk's query language has no escape for quotes.
            raise BusinessRuleError(
                f"Freshdesk cannot search company field {field} for {value!r} (it holds quotes)",
                code="freshdesk.unsearchable_value",
                remediation="Global ids never hold quotes: check the record that carries this "
                f"id (syncwright trace), {_RETRY}.",
            )
        response = self._send(
            "GET",
            "/search/companies",
            params={"query": f"\"{field}:'{value}'\""},
            what=f"search company {field}={value}",
            timeout=timeout,
        )
        body = _json(response)
        found = body.get("results") if isinstance(body, dict) else None
        companies = [c for c in found or [] if isinstance(c, dict)]
        return min(companies, key=lambda c: int(c.get("id") or 0)) if companies else None

    def get_company(self, company_id: int | str, *, timeout: float | None = None) -> Any:
        """``GET /companies/{id}``; None when it does not exist."""
        try:
            response = self._send(
                "GET", f"/companies/{_segment(company_id)}", what="get company", timeout=timeout
            )
        except BusinessRuleError as exc:
            if exc.code == "freshdesk.http_404":
                return None
            raise
        return self._record(response, write=False)

    def create_company(self, body: Mapping[str, Any], *, timeout: float | None = None) -> Any:
        response = self._send(
            "POST", "/companies", json=dict(body), what="create company", timeout=timeout
        )
        return self._record(response, write=True)

    def update_company(
        self, company_id: int | str, body: Mapping[str, Any], *, timeout: float | None = None
    ) -> Any:
        """``PUT /companies/{id}``; custom fields not sent keep their values."""
        response = self._send(
            "PUT",
            f"/companies/{_segment(company_id)}",
            json=dict(body),
            what=f"update company {company_id}",
            timeout=timeout,
        )
        return self._record(response, write=True)

    # -- contacts ---------------------------------------------------------------------------
    # https://developers.freshdesk.com/api/#contacts

    def find_contact(self, unique_external_id: str, *, timeout: float | None = None) -> Any:
        """``GET /contacts?unique_external_id=``: the contact with that external id, or None."""
        response = self._send(
            "GET",
            "/contacts",
            params={"unique_external_id": unique_external_id},
            what=f"list contacts unique_external_id={unique_external_id}",
            timeout=timeout,
        )
        found = [c for c in _json(response) or [] if isinstance(c, dict)]
        return min(found, key=lambda c: int(c.get("id") or 0)) if found else None

    def create_contact(self, body: Mapping[str, Any], *, timeout: float | None = None) -> Any:
        response = self._send(
            "POST", "/contacts", json=dict(body), what="create contact", timeout=timeout
        )
        return self._record(response, write=True)

    def update_contact(
        self, contact_id: int | str, body: Mapping[str, Any], *, timeout: float | None = None
    ) -> Any:
        response = self._send(
            "PUT",
            f"/contacts/{_segment(contact_id)}",
            json=dict(body),
            what=f"update contact {contact_id}",
            timeout=timeout,
        )
        return self._record(response, write=True)

    # -- SLA policies -----------------------------------------------------------------------
    # https://developers.freshdesk.com/api/#sla-policies

    def list_sla_policies(self, *, timeout: float | None = None) -> list[dict[str, Any]]:
        policies: list[dict[str, Any]] = []
        for page in range(1, 1000):  # a guard against a server that never stops paging
            response = self._send(
                "GET",
                "/sla_policies",
                params={"page": page, "per_page": MAX_PAGE},
                what="list sla_policies",
                timeout=timeout,
            )
            batch = _json(response)
            policies += [p for p in batch or [] if isinstance(p, dict)]
            if 'rel="next"' not in response.headers.get("link", ""):
                break
        return policies

    def set_sla_companies(
        self, policy_id: int | str, company_ids: list[int], *, timeout: float | None = None
    ) -> Any:
        """``PUT /sla_policies/{id}`` with ``applicable_to.company_ids``: the list replaces
        the policy's companies (its other conditions stay)."""
        response = self._send(
            "PUT",
            f"/sla_policies/{_segment(policy_id)}",
            json={"applicable_to": {"company_ids": company_ids}},
            what=f"update sla_policy {policy_id}",
            timeout=timeout,
        )
        return self._record(response, write=True)

    # -- tickets ----------------------------------------------------------------------------
    # https://developers.freshdesk.com/api/#tickets

    def get_ticket(self, ticket_id: int | str, *, timeout: float | None = None) -> Any:
        """``GET /tickets/{id}?include=stats``; None when it does not exist."""
        try:
            response = self._send(
                "GET",
                f"/tickets/{_segment(ticket_id)}",
                params={"include": "stats"},
                what=f"get ticket {ticket_id}",
                timeout=timeout,
            )
        except BusinessRuleError as exc:
            if exc.code == "freshdesk.http_404":
                return None
            raise
        return self._record(response, write=False)

    def list_tickets(
        self, updated_since: str, *, page: int, per_page: int, timeout: float | None = None
    ) -> tuple[list[dict[str, Any]], bool]:
        """Tickets updated at or after ``updated_since``, oldest update first (with
        ``stats``): one page, and whether another follows."""
        response = self._send(
            "GET",
            "/tickets",
            params={
                "updated_since": updated_since,
                "order_by": "updated_at",
                "order_type": "asc",
                "include": "stats",
                "page": page,
                "per_page": per_page,
            },
            what="list tickets",
            timeout=timeout,
        )
        batch = _json(response)
        tickets = [t for t in batch or [] if isinstance(t, dict)]
        return tickets, 'rel="next"' in response.headers.get("link", "")

    # -- plumbing ---------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        *,
        what: str,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        return self._api_call(
            method,
            f"{self.base_url}{API}{path}",
            what=what,
            json=json,
            params=params,
            timeout=timeout,
            auth=self._auth,
            headers={"Accept": "application/json"},
        )

    def _transport_error(
        self, exc: httpx.TransportError, *, what: str, write: bool
    ) -> SyncwrightError:
        return error_for_transport(exc, vendor="freshdesk", write=write, what=what)

    def _response_error(self, response: httpx.Response, *, what: str, sent: Any) -> SyncwrightError:
        return classify_response(response, what=what)

    def _record(self, response: httpx.Response, *, write: bool) -> dict[str, Any]:
        record = _json(response)
        if isinstance(record, dict):
            return record
        message = f"Freshdesk answered {response.status_code} without a JSON object"
        if write:
            # The write was accepted but we cannot tell what it made: read it back.
            raise UncertainOutcomeError(message, code="freshdesk.bad_response")
        raise TransientError(message, code="freshdesk.bad_response")


def _segment(value: int | str) -> str:
    text = str(value)
    if not text.isdigit():
        raise ValueError(f"a Freshdesk record id is a number, got {text!r}")
    return text

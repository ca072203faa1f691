"""HTTP client for the Zendesk Support API (organizations and their custom fields).

Authentication is an API token over HTTP basic auth, user ``{email}/token``
(https://developer.zendesk.com/api-reference/introduction/security-and-auth/).

Every failure is raised as a syncwright error whose *type* says what to do next
(https://developer.zendesk.com/api-reference/introduction/requests/,
https://developer.zendesk.com/api-reference/introduction/rate-limits/):

- 429 (with ``Retry-After``), 409 (a concurrent update of the same record), 5xx, connect failures
  and timeouts of reads -> :class:`TransientError` (``retry_after`` from ``Retry-After``);
- a timeout or a dropped connection *after a write was sent* -> :class:`UncertainOutcomeError`
  (the engine probes by external id before it retries);
- 401 / 403 -> :class:`AuthError`;
- 422 ``RecordInvalid`` -> :class:`BusinessRuleError` whose remediation is built from the
  ``details`` Zendesk sends per field; 404 and other 4xx -> :class:`BusinessRuleError`.

The client never retries on its own: retry policy belongs to the engine. The API token never
appears in a message, a log line or ``repr``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from syncwright.connectors import (
    NEVER_SENT,
    ConcurrencyLimiter,
    RateLimiter,
    VendorHttpClient,
    parse_retry_after,
)
from syncwright.errors import (
    AuthError,
    BusinessRuleError,
    ConfigError,
    SyncwrightError,
    TransientError,
    UncertainOutcomeError,
)

__all__ = [
    "ZendeskClient",
    "classify_response",
    "classify_transport",
    "parse_retry_after",
    "remediation_for",
]

log = logging.getLogger(__name__)

API = "/api/v2"
_RETRY = "then retry the exception"
# Zendesk pages hold at most 100 records (cursor pagination, ``page[size]``).
MAX_PAGE = 100


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _value_at(sent: Any, field: str) -> Any:
    """The value we sent for a ``details`` key such as ``organization_fields.entitlement_tier``."""
    current = sent
    for part in field.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return None
        current = current[part]
    return current


def remediation_for(details: Mapping[str, Any], sent: Any, what: str) -> str:
    """Plain words for operations, from Zendesk's ``RecordInvalid`` details: what to change,
    where, then retry. ``sent`` is the record body we sent (``{"name": ..., ...}``)."""
    advice: list[str] = []
    external_id = _value_at(sent, "external_id")
    for field, problems in details.items():
        for problem in problems if isinstance(problems, list) else [problems]:
            error = str(problem.get("error", "")) if isinstance(problem, Mapping) else ""
            description = (
                str(problem.get("description", "")) if isinstance(problem, Mapping) else ""
            )
            value = _value_at(sent, field)
            if field == "name" and error == "DuplicateValue":
                advice.append(
                    f"Another Zendesk organization is already named {value!r}. If it is this "
                    f"customer, link it: set its External ID to {external_id} in Zendesk (the "
                    "next write updates it instead of creating one); otherwise rename one of them"
                )
            elif field.startswith("organization_fields."):
                key = field.removeprefix("organization_fields.")
                advice.append(
                    f"Zendesk refused {value!r} for organization field {key!r} ({description}). "
                    "If it is a drop-down field, add that value as an option (Admin Center > "
                    "People > Configuration > Organization fields) or change the tier/SLA "
                    "names sent to match an existing option"
                )
            elif error == "BlankValue":
                advice.append(f"{what} needs a value for {field!r}: fill it in at the source")
            elif error == "DuplicateValue":
                advice.append(
                    f"Another Zendesk record already uses {value!r} for {field!r}: link or "
                    "rename one of them"
                )
            else:
                advice.append(f"Zendesk refused {field!r} = {value!r}: {description}")
    if not advice:
        advice.append(f"Zendesk refused the {what}; see the message for the reason")
    return "; ".join(advice) + f", {_RETRY}."


def classify_response(response: httpx.Response, *, what: str, sent: Any = None) -> SyncwrightError:
    """The syncwright error for a Zendesk error response (status >= 400)."""
    status = response.status_code
    body = _json_object(response)
    error = body.get("error")
    name = (
        str(error)
        if isinstance(error, str) and error and " " not in error
        else ("RateLimited" if status == 429 else f"http_{status}")
    )
    text = body.get("description") or (error if isinstance(error, str) else None)
    if not text:
        text = response.text.strip()[:200] or response.reason_phrase
    raw_details = body.get("details")
    details: dict[str, Any] = raw_details if isinstance(raw_details, dict) else {}
    detail_text = "; ".join(
        str(p.get("description", ""))
        for problems in details.values()
        for p in (problems if isinstance(problems, list) else [problems])
        if isinstance(p, Mapping)
    )
    message = f"Zendesk {what}: HTTP {status} {name}: {text}"
    if detail_text:
        message += f" ({detail_text})"
    code = f"zendesk.{name}"
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    if status in (401, 403):
        return AuthError(message, code=code)
    if status in (409, 429) or status >= 500:
        return TransientError(message, code=code, retry_after=retry_after)
    if status == 422:
        return BusinessRuleError(
            message, code=code, remediation=remediation_for(details, sent, what)
        )
    if status == 404:
        return BusinessRuleError(
            message,
            code=code,
            remediation=(
                f"The Zendesk record behind this {what} does not exist (deleted in Zendesk?), or "
                "the connection's base_url points at another Zendesk account; check both, "
                f"{_RETRY}."
            ),
        )
    return BusinessRuleError(
        message,
        code=code,
        remediation=f"Zendesk refused the request ({text}); correct the record or the "
        f"connection settings, {_RETRY}.",
    )


def classify_transport(exc: httpx.TransportError, *, what: str, write: bool) -> SyncwrightError:
    """The syncwright error for a request that got no HTTP response."""
    kind = type(exc).__name__
    if isinstance(exc, httpx.UnsupportedProtocol):
        return ConfigError(f"Zendesk {what}: base URL not usable ({kind})", code="zendesk.base_url")
    if write and not isinstance(exc, NEVER_SENT):
        return UncertainOutcomeError(
            f"Zendesk {what}: no response ({kind}); the write may have been applied -- probe "
            "by external id before retrying",
            code="zendesk.uncertain_outcome",
        )
    is_timeout = isinstance(exc, httpx.TimeoutException)
    return TransientError(
        f"Zendesk {what}: {'timed out' if is_timeout else 'no response'} ({kind})",
        code="zendesk.timeout" if is_timeout else "zendesk.network",
    )


class ZendeskClient(VendorHttpClient):
    """``ZendeskClient("https://acme.zendesk.com", "agent@acme.com", api_token)``; an
    emulator's ``ServerThread.url`` works as ``base_url`` too.

    ``limiter`` bounds requests in flight and ``rate`` their start rate (per process or shared;
    see :mod:`syncwright.connectors._base.limits`). ``timeout`` is the default per request; each
    call may pass a tighter one (the step's own).
    """

    vendor = "zendesk"

    def __init__(
        self,
        base_url: str,
        email: str,
        api_token: str,
        *,
        timeout: float = 30.0,
        limiter: ConcurrencyLimiter | None = None,
        rate: RateLimiter | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        super().__init__(timeout=timeout, limiter=limiter, rate=rate, http=http)
        self.base_url = base_url.rstrip("/")
        self._auth = httpx.BasicAuth(f"{email}/token", api_token)

    def __repr__(self) -> str:
        return f"ZendeskClient(base_url={self.base_url!r})"

    # -- organizations --------------------------------------------------------------------
    # https://developer.zendesk.com/api-reference/ticketing/organizations/organizations/

    def create_or_update_organization(
        self, organization: Mapping[str, Any], *, timeout: float | None = None
    ) -> tuple[dict[str, Any], bool]:
        """``POST /organizations/create_or_update``: matched on ``id`` or ``external_id``
        (never on name); the organization and whether it was created (201) or updated (200).
        Repeating it is safe, which makes it the write to use after an uncertain outcome."""
        response = self._send(
            "POST",
            "/organizations/create_or_update.json",
            json={"organization": dict(organization)},
            what="create_or_update organization",
            timeout=timeout,
        )
        return self._record(response, "organization", write=True), response.status_code == 201

    def update_organization(
        self, org_id: int | str, organization: Mapping[str, Any], *, timeout: float | None = None
    ) -> dict[str, Any]:
        """``PUT /organizations/{id}``; organization fields not sent keep their values."""
        response = self._send(
            "PUT",
            f"/organizations/{_segment(org_id)}.json",
            json={"organization": dict(organization)},
            what=f"update organization {org_id}",
            timeout=timeout,
        )
        return self._record(response, "organization", write=True)

    def get_organization(
        self, org_id: int | str, *, timeout: float | None = None
    ) -> dict[str, Any] | None:
        """``GET /organizations/{id}``; None when it does not exist."""
        try:
            response = self._send(
                "GET",
                f"/organizations/{_segment(org_id)}.json",
                what=f"show organization {org_id}",
                timeout=timeout,
            )
        except BusinessRuleError as exc:
            if exc.code in ("zendesk.RecordNotFound", "zendesk.http_404"):
                return None
            raise
        return self._record(response, "organization")

    def find_organization_by_external_id(
        self, external_id: str, *, timeout: float | None = None
    ) -> dict[str, Any] | None:
        """``GET /organizations/search?external_id=`` (exact, case-insensitive match).

        Zendesk does not enforce unique external ids on every plan; should several match, the
        oldest (lowest id) wins, the one ``create_or_update`` would have matched first.
        """
        response = self._send(
            "GET",
            "/organizations/search.json",
            params={"external_id": external_id},
            what=f"search organization external_id {external_id}",
            timeout=timeout,
        )
        found = _json_object(response).get("organizations") or []
        orgs = [o for o in found if isinstance(o, dict)]
        return min(orgs, key=lambda o: int(o.get("id") or 0)) if orgs else None

    # -- users ----------------------------------------------------------------------------
    # https://developer.zendesk.com/api-reference/ticketing/users/users/

    def create_or_update_user(
        self, user: Mapping[str, Any], *, timeout: float | None = None
    ) -> dict[str, Any]:
        """``POST /users/create_or_update``: matched on ``external_id``, then ``email``;
        repeating it never makes a second user."""
        response = self._send(
            "POST",
            "/users/create_or_update.json",
            json={"user": dict(user)},
            what="create_or_update user",
            timeout=timeout,
        )
        return self._record(response, "user", write=True)

    def find_user_by_external_id(
        self, external_id: str, *, timeout: float | None = None
    ) -> dict[str, Any] | None:
        """``GET /users/search?external_id=``: the (oldest) active user with that id."""
        response = self._send(
            "GET",
            "/users/search.json",
            params={"external_id": external_id},
            what=f"search user external_id {external_id}",
            timeout=timeout,
        )
        users = [u for u in _json_object(response).get("users") or [] if isinstance(u, dict)]
        return min(users, key=lambda u: int(u.get("id") or 0)) if users else None

    # -- organization fields --------------------------------------------------------------
    # https://developer.zendesk.com/api-reference/ticketing/organizations/organization_fields/

    def list_organization_fields(self, *, timeout: float | None = None) -> list[dict[str, Any]]:
        """Every custom organization field (cursor pagination)."""
        return list(self._paged("organization_fields", timeout=timeout))

    def iterate_organizations(self, *, timeout: float | None = None) -> Iterator[dict[str, Any]]:
        """Every organization, page by page (cursor pagination).
        https://developer.zendesk.com/api-reference/ticketing/organizations/organizations/#list-organizations
        """
        return self._paged("organizations", timeout=timeout)

    def _paged(self, key: str, *, timeout: float | None) -> Iterator[dict[str, Any]]:
        """``GET /<key>.json`` with cursor pagination: each record of each page."""
        params: dict[str, Any] = {"page[size]": MAX_PAGE}
        for _ in range(100_000):  # a guard against a server that never stops paging
            response = self._send(
                "GET", f"/{key}.json", params=params, what=f"list {key}", timeout=timeout
            )
            page = _json_object(response)
            yield from (r for r in page.get(key) or [] if isinstance(r, dict))
            raw_meta = page.get("meta")
            meta: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
            cursor = meta.get("after_cursor")
            if not meta.get("has_more") or not cursor:
                break
            params = {"page[size]": MAX_PAGE, "page[after]": cursor}

    # -- plumbing -------------------------------------------------------------------------

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
        return classify_transport(exc, what=what, write=write)

    def _response_error(self, response: httpx.Response, *, what: str, sent: Any) -> SyncwrightError:
        return classify_response(response, what=what, sent=_record_sent(sent))

    def _record(self, response: httpx.Response, key: str, *, write: bool = False) -> dict[str, Any]:
        record = _json_object(response).get(key)
        if isinstance(record, dict):
            return record
        message = f"Zendesk answered {response.status_code} without a JSON {key!r} object"
        if write:
            # The write was accepted but we cannot tell what it made: read it back.
            raise UncertainOutcomeError(message, code="zendesk.bad_response")
        raise TransientError(message, code="zendesk.bad_response")


def _record_sent(body: Any) -> Any:
    """The record inside a request body (``{"organization": {...}}`` -> ``{...}``)."""
    if isinstance(body, Mapping) and len(body) == 1:
        (inner,) = body.values()
        return inner
    return body


def _segment(value: int | str) -> str:
    text = str(value)
    if not text.isdigit():
        raise ValueError(f"a Zendesk record id is a number, got {text!r}")
    return text

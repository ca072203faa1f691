"""HTTP client for HubSpot's CRM API (objects, search, v4 associations, properties).

Authentication is a bearer token: a private app's access token
(https://developers.hubspot.com/docs/api/private-apps), or a public app's OAuth access token
renewed from its refresh token (``auth.py``, passed as ``auth``).

Every failure is raised as a syncwright error whose *type* says what to do next, keyed by the
``category`` of HubSpot's error body (https://developers.hubspot.com/docs/faq/api-error-responses):

- 429 ``RATE_LIMITS`` and 5xx -> :class:`TransientError`. HubSpot's 429 names the exhausted
  ``policyName``; ``Retry-After`` is honoured when sent, else the wait is derived from the
  policy: a second for the rolling 10-second and search limits, until the next UTC midnight for
  the daily one (HubSpot resets it at midnight in the account's time zone; UTC is the earliest
  safe guess in no zone, so the engine's own cap on the delay applies).
- a timeout or dropped connection after a write was sent -> :class:`UncertainOutcomeError`.
- 401 ``INVALID_AUTHENTICATION`` / 403 ``MISSING_SCOPES`` -> :class:`AuthError`.
- 400 ``VALIDATION_ERROR``, 404 ``OBJECT_NOT_FOUND`` and other 4xx -> :class:`BusinessRuleError`
  with the remediation for that category.

The client never retries on its own (retry policy belongs to the engine). The token never
appears in a message, a log line or ``repr``.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import httpx

from syncwright.connectors import (
    BearerAuth,
    ConcurrencyLimiter,
    RateLimiter,
    VendorHttpClient,
    error_for_status,
    error_for_transport,
    parse_retry_after,
)
from syncwright.errors import BusinessRuleError, SyncwrightError, TransientError

__all__ = ["DEFAULT_BASE_URL", "HubSpotClient", "classify_response"]

DEFAULT_BASE_URL = "https://api.hubapi.com"
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SEARCH_PAGE = 200  # the search API's largest page
_PROPERTY_TTL_SECONDS = 300.0

_REMEDIATION = {
    "OBJECT_NOT_FOUND": "The HubSpot record is gone or the id is wrong (was it deleted or "
    "merged?); check it in HubSpot and the cross-reference (syncwright trace), then retry or "
    "resolve this exception.",
    "VALIDATION_ERROR": "HubSpot refused the values (the message names the property): create "
    "the property or allow the value in HubSpot (Settings > Properties), then retry this "
    "exception.",
}


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        found = response.json()
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _retry_after(response: httpx.Response, policy: str | None) -> float:
    given = parse_retry_after(response.headers.get("retry-after"))
    if given is not None:
        return given
    if policy == "DAILY":
        now = dt.datetime.now(dt.UTC)
        midnight = (now + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        return (midnight - now).total_seconds()
    return 1.0


def classify_response(response: httpx.Response, *, what: str) -> SyncwrightError | None:
    """The error a HubSpot answer stands for (None when it succeeded)."""
    if response.status_code < 400:
        return None
    body = _body(response)
    category = str(body.get("category") or "") or None
    if response.status_code == 429:
        category = "RATE_LIMITS"
    elif response.status_code >= 500 and category is None:
        category = "INTERNAL_ERROR"
    details = "; ".join(
        str(e.get("message")) for e in body.get("errors") or [] if isinstance(e, dict)
    )
    message = f"HubSpot {what}: {body.get('message') or response.reason_phrase}"
    if details:
        message += f" ({details})"
    if response.status_code == 429:
        policy = str(body.get("policyName") or "") or None
        return TransientError(
            f"{message} [policy {policy or 'unknown'}]",
            code="hubspot.RATE_LIMITS",
            retry_after=_retry_after(response, policy),
        )
    return error_for_status(
        response,
        vendor="hubspot",
        code=category,
        message=message,
        remediation=_REMEDIATION.get(category or ""),
    )


class HubSpotClient(VendorHttpClient):
    """The CRM calls the connector makes, one method per HubSpot endpoint it uses."""

    def __init__(
        self,
        base_url: str,
        access_token: str | None = None,
        *,
        auth: httpx.Auth | None = None,
        timeout: float,
        limiter: ConcurrencyLimiter | None = None,
        rate: RateLimiter | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        super().__init__(
            timeout=timeout,
            limiter=limiter,
            rate=rate,
            http=http,
            base_url=self.base_url,
            auth=auth or BearerAuth(access_token or ""),
            headers={"Accept": "application/json"},
            trust_env=False,
        )
        self._properties: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"HubSpotClient({self.base_url!r})"

    def _send(self, method: str, path: str, **kwargs: Any) -> Any:
        what = f"{method} {path}"
        try:
            response = self._http_request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise error_for_transport(
                exc, vendor="hubspot", write=method in _WRITES and "/search" not in path, what=what
            ) from exc
        error = classify_response(response, what=what)
        if error is not None:
            raise error
        return response.json() if response.content else None

    # -- records ------------------------------------------------------------------------------

    def get(
        self,
        object_type: str,
        object_id: str,
        properties: Sequence[str],
        *,
        associations: Sequence[str] = (),
    ) -> dict[str, Any]:
        """One record: ``{"id", "properties": {...}, "associations"?}``.
        https://developers.hubspot.com/docs/api/crm/companies (Retrieve)"""
        params: dict[str, str] = {"properties": ",".join(properties)}
        if associations:
            params["associations"] = ",".join(associations)
        found: dict[str, Any] = self._send(
            "GET", f"/crm/v3/objects/{object_type}/{_segment(object_id)}", params=params
        )
        return found

    def update(
        self, object_type: str, object_id: str, properties: Mapping[str, Any]
    ) -> dict[str, Any]:
        """PATCH the given properties (absolute values: a retry writes the same again)."""
        found: dict[str, Any] = self._send(
            "PATCH",
            f"/crm/v3/objects/{object_type}/{_segment(object_id)}",
            json={"properties": dict(properties)},
        )
        return found

    def batch_read(
        self, object_type: str, ids: Sequence[str], properties: Sequence[str]
    ) -> list[dict[str, Any]]:
        """Up to 100 records per call (HubSpot's batch limit); missing ones are left out.
        https://developers.hubspot.com/docs/api/crm/line-items (Batch read)"""
        found: list[dict[str, Any]] = []
        for start in range(0, len(ids), 100):
            chunk = ids[start : start + 100]
            page = self._send(
                "POST",
                f"/crm/v3/objects/{object_type}/batch/read",
                json={
                    "inputs": [{"id": i} for i in chunk],
                    "properties": list(properties),
                    "propertiesWithHistory": [],
                },
            )
            found.extend(page.get("results") or [])
        return found

    def search(self, object_type: str, request: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Every record a search finds, page by page (``after``).
        https://developers.hubspot.com/docs/api/crm/search"""
        body = {"limit": SEARCH_PAGE, **request}
        while True:
            page = self._send("POST", f"/crm/v3/objects/{object_type}/search", json=body)
            yield from page.get("results") or []
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return
            body = {**body, "after": after}

    def associations(self, from_type: str, object_id: str, to_type: str) -> list[dict[str, Any]]:
        """The ``to_type`` records associated with one record (v4): ``[{"toObjectId",
        "associationTypes": [{"category", "typeId", "label"}]}]``.
        https://developers.hubspot.com/docs/api/crm/associations"""
        found: list[dict[str, Any]] = []
        path = f"/crm/v4/objects/{from_type}/{_segment(object_id)}/associations/{to_type}"
        params: dict[str, str] = {"limit": "500"}
        while True:
            page = self._send("GET", path, params=params)
            found.extend(r for r in page.get("results") or [] if isinstance(r, dict))
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return found
            params = {**params, "after": str(after)}

    def property_names(self, object_type: str, *, fresh: bool = False) -> frozenset[str]:
        """The properties the portal defines for an object type (read once per 5 minutes, or
        now when ``fresh``).
        https://developers.hubspot.com/docs/api/crm/properties"""
        with self._lock:
            cached = self._properties.get(object_type)
            young = cached is not None and time.monotonic() - cached[0] < _PROPERTY_TTL_SECONDS
            if cached is not None and young and not fresh:
                return cached[1]
        page = self._send("GET", f"/crm/v3/properties/{object_type}")
        names = frozenset(str(p["name"]) for p in page.get("results") or [])
        with self._lock:
            self._properties[object_type] = (time.monotonic(), names)
        return names


def _segment(object_id: str) -> str:
    """A record id as one path segment: HubSpot ids are numeric; anything else is refused
    before it could change the path."""
    text = str(object_id)
    if not text.isdigit():
        raise BusinessRuleError(
            f"{text!r} is not a HubSpot record id",
            code="hubspot.malformed_id",
            remediation="The delivery or cross-reference names a value that is not a HubSpot "
            "record id; check it (syncwright trace), then resolve this exception.",
        )
    return text

"""A small Business Central API v2.0 client (httpx): one company's entity sets, OData queries,
ETags, bound actions. Never retries on its own: retry policy belongs to the workflow step.

Microsoft: "API (v2.0) for Dynamics 365 Business Central" (resource pages per entity),
"Using filtering in API calls" ($filter), "Tips for working with the APIs" (If-Match, deep
insert of document lines, bound actions ``Microsoft.NAV.post``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx

from syncwright.connectors import ConcurrencyLimiter, RateLimiter, VendorHttpClient
from syncwright.connectors.business_central._auth import EntraClientCredentials
from syncwright.connectors.business_central._errors import classify_response, classify_transport

__all__ = ["BusinessCentralClient", "odata_string"]

log = logging.getLogger(__name__)
JSON = dict[str, Any]


def odata_string(value: str) -> str:
    """An OData string literal: single quotes doubled (so a value cannot end the literal)."""
    return "'" + value.replace("'", "''") + "'"


class BusinessCentralClient(VendorHttpClient):
    """``BusinessCentralClient(api_root, company_id, auth, timeout=30)`` where ``api_root`` is
    ``https://api.businesscentral.dynamics.com/v2.0/{tenant}/{environment}/api/v2.0``."""

    def __init__(
        self,
        api_root: str,
        company_id: str,
        *,
        auth: EntraClientCredentials,
        timeout: float,
        http: httpx.Client,
        connection: str,
        limiter: ConcurrencyLimiter | None = None,
        rate: RateLimiter | None = None,
    ) -> None:
        super().__init__(timeout=timeout, http=http, limiter=limiter, rate=rate)
        self.api_root = api_root.rstrip("/")
        self.company_id = company_id
        self.connection = connection
        self._auth = auth

    def __repr__(self) -> str:
        return f"BusinessCentralClient(api_root={self.api_root!r}, company={self.company_id!r})"

    @property
    def company_url(self) -> str:
        return f"{self.api_root}/companies({self.company_id})"

    # -- reads -------------------------------------------------------------------------------

    def get(self, entity_set: str, record_id: str, *, expand: str | None = None) -> JSON:
        params = {"$expand": expand} if expand else None
        return self._json("GET", f"{self.company_url}/{entity_set}({record_id})", params=params)

    def query(
        self,
        entity_set: str,
        *,
        filter: str | None = None,
        expand: str | None = None,
        orderby: str | None = None,
        top: int | None = None,
    ) -> Iterator[JSON]:
        """Every record matching, following ``@odata.nextLink`` (server-driven paging)."""
        params: dict[str, Any] = {}
        for key, value in (("$filter", filter), ("$expand", expand), ("$orderby", orderby)):
            if value:
                params[key] = value
        if top is not None:
            params["$top"] = top
        url: str | None = f"{self.company_url}/{entity_set}"
        while url is not None:
            page = self._json("GET", url, params=params or None)
            yield from page.get("value") or []
            url, params = page.get("@odata.nextLink"), {}

    def find(
        self, entity_set: str, field: str, value: str, *, expand: str | None = None
    ) -> JSON | None:
        """The one record whose ``field`` equals ``value`` (numbers, external document numbers)."""
        for record in self.query(
            entity_set, filter=f"{field} eq {odata_string(value)}", expand=expand
        ):
            return record
        return None

    def companies(self) -> list[JSON]:
        return list(self._json("GET", f"{self.api_root}/companies").get("value") or [])

    # -- writes ------------------------------------------------------------------------------

    def create(self, entity_set: str, body: JSON) -> JSON:
        return self._json("POST", f"{self.company_url}/{entity_set}", json=body)

    def update(self, entity_set: str, record: JSON, body: JSON) -> JSON:
        """PATCH with the record's ETag (``If-Match``): a change made meanwhile is refused."""
        url = f"{self.company_url}/{entity_set}({record['id']})"
        return self._json("PATCH", url, json=body, headers=_if_match(record))

    def delete(self, entity_set: str, record: JSON) -> None:
        url = f"{self.company_url}/{entity_set}({record['id']})"
        self._send("DELETE", url, headers=_if_match(record))

    def add_line(self, entity_set: str, document_id: str, lines: str, body: JSON) -> JSON:
        return self._json(
            "POST", f"{self.company_url}/{entity_set}({document_id})/{lines}", json=body
        )

    def update_line(
        self, entity_set: str, document_id: str, lines: str, line: JSON, body: JSON
    ) -> JSON:
        url = f"{self.company_url}/{entity_set}({document_id})/{lines}({line['id']})"
        return self._json("PATCH", url, json=body, headers=_if_match(line))

    def delete_line(self, entity_set: str, document_id: str, lines: str, line: JSON) -> None:
        url = f"{self.company_url}/{entity_set}({document_id})/{lines}({line['id']})"
        self._send("DELETE", url, headers=_if_match(line))

    def action(self, entity_set: str, record_id: str, name: str) -> None:
        """A bound action, e.g. ``Microsoft.NAV.post`` of a sales invoice."""
        self._send("POST", f"{self.company_url}/{entity_set}({record_id})/Microsoft.NAV.{name}")

    # -- webhooks ----------------------------------------------------------------------------

    def subscribe(self, notification_url: str, entity_set: str, client_state: str) -> JSON:
        """Subscribe ``notification_url`` to changes of this company's ``entity_set``
        (Business Central calls it with ``?validationToken=`` before answering)."""
        body = {
            "notificationUrl": notification_url,
            "resource": f"/api/v2.0/companies({self.company_id})/{entity_set}",
            "clientState": client_state,
        }
        return self._json("POST", f"{self.api_root}/subscriptions", json=body)

    # -- plumbing ----------------------------------------------------------------------------

    def _json(self, method: str, url: str, **kwargs: Any) -> JSON:
        response = self._send(method, url, **kwargs)
        data: JSON = response.json()
        return data

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        path = urlsplit(url).path
        what = f"{method} {path.rsplit('/api/v2.0', 1)[-1]}"
        try:
            response = self._http_request(
                method, url, auth=self._auth, timeout=self.timeout, **kwargs
            )
        except httpx.TransportError as exc:
            log.info("business central %s: %s", what, type(exc).__name__)
            raise classify_transport(exc, write=method != "GET", what=what) from exc
        log.debug("business central %s -> %s", what, response.status_code)
        if response.status_code >= 400:
            raise classify_response(response, what=what, connection=self.connection)
        return response


def _if_match(record: JSON) -> dict[str, str]:
    return {"If-Match": str(record.get("@odata.etag") or "*")}

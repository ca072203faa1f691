"""A small NetSuite SuiteTalk REST client: record service + SuiteQL, signed with TBA.

We write our own because the ``netsuite`` package pins httpx below 0.28 (DESIGN.md section 5).
Every request is signed with OAuth 1.0a HMAC-SHA256 (realm = account id); every failure is raised
as a syncwright error whose type says what to do next (see ``_errors``). The client never
retries on its own: retry policy belongs to the workflow step that calls it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from syncwright.connectors import VendorHttpClient
from syncwright.connectors.netsuite._errors import classify_response, classify_transport
from syncwright.connectors.netsuite._oauth import TbaAuth, TbaCredentials
from syncwright.errors import BusinessRuleError, UncertainOutcomeError

__all__ = ["NetSuiteClient", "TbaCredentials"]

log = logging.getLogger(__name__)

RECORD_PATH = "/services/rest/record/v1"
SUITEQL_PATH = "/services/rest/query/v1/suiteql"
MAX_PAGE = 1000
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class NetSuiteClient(VendorHttpClient):
    """``NetSuiteClient("https://123456.suitetalk.api.netsuite.com", "123456", creds,
    timeout=30)``; the sandbox's ``ServerThread.url`` works as ``base_url`` too.

    No ``limiter``/``rate`` here: the connector passes as ``http`` a ``GovernedHttpClient`` that
    applies them per request and keeps a slot for a while after a timeout."""

    def __init__(
        self,
        base_url: str,
        account: str,
        credentials: TbaCredentials,
        *,
        timeout: float,
        http: httpx.Client | None = None,
    ) -> None:
        base = base_url.rstrip("/")
        for suffix in ("/services/rest", "/services"):
            if base.endswith(suffix):
                base = base[: -len(suffix)]
        super().__init__(timeout=timeout, http=http)
        self.base_url = base
        self.account = account
        self._auth = TbaAuth(credentials, realm=account)

    def __repr__(self) -> str:
        return f"NetSuiteClient(base_url={self.base_url!r}, account={self.account!r})"

    # -- record service -------------------------------------------------------------------
    # Oracle: "Working with Records" (book_1559132836) -- get/create/update and eid: keys.

    def get(self, record: str, id: str) -> dict[str, Any]:
        """GET one record by internal id (sublists collapsed to links, as NetSuite does)."""
        response = self._send("GET", self._record_url(record, id), what=f"get {record} {id}")
        data: dict[str, Any] = response.json()
        return data

    def get_by_external_id(self, record: str, external_id: str) -> dict[str, Any] | None:
        """GET ``{record}/eid:{external_id}``; ``None`` when no such record exists."""
        url = self._record_url(record, f"eid:{external_id}")
        try:
            response = self._send("GET", url, what=f"get {record} eid:{external_id}")
        except BusinessRuleError as exc:
            if exc.code == "netsuite.NONEXISTENT_ID":
                return None
            raise
        data: dict[str, Any] = response.json()
        return data

    def create(self, record: str, body: dict[str, Any]) -> str:
        """POST a new record; its internal id, read from the ``Location`` header (HTTP 204).

        Oracle: "Creating a Record Instance" (section_1545141395).
        """
        response = self._send("POST", self._record_url(record), json=body, what=f"create {record}")
        return self._location_id(response, record)

    def upsert_by_external_id(
        self,
        record: str,
        external_id: str,
        body: dict[str, Any],
        *,
        replace: Iterable[str] = (),
    ) -> str:
        """PUT ``{record}/eid:{external_id}``: create or update; the internal id.

        Sublists named in ``replace`` are replaced when the record exists (else NetSuite merges
        lines, and a repeated upsert would append them twice), so with them the upsert is
        idempotent by construction: the safe write after an uncertain outcome, and one request
        whether the record exists or not. Oracle: "Using the Upsert Operation"
        (section_156335203191); the REST API Browser lists ``replace`` for PUT as for PATCH.
        """
        url = self._record_url(record, f"eid:{external_id}")
        params = {"replace": ",".join(replace)} if replace else None
        response = self._send(
            "PUT", url, json=body, params=params, what=f"upsert {record} eid:{external_id}"
        )
        return self._location_id(response, record)

    def update(
        self, record: str, id: str, body: dict[str, Any], *, replace: Iterable[str] = ()
    ) -> None:
        """PATCH the given fields; sublists named in ``replace`` are replaced, others merged."""
        params = {"replace": ",".join(replace)} if replace else None
        self._send(
            "PATCH",
            self._record_url(record, id),
            json=body,
            params=params,
            what=f"update {record} {id}",
        )

    def delete(self, record: str, id: str) -> None:
        self._send("DELETE", self._record_url(record, id), what=f"delete {record} {id}")

    # -- SuiteQL --------------------------------------------------------------------------
    # Oracle: "Executing SuiteQL Queries Through REST Web Services" (section_157909186990).

    def suiteql(self, query: str, limit: int = MAX_PAGE) -> Iterator[dict[str, Any]]:
        """Every result row of ``query``, following pages of ``limit`` rows (max 1000).

        Rows come back as NetSuite sends them (column names lower case, values strings)
        without the per-row ``links``.
        """
        if not 1 <= limit <= MAX_PAGE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE}")
        offset = 0
        while True:
            response = self._send(
                "POST",
                self.base_url + SUITEQL_PATH,
                json={"q": query},
                params={"limit": limit, "offset": offset},
                headers={"Prefer": "transient"},
                what="suiteql",
                write=False,
            )
            page: dict[str, Any] = response.json()
            items = page.get("items") or []
            for row in items:
                yield {k: v for k, v in row.items() if k != "links"}
            if not page.get("hasMore") or not items:
                return
            offset += limit

    # -- plumbing -------------------------------------------------------------------------

    def _record_url(self, record: str, id: str | None = None) -> str:
        url = f"{self.base_url}{RECORD_PATH}/{quote(record, safe='')}"
        return url if id is None else f"{url}/{quote(id, safe=':')}"

    def _send(
        self,
        method: str,
        url: str,
        *,
        what: str,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        write: bool | None = None,
    ) -> httpx.Response:
        is_write = method in _WRITES if write is None else write
        operation, _, record = what.partition(" ")
        try:
            response = self._http_request(
                method,
                url,
                json=json,
                params=params,
                headers=headers,
                auth=self._auth,
                timeout=self.timeout,
            )
        except httpx.TransportError as exc:
            log.info("netsuite %s %s: %s", method, urlsplit(url).path, type(exc).__name__)
            raise classify_transport(
                exc, operation=operation, record=record, write=is_write, timeout=self.timeout
            ) from exc
        log.debug("netsuite %s %s -> %s", method, urlsplit(url).path, response.status_code)
        if response.status_code >= 400:
            raise classify_response(response, operation=operation, record=record, body=json)
        return response

    def _location_id(self, response: httpx.Response, record: str) -> str:
        location = response.headers.get("Location", "")
        rid = location.rstrip("/").rsplit("/", 1)[-1] if location else ""
        if not rid or rid.startswith("eid:"):
            # The write went through but we cannot tell which record it made.
            raise UncertainOutcomeError(
                f"NetSuite wrote a {record} but sent no usable Location header; "
                "probe by external id",
                code="netsuite.no_location",
            )
        return rid

"""A small Salesforce REST API client: OAuth 2.0, sObject reads and writes, SOQL, describe.

Authentication is the OAuth 2.0 username-password flow when ``username`` and ``password`` are
configured, the client-credentials flow otherwise (both ``POST /services/oauth2/token``). The
token answer names the ``instance_url`` every data call goes to; a session that Salesforce
expires (401 ``INVALID_SESSION_ID``) is renewed once per request, and a second refusal is an
:class:`AuthError`.
https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_username_password_flow.htm
https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_client_credentials_flow.htm

Every request carries ``Sforce-Call-Options: client=<client name>``; Salesforce copies the name
into the ``changeOrigin`` of the Change Data Capture events our writes cause, which is how the
inbound mapping recognises its own writes coming back (echo suppression).
https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_calloptions.htm

Every failure is raised as a syncwright error whose *type* says what to do next
(https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm):

- 5xx, 429, 403 ``REQUEST_LIMIT_EXCEEDED``, timeouts and network errors -> :class:`TransientError`;
- a write whose answer was lost (read timeout, connection dropped after sending) ->
  :class:`UncertainOutcomeError`, so the engine probes before it retries;
- 401 (after one re-authentication), other 403s, refused OAuth grants -> :class:`AuthError`;
- ``INVALID_FIELD``, ``REQUIRED_FIELD_MISSING``, ``FIELD_CUSTOM_VALIDATION_EXCEPTION``,
  ``NOT_FOUND``, ``ENTITY_IS_DELETED``, ``DUPLICATE_VALUE`` and every other 4xx ->
  :class:`BusinessRuleError` coded ``salesforce.<errorcode>`` with remediation.

The client never retries on its own (the engine step or the poller does). Secrets and the access
token never appear in a message, a log line or ``repr``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import ssl
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from syncwright.connectors import (
    NEVER_SENT,
    ConcurrencyLimiter,
    RateLimiter,
    VendorHttpClient,
)
from syncwright.errors import (
    AuthError,
    BusinessRuleError,
    SyncwrightError,
    TransientError,
    UncertainOutcomeError,
)

__all__ = [
    "DEFAULT_API_VERSION",
    "DEFAULT_CLIENT_NAME",
    "DEFAULT_LOGIN_URL",
    "SalesforceClient",
    "SalesforceCredentials",
    "classify_response",
    "valid_id",
]

log = logging.getLogger(__name__)

DEFAULT_LOGIN_URL = "https://login.salesforce.com"
DEFAULT_API_VERSION = "59.0"
DEFAULT_CLIENT_NAME = "syncwright"
DEFAULT_DESCRIBE_TTL_SECONDS = 300.0

_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
_API_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")
# Methods that change data: a lost answer to one of them is an uncertain outcome.
_WRITES = frozenset({"POST", "PATCH", "PUT", "DELETE"})

_REMEDIATION = {
    "INVALID_FIELD": (
        "Salesforce does not know a field syncwright used (see the message). Create the custom "
        "field on the object in Setup > Object Manager, make it visible and editable for the "
        "integration user's profile or permission set, then retry this exception."
    ),
    "REQUIRED_FIELD_MISSING": (
        "A field Salesforce requires (named in the message) has no value. Fill it on the "
        "record in Salesforce, or relax the requirement, then retry this exception."
    ),
    "FIELD_CUSTOM_VALIDATION_EXCEPTION": (
        "A validation rule in the Salesforce org refused the write (its message is above). "
        "Fix the record so that it passes the rule, or exempt the integration user from it, "
        "then retry this exception."
    ),
    "NOT_FOUND": (
        "The Salesforce record does not exist (or the integration user cannot see it). Check "
        "the id in the message and the cross-reference (syncwright trace); if the record was "
        "removed on purpose, resolve this exception."
    ),
    "ENTITY_IS_DELETED": (
        "The Salesforce record is in the recycle bin. Undelete it in Salesforce and retry this "
        "exception, or resolve the exception if it was deleted on purpose."
    ),
    "DUPLICATE_VALUE": (
        "Another Salesforce record already holds this unique value (see the message). Merge or "
        "correct the duplicate in Salesforce, then retry this exception."
    ),
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": (
        "A picklist in Salesforce does not allow the value syncwright wrote. Add the value to "
        "the picklist (or map it in the connection's options), then retry this exception."
    ),
    "MULTIPLE_CHOICES": (
        "Several Salesforce records match the external id. Remove the duplicates so that the "
        "external id is unique, then retry this exception."
    ),
}
_DEFAULT_REMEDIATION = (
    "Salesforce refused the request (see the message for the error code and fields). Correct "
    "the record in Salesforce or the connection settings, then retry this exception."
)


def valid_id(record_id: str) -> bool:
    """A 15- or 18-character Salesforce record id (safe to put into a URL or SOQL literal)."""
    return bool(_ID.match(record_id))


def _errors(response: httpx.Response) -> list[dict[str, Any]]:
    """Salesforce's error array ``[{"message", "errorCode", "fields"}]`` (or an OAuth error)."""
    try:
        body = response.json()
    except ValueError:
        return []
    if isinstance(body, dict):
        body = [body]
    if not isinstance(body, list):
        return []
    return [e for e in body if isinstance(e, dict)]


def _first_code(errors: Sequence[Mapping[str, Any]], status: int) -> str:
    for error in errors:
        code = error.get("errorCode")
        if isinstance(code, str) and code:
            return code
    return "MULTIPLE_CHOICES" if status == 300 else f"HTTP_{status}"


def classify_response(
    response: httpx.Response, *, what: str, token: str | None = None
) -> SyncwrightError:
    """The syncwright error for a non-2xx Salesforce answer to the request ``what``."""
    status = response.status_code
    errors = _errors(response)
    sf_code = _first_code(errors, status)
    code = f"salesforce.{sf_code.lower()}"
    details = "; ".join(
        str(e.get("message") or e.get("errorCode") or "")
        + (f" (fields: {', '.join(map(str, e['fields']))})" if e.get("fields") else "")
        for e in errors
    )
    message = f"Salesforce {what}: HTTP {status} {sf_code}" + (f": {details}" if details else "")
    if token:
        message = message.replace(token, "[redacted]")
    retry_after = _retry_after(response.headers.get("retry-after"))
    if status >= 500 or status == 429 or sf_code == "REQUEST_LIMIT_EXCEEDED":
        # REQUEST_LIMIT_EXCEEDED: the org's API allocation (a rolling 24 hours) or its
        # concurrent long-running request limit is used up; both recover on their own.
        # https://developer.salesforce.com/docs/atlas.en-us.salesforce_app_limits_cheatsheet.meta/salesforce_app_limits_cheatsheet/salesforce_app_limits_platform_api.htm
        return TransientError(message, code=code, retry_after=retry_after)
    if status in (401, 403):
        return AuthError(message, code=code)
    return BusinessRuleError(
        message, code=code, remediation=_REMEDIATION.get(sf_code, _DEFAULT_REMEDIATION)
    )


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


@dataclass(frozen=True, repr=False)
class SalesforceCredentials:
    """The connected app (``client_id``/``client_secret``) and, for the username-password flow,
    the integration user. ``security_token`` is appended to the password when the org asks for
    one (logins from outside its trusted IP ranges)."""

    client_id: str
    client_secret: str
    username: str | None = None
    password: str | None = None
    security_token: str = ""

    @property
    def grant_type(self) -> str:
        return "password" if self.username and self.password else "client_credentials"

    def __repr__(self) -> str:
        return f"SalesforceCredentials(grant_type={self.grant_type!r})"


class SalesforceClient(VendorHttpClient):
    """``SalesforceClient("https://login.salesforce.com", credentials)``; an emulator URL works
    as ``base_url`` too (``ca_file`` then names its certificate).

    ``limiter`` bounds requests in flight and ``rate`` their start rate (both per process; see
    :mod:`syncwright.connectors._base.limits`). Thread-safe: workers share one client, and one
    session token, which is renewed once when Salesforce expires it.
    """

    def __init__(
        self,
        base_url: str,
        credentials: SalesforceCredentials,
        *,
        api_version: str = DEFAULT_API_VERSION,
        client_name: str = DEFAULT_CLIENT_NAME,
        timeout: float = 30.0,
        ca_file: str | None = None,
        limiter: ConcurrencyLimiter | None = None,
        rate: RateLimiter | None = None,
        http: httpx.Client | None = None,
        describe_ttl_seconds: float = DEFAULT_DESCRIBE_TTL_SECONDS,
    ) -> None:
        if not re.match(r"^\d+\.\d$", api_version):
            raise ValueError(f"api_version must look like 59.0, got {api_version!r}")
        verify: ssl.SSLContext | bool = True
        if ca_file:
            # A CA bundle or a self-signed certificate (the emulator's) to trust.
            verify = ssl.create_default_context(cafile=ca_file)
        super().__init__(timeout=timeout, limiter=limiter, rate=rate, http=http, verify=verify)
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version
        self.client_name = client_name
        self._credentials = credentials
        self._auth_lock = threading.Lock()
        self._token: str | None = None
        self._instance_url: str | None = None
        self._org_id = ""
        self._describe_ttl = describe_ttl_seconds
        self._described: dict[str, tuple[float, frozenset[str]]] = {}
        # (used, max) from the last Sforce-Limit-Info header.
        self.api_usage: tuple[int, int] | None = None

    def __repr__(self) -> str:
        return (
            f"SalesforceClient(base_url={self.base_url!r}, api_version={self.api_version!r}, "
            f"client_name={self.client_name!r})"
        )

    # -- authentication -------------------------------------------------------------------

    @property
    def instance_url(self) -> str:
        """Where data calls go (from the token answer); authenticates on first use."""
        self._session()
        assert self._instance_url is not None
        return self._instance_url

    def authenticate(self) -> None:
        """Get a new session token now (normally done lazily on the first call)."""
        with self._auth_lock:
            self._login()

    def pubsub_session(self, stale: str | None = None) -> tuple[str, str, str]:
        """``(access token, instance URL, org id)`` for the Pub/Sub API's auth headers; a new
        session when ``stale`` (a token the API refused) is still the current one."""
        token = self._renew(stale) if stale else self._session()
        assert self._instance_url is not None
        return token, self._instance_url, self._org_id

    def _session(self) -> str:
        with self._auth_lock:
            if self._token is None:
                self._login()
            assert self._token is not None
            return self._token

    def _renew(self, stale: str) -> str:
        """A fresh token, unless another thread already replaced ``stale``."""
        with self._auth_lock:
            if self._token == stale or self._token is None:
                self._login()
            assert self._token is not None
            return self._token

    # https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_username_password_flow.htm
    def _login(self) -> None:
        creds = self._credentials
        form = {
            "grant_type": creds.grant_type,
            "client_id": creds.client_id,
            "client_secret": creds.client_secret,
        }
        if creds.grant_type == "password":
            form["username"] = creds.username or ""
            form["password"] = (creds.password or "") + creds.security_token
        what = "POST /services/oauth2/token"
        try:
            response = self._http_request(
                "POST",
                f"{self.base_url}/services/oauth2/token",
                data=form,
                headers={"Accept": "application/json"},
                timeout=self.timeout,
            )
        except httpx.TimeoutException as exc:
            raise TransientError(
                f"Salesforce {what} timed out after {self.timeout:g}s", code="salesforce.timeout"
            ) from exc
        except httpx.TransportError as exc:
            raise TransientError(
                f"Salesforce unreachable for {what}: {type(exc).__name__}",
                code="salesforce.network",
            ) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientError(
                f"Salesforce {what}: HTTP {response.status_code}",
                code="salesforce.oauth_unavailable",
            )
        body = _json_object(response)
        if response.status_code != 200 or body is None or not body.get("access_token"):
            error = str((body or {}).get("error") or f"http_{response.status_code}")
            description = str((body or {}).get("error_description") or "")
            raise AuthError(
                f"Salesforce refused the {creds.grant_type} grant: {error} {description}".strip()
                + " (check credentials.client_id, client_secret, username, password and the "
                "connected app's OAuth policies)",
                code=f"salesforce.oauth.{error}",
            )
        self._check_signature(body)
        self._token = str(body["access_token"])
        self._instance_url = str(body.get("instance_url") or self.base_url).rstrip("/")
        # The identity URL ends /id/<org id>/<user id>; the Pub/Sub API wants the org id.
        self._org_id = str(body.get("id") or "").rstrip("/").split("/")[-2:][0]
        log.info("salesforce session opened (%s grant) for %s", creds.grant_type, self.base_url)

    def _check_signature(self, body: Mapping[str, Any]) -> None:
        """``signature`` = Base64(HMAC-SHA256(client_secret, id + issued_at)): proof that the
        token came from the org holding our connected app's secret."""
        signature, identity, issued = body.get("signature"), body.get("id"), body.get("issued_at")
        if not (signature and identity and issued):
            return
        expected = hmac.new(
            self._credentials.client_secret.encode(),
            f"{identity}{issued}".encode(),
            hashlib.sha256,
        ).digest()
        if not hmac.compare_digest(base64.b64encode(expected).decode(), str(signature)):
            raise AuthError(
                "Salesforce token answer carries a signature that does not match the "
                "connected app's client secret",
                code="salesforce.oauth.bad_signature",
            )

    # -- data API ---------------------------------------------------------------------------

    # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_retrieve.htm
    def get(
        self, sobject: str, record_id: str, fields: Sequence[str] | None = None
    ) -> dict[str, Any]:
        """One record; ``fields`` limits what is returned (default: every readable field)."""
        params = {"fields": ",".join(fields)} if fields else None
        return self._object(
            "GET", f"/sobjects/{_name(sobject)}/{_record_id(record_id)}", params=params
        )

    # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_query.htm
    def query(self, soql: str, *, batch_size: int | None = None) -> Iterator[dict[str, Any]]:
        """Every record of a SOQL query, following ``nextRecordsUrl`` page by page.

        ``batch_size`` asks for pages of that size (``Sforce-Query-Options``, 200-2000).
        https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_queryoptions.htm
        """
        headers = {"Sforce-Query-Options": f"batchSize={batch_size}"} if batch_size else None
        page = self._object("GET", "/query", params={"q": soql}, headers=headers, what="query")
        while True:
            for record in page.get("records") or []:
                if isinstance(record, dict):
                    yield record
            next_url = page.get("nextRecordsUrl")
            if page.get("done", True) or not next_url:
                return
            page = self._object("GET", str(next_url), headers=headers, what="query (next page)")

    # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_update_fields.htm
    def update(self, sobject: str, record_id: str, fields: Mapping[str, Any]) -> None:
        """PATCH the given fields (idempotent: the same values again change nothing)."""
        self._request(
            "PATCH", f"/sobjects/{_name(sobject)}/{_record_id(record_id)}", json=dict(fields)
        )

    # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_upsert.htm
    def upsert(
        self, sobject: str, ext_field: str, value: str, fields: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Create or update the record whose external id ``ext_field`` is ``value``.

        Returns ``{"id", "created", ...}`` (``created`` is missing before API 46.0).
        """
        if not value:
            raise ValueError("an external id value must not be empty")
        path = f"/sobjects/{_name(sobject)}/{_name(ext_field)}/{quote(value, safe='')}"
        response = self._request("PATCH", path, json=dict(fields))
        if response.status_code == 204:
            return {}
        return _json_object(response) or {}

    # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_describe.htm
    def describe(self, sobject: str) -> dict[str, Any]:
        return self._object("GET", f"/sobjects/{_name(sobject)}/describe")

    def field_names(self, sobject: str, *, refresh: bool = False) -> frozenset[str]:
        """The object's field names, from a describe cached for ``describe_ttl_seconds`` (custom
        fields an admin adds are picked up after that)."""
        now = time.monotonic()
        cached = self._described.get(sobject)
        if cached is not None and not refresh and now - cached[0] < self._describe_ttl:
            return cached[1]
        described = self.describe(sobject)
        names = frozenset(
            str(f["name"]) for f in described.get("fields") or [] if isinstance(f, dict)
        )
        self._described[sobject] = (now, names)
        return names

    # -- plumbing -------------------------------------------------------------------------

    def _object(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        what: str | None = None,
    ) -> dict[str, Any]:
        response = self._request(method, path, params=params, headers=headers, what=what)
        body = _json_object(response)
        if body is None:
            raise TransientError(
                f"Salesforce {what or method + ' ' + path}: the response is not a JSON object",
                code="salesforce.bad_response",
            )
        return body

    def _url(self, path: str) -> str:
        if path.startswith("/services/"):  # nextRecordsUrl is already a full path
            return f"{self.instance_url}{path}"
        return f"{self.instance_url}/services/data/v{self.api_version}{path}"

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        what: str | None = None,
    ) -> httpx.Response:
        what = what or f"{method} {path}"
        token = self._session()
        for attempt in (1, 2):
            request_headers = {
                "Authorization": f"Bearer {token}",
                "Sforce-Call-Options": f"client={self.client_name}",
                "Accept": "application/json",
                **(headers or {}),
            }
            try:
                response = self._http_request(
                    method,
                    self._url(path),
                    params=params,
                    json=json,
                    headers=request_headers,
                    timeout=self.timeout,
                )
            except NEVER_SENT as exc:
                # Never sent: safe to retry, reads and writes alike.
                raise TransientError(
                    f"Salesforce unreachable for {what}: {type(exc).__name__}",
                    code="salesforce.network",
                ) from exc
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                if method in _WRITES:
                    # Sent, answer lost: Salesforce may have applied it. The engine probes.
                    raise UncertainOutcomeError(
                        f"Salesforce {what}: no answer ({type(exc).__name__} after "
                        f"{self.timeout:g}s); the write may have been applied",
                        code="salesforce.write_outcome_unknown",
                    ) from exc
                raise TransientError(
                    f"Salesforce {what}: {type(exc).__name__} after {self.timeout:g}s",
                    code="salesforce.timeout",
                ) from exc
            self._note_usage(response)
            log.debug("salesforce %s -> %s", what, response.status_code)
            if response.status_code == 401 and attempt == 1:
                # The session expired (timeout, password reset, revoked): log in again once.
                log.info("salesforce session expired; renewing it")
                token = self._renew(token)
                continue
            if response.status_code >= 300 or response.status_code < 200:
                raise classify_response(response, what=what, token=token)
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _note_usage(self, response: httpx.Response) -> None:
        # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_api_usage.htm
        match = _API_USAGE.search(response.headers.get("sforce-limit-info", ""))
        if match is None:
            return
        used, maximum = int(match.group(1)), int(match.group(2))
        previous = self.api_usage
        self.api_usage = (used, maximum)
        if (
            maximum
            and used * 10 >= maximum * 9
            and (previous is None or previous[0] * 10 < maximum * 9)
        ):
            log.warning("salesforce API usage at %s of %s daily requests", used, maximum)


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _name(api_name: str) -> str:
    if not re.match(r"^[A-Za-z][A-Za-z0-9_]*$", api_name):
        raise ValueError(f"not a Salesforce API name: {api_name!r}")
    return api_name


def _record_id(record_id: str) -> str:
    if not valid_id(record_id):
        raise BusinessRuleError(
            f"{record_id!r} is not a Salesforce record id (15 or 18 letters and digits)",
            code="salesforce.malformed_id",
            remediation="The cross-reference holds a value that is not a Salesforce id for this "
            "connection; check it with syncwright trace, then retry or resolve this exception.",
        )
    return record_id

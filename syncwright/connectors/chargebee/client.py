"""A small Chargebee API v2 client for what the connector needs: reads (accounts, events,
subscriptions, item prices) and the writes of its outbound actions.

Chargebee's API: ``https://<site>.chargebee.com/api/v2``, HTTP basic auth with the API key as
user name, form-encoded bodies with bracket keys (``subscription_items[item_price_id][0]``),
filters as ``field[operator]`` query parameters, lists paged by ``limit`` and ``next_offset``,
``chargebee-idempotency-key`` on writes. Errors carry ``api_error_code``; 429
(``api_request_limit_exceeded``) and 5xx are transient.
https://apidocs.chargebee.com/docs/api, .../docs/api/error_handling, .../docs/api/idempotency
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from syncwright.connectors import (
    BasicAuth,
    ConcurrencyLimiter,
    RateLimiter,
    VendorHttpClient,
    error_for_transport,
    parse_retry_after,
)
from syncwright.errors import (
    AuthError,
    BusinessRuleError,
    SyncwrightError,
    TransientError,
)

__all__ = ["MAX_LIST_LIMIT", "ChargebeeClient", "classify_response", "encode"]

log = logging.getLogger(__name__)

MAX_LIST_LIMIT = 100
IDEMPOTENCY_HEADER = "chargebee-idempotency-key"

# What a person does about Chargebee's documented 4xx codes.
_REMEDIATION = {
    "resource_not_found": "The record named in the message does not exist in this Chargebee "
    "site (test and live sites differ); correct the reference, then retry this exception.",
    "duplicate_entry": "A record with this id already exists in Chargebee; link it or choose "
    "another id, then retry this exception.",
    "param_wrong_value": "Chargebee refused a parameter (named in the message); correct the "
    "record or the connection's options (e.g. options.item_prices), then retry this exception.",
    "invalid_state_for_request": "The Chargebee record is in a state that does not allow this "
    "change (e.g. a cancelled subscription); check it in Chargebee, then retry or resolve this "
    "exception.",
    "unable_to_process_request": "The idempotency key was reused with different parameters; "
    "check in Chargebee whether the record was created, then retry or resolve this exception.",
}
_DEFAULT_REMEDIATION = (
    "Chargebee refused the request (see the message for the parameter); correct the record in "
    "Chargebee or the connection settings, then retry this exception."
)


def classify_response(response: httpx.Response, *, what: str) -> SyncwrightError:
    """The syncwright error for a non-2xx Chargebee response; the code is
    ``chargebee.<api_error_code>``. https://apidocs.chargebee.com/docs/api/error_handling"""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    api_code = str(body.get("api_error_code") or f"http_{status}")
    code = f"chargebee.{api_code}"
    message = f"Chargebee {what}: HTTP {status} {body.get('message') or response.reason_phrase}"
    if status in (401, 403):
        return AuthError(message, code=code)
    if status == 429 or status >= 500:
        return TransientError(
            message, code=code, retry_after=parse_retry_after(response.headers.get("retry-after"))
        )
    return BusinessRuleError(
        message, code=code, remediation=_REMEDIATION.get(api_code, _DEFAULT_REMEDIATION)
    )


def encode(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Chargebee's bracket encoding: ``{"billing_address": {"line1": "x"}}`` ->
    ``billing_address[line1]=x``; a list of objects -> ``name[field][i]`` (as its SDKs send);
    a dict under ``meta_data`` -> JSON text; filters ``{"email": {"is": "a"}}`` -> ``email[is]``
    (a list value as JSON)."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        if value is None:
            continue
        if key == "meta_data" and isinstance(value, Mapping):
            pairs.append((key, json.dumps(value, sort_keys=True)))
        elif isinstance(value, Mapping):
            for sub, inner in value.items():
                if inner is not None:
                    pairs.append((f"{key}[{sub}]", _scalar(inner)))
        elif isinstance(value, list | tuple):
            for index, row in enumerate(value):
                for sub, inner in row.items():
                    if inner is not None:
                        pairs.append((f"{key}[{sub}][{index}]", _scalar(inner)))
        else:
            pairs.append((key, _scalar(value)))
    return pairs


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return json.dumps([str(v) for v in value])
    return str(value)


class ChargebeeClient(VendorHttpClient):
    """``ChargebeeClient("https://acme-test.chargebee.com", api_key)``; an emulator's URL works
    as ``base_url`` too (``/api/v2`` is appended)."""

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
        self.base_url = base_url.rstrip("/").removesuffix("/api/v2")
        self._auth = BasicAuth(api_key, "")

    def __repr__(self) -> str:
        return f"ChargebeeClient(base_url={self.base_url!r})"

    # -- reads ----------------------------------------------------------------------------

    def retrieve(self, resource: str, object_id: str, *, timeout: float | None = None) -> Any:
        """``GET /<resource>s/<id>`` -> the whole answer (``{"customer": {...}, ...}``)."""
        return self.request("GET", f"/{resource}s/{_segment(object_id)}", timeout=timeout)

    def list_page(
        self, resource: str, params: Mapping[str, Any], *, timeout: float | None = None
    ) -> dict[str, Any]:
        """One page: ``{"list": [{resource: {...}}], "next_offset": ...}``."""
        return self.request("GET", f"/{resource}s", params, timeout=timeout)

    def iterate(
        self, resource: str, params: Mapping[str, Any], *, limit: int = 1000
    ) -> Iterator[dict[str, Any]]:
        """Every ``resource`` object a list returns (at most ``limit``), page by page."""
        offset: str | None = None
        seen = 0
        while True:
            page = self.list_page(resource, {**params, "limit": MAX_LIST_LIMIT, "offset": offset})
            for entry in page.get("list") or []:
                if seen >= limit:
                    return
                seen += 1
                yield entry[resource]
            offset = page.get("next_offset")
            if not offset:
                return

    # -- plumbing -------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """One call; GET parameters in the query, POST parameters in a form body."""
        what = f"{method} {path}"
        wait = self.timeout if timeout is None else min(timeout, self.timeout)
        headers = {"Accept": "application/json"}
        if idempotency_key is not None and method == "POST":
            headers[IDEMPOTENCY_HEADER] = idempotency_key[:100]
        url = f"{self.base_url}/api/v2{path}"
        pairs = encode(params or {})
        try:
            if method == "POST":
                headers["Content-Type"] = "application/x-www-form-urlencoded"
                response = self._http_request(
                    method,
                    url,
                    content=urlencode(pairs),
                    headers=headers,
                    timeout=wait,
                    auth=self._auth,
                )
            else:
                response = self._http_request(
                    method, url, params=pairs, headers=headers, timeout=wait, auth=self._auth
                )
        except httpx.TransportError as exc:
            raise error_for_transport(
                exc, vendor="chargebee", write=method == "POST", what=what
            ) from exc
        log.debug("chargebee %s -> %s", what, response.status_code)
        if not 200 <= response.status_code < 300:
            raise classify_response(response, what=what)
        try:
            body = response.json()
        except ValueError as exc:
            raise TransientError(
                f"Chargebee {what}: the response is not JSON", code="chargebee.bad_response"
            ) from exc
        if not isinstance(body, dict):
            raise TransientError(
                f"Chargebee {what}: the response is not an object", code="chargebee.bad_response"
            )
        return body


def _segment(object_id: str) -> str:
    if not object_id:
        raise ValueError("a Chargebee id must not be empty")
    return quote(object_id, safe="")

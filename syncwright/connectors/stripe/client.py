"""A small Stripe API client for what the connector needs: reads (content enrichment, polling)
and the few writes of its outbound actions (customers, subscriptions).

Stripe's API: ``Authorization: Bearer sk_...``, form-encoded bodies, bracket syntax for arrays
and hashes in query strings (``expand[0]=...``, ``created[gte]=...``), and a pinned
``Stripe-Version`` header so that payload shapes do not change under us when the account's
default version is upgraded (https://docs.stripe.com/api/versioning).

Every failure is raised as a syncwright error whose *type* says what to do next
(https://docs.stripe.com/api/errors, https://docs.stripe.com/error-handling):

- 429, 5xx, ``Stripe-Should-Retry: true``, timeouts and network errors -> :class:`TransientError`
  (``Retry-After`` honoured when sent);
- a timeout or a dropped connection *after a write was sent* -> :class:`UncertainOutcomeError`
  (the engine probes before it retries; the idempotency key makes the retry safe anyway);
- 401 / 403 -> :class:`AuthError`;
- 404 ``resource_missing`` and other 4xx -> :class:`BusinessRuleError` coded
  ``stripe.<error code>`` with remediation for operations.

The client never retries on its own: retry policy belongs to the caller (the engine step or the
poller). The API key never appears in a message, a log line or ``repr``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

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
    SyncwrightError,
    TransientError,
    UncertainOutcomeError,
)

__all__ = [
    "API_VERSION",
    "DEFAULT_BASE_URL",
    "StripeClient",
    "classify_response",
    "parse_retry_after",
]

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.stripe.com"
# The version the stripe 16.x SDK pins and the emulator answers with
# (syncwright.sandbox.stripe.DEFAULT_API_VERSION); payloads.py models this version's shapes.
API_VERSION = "2026-10-28.endive"
MAX_LIST_LIMIT = 100

# Secret and restricted keys (https://docs.stripe.com/keys): scrubbed from any text we pass on.
_KEY_PATTERN = re.compile(r"\b(?:sk|rk)_(?:test|live)_[A-Za-z0-9]{6,}")

_REMEDIATION = {
    "resource_missing": (
        "The Stripe object named in the message does not exist for this API key: it was "
        "deleted, or it belongs to another Stripe account or mode (test vs live). Check that "
        "the connection's credentials.api_key is for the account that sent the event; if the "
        "object was deleted on purpose, resolve this exception."
    ),
    "parameter_unknown": (
        "Stripe did not accept a parameter syncwright sent: the connection's base_url may point "
        "at an API that does not match the pinned Stripe-Version. Report this with the message."
    ),
    "parameter_invalid_integer": (
        "Stripe refused a parameter syncwright sent; report this with the message."
    ),
    "idempotency_error": (
        "Stripe already saw this step's idempotency key with other parameters (within 24 "
        "hours). Check in the Stripe dashboard whether the object was created; if it was, link "
        "it (metadata.syncwright_id) and retry, otherwise retry after 24 hours or resolve this "
        "exception."
    ),
}
_DEFAULT_REMEDIATION = (
    "Stripe refused the request (see the message for the field); correct the object in Stripe "
    "or the connection settings, then retry this exception."
)


def _scrub(text: str, api_key: str | None = None) -> str:
    if api_key:
        text = text.replace(api_key, "[redacted]")
    return _KEY_PATTERN.sub("[redacted]", text)


def _error_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def classify_response(
    response: httpx.Response, *, what: str, api_key: str | None = None
) -> SyncwrightError:
    """The syncwright error for a non-2xx Stripe response to the request described by ``what``.

    ``Stripe-Should-Retry`` is Stripe's own verdict and wins over the status code
    (https://docs.stripe.com/error-low-level#idempotency): ``true`` makes e.g. a 409
    ``lock_timeout`` transient, ``false`` makes a 5xx permanent. A 429 is always transient.
    """
    status = response.status_code
    error = _error_body(response)
    stripe_code = error.get("code") or error.get("type") or f"http_{status}"
    code = f"stripe.{stripe_code}"
    message = _scrub(
        f"Stripe {what}: HTTP {status} {error.get('message') or response.reason_phrase}",
        api_key,
    )
    if error.get("param"):
        message += f" (param: {error['param']})"
    request_id = response.headers.get("request-id")
    if request_id:
        message += f" [request {request_id}]"
    should_retry = (response.headers.get("stripe-should-retry") or "").strip().lower()
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    if status in (401, 403):
        return AuthError(message, code=code)
    if (
        status == 429
        or should_retry == "true"
        or (should_retry != "false" and (status == 409 or status >= 500))
    ):
        return TransientError(message, code=code, retry_after=retry_after)
    if status >= 500:
        return BusinessRuleError(
            message,
            code=code,
            remediation="Stripe answered that retrying this request will not help "
            "(Stripe-Should-Retry: false). Check the Stripe dashboard's request log for the "
            "request id in the message, then retry or resolve this exception.",
        )
    return BusinessRuleError(
        message,
        code=code,
        remediation=_REMEDIATION.get(str(stripe_code), _DEFAULT_REMEDIATION),
    )


def _encode(params: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Stripe's bracket form encoding: ``{"expand": ["a"], "created": {"gte": 1}}`` ->
    ``expand[0]=a&created[gte]=1`` (the same shape the official SDKs send)."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else key
        if value is None:
            continue
        if isinstance(value, Mapping):
            pairs.extend(_encode(value, name))
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                if isinstance(item, Mapping):
                    pairs.extend(_encode(item, f"{name}[{index}]"))
                else:
                    pairs.append((f"{name}[{index}]", _scalar(item)))
        else:
            pairs.append((name, _scalar(value)))
    return pairs


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class StripeClient(VendorHttpClient):
    """``StripeClient("https://api.stripe.com", api_key, timeout=30)``; an emulator's
    ``ServerThread.url`` works as ``base_url`` too.

    ``limiter`` bounds requests in flight and ``rate`` their start rate (both per process; see
    :mod:`syncwright.connectors._base.limits`).
    """

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
        self._api_key = api_key

    def __repr__(self) -> str:
        return f"StripeClient(base_url={self.base_url!r}, api_version={API_VERSION!r})"

    # -- reads ----------------------------------------------------------------------------

    # https://docs.stripe.com/api/customers/retrieve
    def get_customer(
        self, customer_id: str, *, expand: Sequence[str] = (), timeout: float | None = None
    ) -> dict[str, Any]:
        return self._get(
            f"/v1/customers/{_segment(customer_id)}", {"expand": list(expand)}, timeout=timeout
        )

    # https://docs.stripe.com/api/subscriptions/retrieve
    def get_subscription(
        self, subscription_id: str, *, expand: Sequence[str] = (), timeout: float | None = None
    ) -> dict[str, Any]:
        return self._get(
            f"/v1/subscriptions/{_segment(subscription_id)}",
            {"expand": list(expand)},
            timeout=timeout,
        )

    # https://docs.stripe.com/api/invoices/retrieve
    def get_invoice(self, invoice_id: str, *, expand: Sequence[str] = ()) -> dict[str, Any]:
        return self._get(f"/v1/invoices/{_segment(invoice_id)}", {"expand": list(expand)})

    # https://docs.stripe.com/api/credit_notes/retrieve
    def get_credit_note(self, credit_note_id: str, *, expand: Sequence[str] = ()) -> dict[str, Any]:
        return self._get(f"/v1/credit_notes/{_segment(credit_note_id)}", {"expand": list(expand)})

    # https://docs.stripe.com/api/invoices/invoice_lines
    def list_invoice_lines(self, invoice_id: str) -> list[dict[str, Any]]:
        """Every line of an invoice (event payloads carry only the first ten)."""
        return list(self.iterate(f"/v1/invoices/{_segment(invoice_id)}/lines"))

    # https://docs.stripe.com/api/credit_notes/lines
    def list_credit_note_lines(self, credit_note_id: str) -> list[dict[str, Any]]:
        """Every line of a credit note (event payloads carry only the first ten)."""
        return list(self.iterate(f"/v1/credit_notes/{_segment(credit_note_id)}/lines"))

    # https://docs.stripe.com/api/refunds/list
    def list_refunds(self, charge_id: str) -> list[dict[str, Any]]:
        """Every refund of a charge, newest first."""
        return list(self.iterate("/v1/refunds", {"charge": charge_id}))

    # https://docs.stripe.com/api/invoice-payment/list
    def list_invoice_payments(self, payment_intent_id: str) -> list[dict[str, Any]]:
        """The invoice payments a PaymentIntent made (the way from a charge to its invoice)."""
        params = {"payment": {"type": "payment_intent", "payment_intent": payment_intent_id}}
        return list(self.iterate("/v1/invoice_payments", params))

    # https://docs.stripe.com/api/credit_notes/list
    def list_credit_notes(self, invoice_id: str) -> list[dict[str, Any]]:
        return list(self.iterate("/v1/credit_notes", {"invoice": invoice_id}))

    # https://docs.stripe.com/api/events/list -- newest first; ``ending_before`` pages towards
    # newer events, ``starting_after`` towards older ones (https://docs.stripe.com/api/pagination).
    def list_events(
        self,
        *,
        starting_after: str | None = None,
        ending_before: str | None = None,
        limit: int = MAX_LIST_LIMIT,
        types: Iterable[str] | None = None,
        created_gte: int | None = None,
    ) -> dict[str, Any]:
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_LIST_LIMIT}")
        params: dict[str, Any] = {
            "limit": limit,
            "starting_after": starting_after,
            "ending_before": ending_before,
            "types": list(types) if types is not None else None,
            "created": {"gte": created_gte} if created_gte is not None else None,
        }
        return self._get("/v1/events", params)

    # -- outbound: customers and subscriptions --------------------------------------------

    # https://docs.stripe.com/api/customers/create
    def create_customer(
        self, params: Mapping[str, Any], *, idempotency_key: str, timeout: float | None = None
    ) -> dict[str, Any]:
        return self._post("/v1/customers", params, idempotency_key=idempotency_key, timeout=timeout)

    # https://docs.stripe.com/api/customers/update -- unset parameters are left unchanged.
    def update_customer(
        self,
        customer_id: str,
        params: Mapping[str, Any],
        *,
        idempotency_key: str,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        return self._post(
            f"/v1/customers/{_segment(customer_id)}",
            params,
            idempotency_key=idempotency_key,
            timeout=timeout,
        )

    # https://docs.stripe.com/api/customers/list -- newest first; ``email`` is an exact,
    # case-sensitive match.
    def list_customers(
        self,
        *,
        email: str | None = None,
        limit: int = MAX_LIST_LIMIT,
        starting_after: str | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        params = {"email": email, "limit": limit, "starting_after": starting_after}
        return self._get("/v1/customers", params, timeout=timeout)

    # https://docs.stripe.com/api/prices/retrieve
    def get_price(self, price_id: str, *, timeout: float | None = None) -> dict[str, Any]:
        return self._get(f"/v1/prices/{_segment(price_id)}", {}, timeout=timeout)

    # https://docs.stripe.com/api/subscriptions/create
    def create_subscription(
        self, params: Mapping[str, Any], *, idempotency_key: str, timeout: float | None = None
    ) -> dict[str, Any]:
        return self._post(
            "/v1/subscriptions", params, idempotency_key=idempotency_key, timeout=timeout
        )

    # https://docs.stripe.com/api/subscriptions/update
    def update_subscription(
        self,
        subscription_id: str,
        params: Mapping[str, Any],
        *,
        idempotency_key: str,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        return self._post(
            f"/v1/subscriptions/{_segment(subscription_id)}",
            params,
            idempotency_key=idempotency_key,
            timeout=timeout,
        )

    # https://docs.stripe.com/api/subscriptions/list -- without ``status`` Stripe leaves out
    # canceled subscriptions; ``all`` lists every one.
    def list_subscriptions(
        self,
        *,
        customer: str,
        status: str = "all",
        limit: int = MAX_LIST_LIMIT,
        starting_after: str | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        params = {
            "customer": customer,
            "status": status,
            "limit": limit,
            "starting_after": starting_after,
        }
        return self._get("/v1/subscriptions", params, timeout=timeout)

    # https://docs.stripe.com/api/subscriptions/cancel -- ends it now, without proration.
    def cancel_subscription(
        self, subscription_id: str, *, timeout: float | None = None
    ) -> dict[str, Any]:
        return self._delete(f"/v1/subscriptions/{_segment(subscription_id)}", timeout=timeout)

    # -- plumbing -------------------------------------------------------------------------

    # https://docs.stripe.com/api/pagination/auto -- every object of a list endpoint.
    def iterate(
        self, path: str, params: Mapping[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every object a list endpoint returns for ``params``, page by page."""
        after: str | None = None
        while True:
            page = self._get(
                path, {**(params or {}), "limit": MAX_LIST_LIMIT, "starting_after": after}
            )
            data = page.get("data") or []
            yield from data
            if not page.get("has_more") or not data:
                return
            after = str(data[-1]["id"])

    def _get(
        self, path: str, params: Mapping[str, Any], *, timeout: float | None = None
    ) -> dict[str, Any]:
        return self._request("GET", path, params, timeout=timeout)

    def _post(
        self,
        path: str,
        params: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        return self._request("POST", path, params, idempotency_key=idempotency_key, timeout=timeout)

    def _delete(
        self, path: str, params: Mapping[str, Any] | None = None, *, timeout: float | None = None
    ) -> dict[str, Any]:
        return self._request("DELETE", path, params or {}, timeout=timeout)

    def _request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """One call: GET and DELETE carry their parameters in the query string, POST in a form
        body. Only POST takes an ``Idempotency-Key``: GET and DELETE are idempotent by
        definition (https://docs.stripe.com/api/idempotent_requests)."""
        what = f"{method} {path}"
        wait = self.timeout if timeout is None else min(timeout, self.timeout)
        headers = {
            "Authorization": f"Bearer {self._api_key}",
            "Stripe-Version": API_VERSION,
            "Accept": "application/json",
        }
        if idempotency_key is not None and method == "POST":
            headers["Idempotency-Key"] = idempotency_key
        url = f"{self.base_url}{path}"
        encoded = tuple(_encode(params))
        try:
            if method == "POST":
                headers["Content-Type"] = "application/x-www-form-urlencoded"
                response = self._http_request(
                    method, url, content=urlencode(encoded), headers=headers, timeout=wait
                )
            else:
                response = self._http_request(
                    method, url, params=encoded, headers=headers, timeout=wait
                )
        except httpx.TransportError as exc:
            # DELETE (a cancellation) is idempotent: a lost answer is simply retried.
            raise _transport_error(exc, what=what, write=method == "POST", timeout=wait) from exc
        log.debug("stripe %s -> %s", what, response.status_code)
        if response.status_code != 200:
            raise classify_response(response, what=what, api_key=self._api_key)
        try:
            body = response.json()
        except ValueError as exc:
            raise self._bad_response(what, "the response is not JSON", method) from exc
        if not isinstance(body, dict):
            raise self._bad_response(what, "the response is not a JSON object", method)
        return body

    @staticmethod
    def _bad_response(what: str, why: str, method: str) -> SyncwrightError:
        if method == "POST":
            # Stripe answered 200 to a write: it landed, but we cannot read what it made.
            return UncertainOutcomeError(f"Stripe {what}: {why}", code="stripe.bad_response")
        return TransientError(f"Stripe {what}: {why}", code="stripe.bad_response")


def _transport_error(
    exc: httpx.TransportError, *, what: str, write: bool, timeout: float
) -> SyncwrightError:
    """No HTTP response. A read is safe to repeat; a write that may have reached Stripe is an
    uncertain outcome (connect failures never sent anything)."""
    if write and not isinstance(exc, NEVER_SENT):
        return UncertainOutcomeError(
            f"Stripe {what}: no response ({type(exc).__name__} after {timeout:g}s); the write "
            "may have been applied",
            code="stripe.uncertain_outcome",
        )
    if isinstance(exc, httpx.TimeoutException):
        return TransientError(f"Stripe {what} timed out after {timeout:g}s", code="stripe.timeout")
    return TransientError(
        f"Stripe unreachable for {what}: {type(exc).__name__}", code="stripe.network"
    )


def _segment(object_id: str) -> str:
    if not object_id:
        raise ValueError("a Stripe object id must not be empty")
    return quote(object_id, safe="")

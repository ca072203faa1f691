"""The HTTP plumbing every vendor client shares, so that each client only says what is vendor
specific (URLs, auth, error bodies, classification).

A client owns its ``httpx.Client`` unless the caller passes one in (a connector that governs
requests itself, a test's mock transport); only an owned client is closed. Every request takes
the rate token and concurrency slot of :mod:`syncwright.connectors._base.limits` (per process or
shared, ``limits.scope``), and a vendor's Retry-After blocks the connection's later requests.
What a failure *means* stays in each client: vendors disagree on which statuses retry.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, ClassVar, Self
from urllib.parse import urlsplit

import httpx

from syncwright.connectors._base.limits import ConcurrencyLimiter, RateLimiter
from syncwright.errors import SyncwrightError

__all__ = [
    "NEVER_SENT",
    "WRITE_METHODS",
    "VendorHttpClient",
    "honour_retry_after",
    "parse_retry_after",
]

log = logging.getLogger(__name__)

#: Methods that change a record: an unanswered one is an uncertain outcome, not a retry.
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Transport failures raised before any byte of the request left: retrying them is always safe,
# even for a write. Any other failure after sending a write is an uncertain outcome.
NEVER_SENT: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date).

    Takes the header value rather than the response so that callers holding only the header
    (and the vendor modules' public ``parse_retry_after``) can use it. Never negative: a date in
    the past means "now". ``None`` when the header is missing or unreadable.
    """
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


# The longest Retry-After that blocks a connection (the same cap as a step's retry delay).
MAX_BLOCK_SECONDS = 600.0


def honour_retry_after(rate: RateLimiter | None, response: httpx.Response) -> None:
    """A 429 or 503 with ``Retry-After``: no request to the connection starts before it has
    passed (in every process when the connection's limits are shared)."""
    if rate is None or response.status_code not in (429, 503):
        return
    pause = parse_retry_after(response.headers.get("retry-after"))
    if pause:
        rate.block_for(min(pause, MAX_BLOCK_SECONDS))


class VendorHttpClient:
    """Base of the vendor API clients: the ``httpx.Client`` (and whether we own it), closing,
    the context-manager protocol, and limits around every request.

    ``timeout`` is the client's default per request. ``limiter`` bounds requests in flight and
    ``rate`` their start rate (per process or shared, as the connector's ``limiters()`` gave
    them); a 429/503 with Retry-After blocks ``rate``. ``http`` is used as given and left open on
    :meth:`close`; without it an owned client is built from ``timeout`` and ``client_options``
    (``verify``, ``base_url``, ``headers``, ...). Subclasses define their own ``__repr__`` so
    that no secret ever shows.

    Clients of plain JSON APIs send through :meth:`_api_call` and say only how their vendor's
    failures classify (:meth:`_transport_error`, :meth:`_response_error`).
    """

    #: The vendor's name in log lines (``zendesk``); set by clients that use :meth:`_api_call`.
    vendor: ClassVar[str] = "vendor"

    def __init__(
        self,
        *,
        timeout: float,
        limiter: ConcurrencyLimiter | None = None,
        rate: RateLimiter | None = None,
        http: httpx.Client | None = None,
        **client_options: Any,
    ) -> None:
        self.timeout = timeout
        self._limiter = limiter
        self._rate = rate
        self._owns_http = http is None
        self._http = http if http is not None else httpx.Client(timeout=timeout, **client_options)

    @property
    def limiters(self) -> tuple[ConcurrencyLimiter | None, RateLimiter | None]:
        """The concurrency and rate limiters every request goes through (read by /metrics)."""
        return self._limiter, self._rate

    def close(self) -> None:
        """Close the HTTP client if we made it; one passed in belongs to the caller."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _slot(self) -> Iterator[None]:
        """Hold the limits for one request: the rate token first, so that a request waiting for
        its turn does not hold a concurrency slot other requests could use."""
        if self._rate is not None:
            self._rate.acquire()
        if self._limiter is None:
            yield
            return
        with self._limiter.slot():
            yield

    def _http_request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request through the HTTP client, inside :meth:`_slot`; ``kwargs`` go to
        :meth:`httpx.Client.request`. Transport errors propagate for the caller to classify."""
        with self._slot():
            response = self._http.request(method, url, **kwargs)
        honour_retry_after(self._rate, response)
        return response

    def _api_call(
        self,
        method: str,
        url: str,
        *,
        what: str,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        **request: Any,
    ) -> httpx.Response:
        """One API request, answered 2xx or raised as a classified error.

        ``what`` names the request in errors (``"search organization external_id a1"``);
        ``timeout`` may shorten the client's own, never lengthen it; ``request`` goes to
        :meth:`httpx.Client.request` (``auth``, ``headers``). Only the path is logged: query
        strings can carry identifiers and nothing secret belongs in a log line.
        """
        wait = self.timeout if timeout is None else min(timeout, self.timeout)
        path = urlsplit(url).path
        try:
            response = self._http_request(
                method,
                url,
                json=json,
                params=dict(params) if params else None,
                timeout=wait,
                **request,
            )
        except httpx.TransportError as exc:
            log.info("%s %s %s: %s", self.vendor, method, path, type(exc).__name__)
            raise self._transport_error(exc, what=what, write=method in WRITE_METHODS) from exc
        log.debug("%s %s %s -> %s", self.vendor, method, path, response.status_code)
        if response.status_code >= 400:
            raise self._response_error(response, what=what, sent=json)
        return response

    def _transport_error(
        self, exc: httpx.TransportError, *, what: str, write: bool
    ) -> SyncwrightError:
        """The error for a request that got no HTTP response (clients of :meth:`_api_call`)."""
        raise NotImplementedError(f"{type(self).__name__} must classify transport failures")

    def _response_error(self, response: httpx.Response, *, what: str, sent: Any) -> SyncwrightError:
        """The error for a status >= 400 answer; ``sent`` is the request body (clients of
        :meth:`_api_call`)."""
        raise NotImplementedError(f"{type(self).__name__} must classify error responses")

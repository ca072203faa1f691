"""GovernedHttpClient signs before it takes a concurrency slot, and signs again after a long
wait for one, so a slot covers only the time NetSuite counts and no timestamp goes stale."""

from __future__ import annotations

import threading
from collections.abc import Generator

import httpx

from syncwright.connectors._base import ConcurrencyLimiter, RateLimiter
from syncwright.connectors.netsuite.connector import GovernedHttpClient
from tests._support import wait_until


class CountingAuth(httpx.Auth):
    """Stamps each signature with a serial number, so the server sees which one it got."""

    def __init__(self) -> None:
        self.signed = 0
        self._lock = threading.Lock()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        with self._lock:
            self.signed += 1
            request.headers["Authorization"] = f"signature {self.signed}"
        yield request


def _client(
    limiter: ConcurrencyLimiter, release: threading.Event, seen: list[str], **kwargs: float
) -> GovernedHttpClient:
    """Requests to /hold stay in flight until ``release`` is set."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        if request.url.path == "/hold":
            release.wait(10)
        return httpx.Response(200, json={})

    return GovernedHttpClient(
        limiter, RateLimiter(None), transport=httpx.MockTransport(handler), **kwargs
    )


def test_requests_are_signed_before_they_wait_for_a_slot() -> None:
    limiter, release, seen, auth = ConcurrencyLimiter(1), threading.Event(), [], CountingAuth()
    client = _client(limiter, release, seen)
    first = threading.Thread(target=lambda: client.get("http://ns.test/hold", auth=auth))
    first.start()
    wait_until(lambda: seen == ["signature 1"])  # the first request holds the only slot
    second = threading.Thread(target=lambda: client.get("http://ns.test/b", auth=auth))
    second.start()
    wait_until(lambda: auth.signed == 2)  # signed while it waits for the slot
    assert seen == ["signature 1"] and limiter.in_flight == 1
    release.set()
    first.join()
    second.join()
    assert seen == ["signature 1", "signature 2"]


def test_a_request_that_waited_long_for_its_slot_is_signed_again() -> None:
    limiter, release, seen, auth = ConcurrencyLimiter(1), threading.Event(), [], CountingAuth()
    client = _client(limiter, release, seen, resign_after_seconds=0.1)
    first = threading.Thread(target=lambda: client.get("http://ns.test/hold", auth=auth))
    first.start()
    wait_until(lambda: seen == ["signature 1"])
    threading.Timer(0.3, release.set).start()
    client.get("http://ns.test/b", auth=auth)  # waits ~0.3 s for the slot
    first.join()
    assert seen == ["signature 1", "signature 3"]  # its first signature was never sent

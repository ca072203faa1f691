"""Webhook deliveries: the outbox, the background sender, Zendesk's signature and retries.

Signature (https://developer.zendesk.com/documentation/webhooks/verifying/):
``X-Zendesk-Webhook-Signature = base64(HMAC-SHA256(signing_secret, timestamp + body))`` with the
timestamp sent as ``X-Zendesk-Webhook-Signature-Timestamp``. Each attempt is signed afresh, with
the webhook's current secret, as Zendesk does after a secret reset.

Retries, as Zendesk documents them ("Webhook retries" in
https://developer.zendesk.com/documentation/webhooks/creating-and-monitoring-webhooks/): a 409 is
retried up to 3 times; a 429 or 503 only when it carries ``Retry-After`` under 60 seconds (then
after that many seconds, up to 3 times); a request that times out (12 s) -- here also one that
cannot connect -- up to 5 times. Every other answer ends the invocation. The delays between
409/timeout retries are not documented; they are the dispatcher's ``retry_delays``. Zendesk's
circuit breaker is not emulated.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import itertools
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from syncwright._time import utcnow

if TYPE_CHECKING:
    from syncwright.sandbox.zendesk._state import ZendeskState

SIGNATURE_HEADER = "X-Zendesk-Webhook-Signature"
TIMESTAMP_HEADER = "X-Zendesk-Webhook-Signature-Timestamp"
MAX_RETRY_AFTER_SECONDS = 60.0
CONFLICT_RETRIES = 3
TIMEOUT_RETRIES = 5


def sign(body: bytes, secret: str, timestamp: str) -> str:
    """Zendesk's webhook signature (the emulator's own copy; the connector verifies it)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@dataclass(order=True)
class Delivery:
    """One attempt-to-be of one invocation (an event sent to one webhook)."""

    due: float
    seq: int
    webhook_id: str = field(compare=False)
    invocation_id: str = field(compare=False)
    body: bytes = field(compare=False)
    attempt: int = field(compare=False, default=1)
    generation: int = field(compare=False, default=0)


class DeliveryQueue:
    """A due-time heap with an in-flight count, so callers can wait until everything is sent."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[Delivery] = []
        self._seq = itertools.count()
        self._in_flight = 0
        self._generation = 0
        self._closed = False

    def put(self, webhook_id: str, invocation_id: str, body: bytes, *, delay: float = 0.0) -> None:
        with self._cond:
            heapq.heappush(
                self._heap,
                Delivery(
                    time.monotonic() + delay,
                    next(self._seq),
                    webhook_id,
                    invocation_id,
                    body,
                    generation=self._generation,
                ),
            )
            self._cond.notify_all()

    def take(self, timeout: float) -> Delivery | None:
        """The next due delivery, or None after ``timeout`` (or once closed)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._closed:
                now = time.monotonic()
                if self._heap and self._heap[0].due <= now:
                    self._in_flight += 1
                    return heapq.heappop(self._heap)
                wait = deadline - now
                if self._heap:
                    wait = min(wait, self._heap[0].due - now)
                if wait <= 0:
                    return None
                self._cond.wait(wait)
            return None

    def finish(self, delivery: Delivery, retry_in: float | None) -> None:
        """Mark ``delivery`` done; schedule its next attempt when ``retry_in`` is given."""
        with self._cond:
            self._in_flight -= 1
            if retry_in is not None and delivery.generation == self._generation:
                delivery.due = time.monotonic() + retry_in
                delivery.seq = next(self._seq)
                delivery.attempt += 1
                heapq.heappush(self._heap, delivery)
            self._cond.notify_all()

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._heap) + self._in_flight

    def wait_idle(self, timeout: float) -> bool:
        """Block until no delivery is queued or in flight; False if ``timeout`` ran out first."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._heap or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def clear(self) -> None:
        """Drop queued deliveries; attempts in flight finish but are not retried."""
        with self._cond:
            self._heap.clear()
            self._generation += 1
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        with self._cond:
            return self._closed

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def reopen(self) -> None:
        with self._cond:
            self._closed = False


@dataclass
class DeliveryStats:
    attempts: int = 0
    succeeded: int = 0
    failed: int = 0
    retried: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "attempts": self.attempts,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "retried": self.retried,
        }


class WebhookDispatcher:
    """Sends queued deliveries from one background thread (daemon; started lazily)."""

    def __init__(
        self,
        state: ZendeskState,
        *,
        timeout_seconds: float = 12.0,
        retry_delays: Sequence[float] = (1.0, 2.0, 4.0, 8.0, 16.0),
    ) -> None:
        self._state = state
        self._timeout = timeout_seconds
        self._retry_delays = tuple(retry_delays) or (0.0,)
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.stats = DeliveryStats()

    def start(self) -> None:
        with self._start_lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._state.deliveries.reopen()
            self._thread = threading.Thread(target=self._run, name="zendesk-webhooks", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._state.deliveries.close()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        self._thread = None

    def _run(self) -> None:
        queue = self._state.deliveries
        with httpx.Client(timeout=self._timeout, follow_redirects=False) as client:
            while True:
                delivery = queue.take(timeout=0.5)
                if delivery is None:
                    if queue.closed:
                        return
                    continue
                retry_in: float | None = None
                try:
                    retry_in = self._attempt(client, delivery)
                finally:
                    queue.finish(delivery, retry_in)

    def _attempt(self, client: httpx.Client, delivery: Delivery) -> float | None:
        state = self._state
        with state.lock:
            webhook = state.webhooks.get(delivery.webhook_id)
            secret = state.webhook_secrets.get(delivery.webhook_id, "")
            invocation = _find_invocation(state, delivery)
            if webhook is None or invocation is None:
                return None
            webhook = dict(webhook)
        timestamp = utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
        # Custom headers and credentials first: they never override Zendesk's own headers.
        headers = {str(k): str(v) for k, v in (webhook.get("custom_headers") or {}).items()}
        headers.update(_auth_headers(webhook.get("authentication")))
        headers |= {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Zendesk Webhook",
            "X-Zendesk-Account-Id": str(state.account_id),
            "X-Zendesk-Webhook-Id": delivery.webhook_id,
            "X-Zendesk-Webhook-Invocation-Id": delivery.invocation_id,
            SIGNATURE_HEADER: sign(delivery.body, secret, timestamp),
            TIMESTAMP_HEADER: timestamp,
        }
        status: int | None = None
        retry_after: float | None = None
        started = time.monotonic()
        try:
            response = client.request(
                webhook["http_method"], webhook["endpoint"], content=delivery.body, headers=headers
            )
            status = response.status_code
            retry_after = _retry_after(response.headers.get("Retry-After"))
        except httpx.HTTPError:
            status = None
        self.stats.attempts += 1
        ok = status is not None and 200 <= status < 300
        retry_in = None if ok else self._retry_in(delivery.attempt, status, retry_after)
        with state.lock:
            invocation["attempts"].append(
                {
                    "id": f"{delivery.invocation_id}-{delivery.attempt}",
                    "invocation_id": delivery.invocation_id,
                    "completed_at": state.timestamp(),
                    "status": "success" if ok else "failed",
                    "status_code": status,
                    "duration_ms": round((time.monotonic() - started) * 1000),
                }
            )
            invocation["latest_completed_at"] = state.timestamp()
            invocation["latest_status"] = status
            invocation["status"] = "success" if ok else ("retrying" if retry_in else "failed")
        if ok:
            self.stats.succeeded += 1
        elif retry_in is None:
            self.stats.failed += 1
        else:
            self.stats.retried += 1
        return retry_in

    def _retry_in(
        self, attempt: int, status: int | None, retry_after: float | None
    ) -> float | None:
        """Seconds until the next attempt, or None when Zendesk would give up."""
        retries_done = attempt - 1
        if status is None:
            limit = TIMEOUT_RETRIES
        elif status == 409:
            limit = CONFLICT_RETRIES
        elif status in (429, 503):
            if retry_after is None or retry_after >= MAX_RETRY_AFTER_SECONDS:
                return None
            return retry_after if retries_done < CONFLICT_RETRIES else None
        else:
            return None
        if retries_done >= limit:
            return None
        return self._retry_delays[min(retries_done, len(self._retry_delays) - 1)]


def _find_invocation(state: ZendeskState, delivery: Delivery) -> dict[str, Any] | None:
    for invocation in reversed(state.invocations.get(delivery.webhook_id, [])):
        if invocation["id"] == delivery.invocation_id:
            return invocation
    return None


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _auth_headers(authentication: Any) -> dict[str, str]:
    """Webhook ``authentication`` (api_key, basic_auth, bearer_token), added as headers."""
    if not isinstance(authentication, dict):
        return {}
    data = authentication.get("data") or {}
    kind = authentication.get("type")
    if kind == "bearer_token" and data.get("token"):
        return {"Authorization": f"Bearer {data['token']}"}
    if kind == "basic_auth" and data.get("username") is not None:
        raw = f"{data['username']}:{data.get('password', '')}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}
    if kind == "api_key" and data.get("name"):
        return {str(data["name"]): str(data.get("value", ""))}
    return {}

"""Webhook delivery like Stripe's: signed POSTs from a background thread, retried with backoff.

Each event is POSTed as pretty-printed JSON to every enabled endpoint whose ``enabled_events``
match, with ``Stripe-Signature: t=<now>,v1=<hmac>`` computed per attempt. Anything but a 2xx (or a
connection error / timeout) is retried with exponential backoff; Stripe retries for up to three
days, the sandbox for ``max_attempts`` attempts starting at ``retry_base_seconds``. Stripe does
not guarantee order or exactly-once delivery, and the fault switches make that visible:

- ``duplicate_rate``: deliver an event twice (the second copy right after the first).
- ``shuffle_window``: collect up to N ready deliveries and send them in random order.
- ``drop_rate`` / ``drop_next``: silently never deliver (polling ``/v1/events`` must heal it).
- ``pause()`` / ``resume()``: hold every delivery (a receiver outage seen from Stripe's side).

Docs: https://docs.stripe.com/webhooks (retries, ordering, duplicates),
https://docs.stripe.com/webhooks#verify-manually (signature).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from syncwright.sandbox.stripe._signing import SIGNATURE_HEADER, stripe_signature_header

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


@dataclass
class WebhookFaults:
    """Switches for webhook delivery; rates are probabilities per delivery."""

    duplicate_rate: float = 0.0
    shuffle_window: int = 0
    drop_rate: float = 0.0
    drop_next: int = 0
    seed: int | None = None


@dataclass
class Delivery:
    endpoint_id: str
    url: str
    secret: str
    event_id: str
    event_type: str
    payload: bytes
    attempt: int = 0
    next_at: float = 0.0
    duplicate: bool = False


@dataclass
class DeliveryRecord:
    """One attempt (or a drop), for tests and ``GET /_sandbox/webhooks/deliveries``."""

    event_id: str
    event_type: str
    endpoint_id: str
    attempt: int
    outcome: str  # "delivered" | "failed" | "dropped" | "gave_up"
    status_code: int | None = None
    error: str | None = None
    duplicate: bool = False
    at: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "event_type": self.event_type,
            "endpoint_id": self.endpoint_id,
            "attempt": self.attempt,
            "outcome": self.outcome,
            "status_code": self.status_code,
            "error": self.error,
            "duplicate": self.duplicate,
            "at": self.at,
        }


class WebhookDispatcher:
    """Queue + one background thread delivering with httpx.

    ``on_delivered(event_id)`` is called after the first successful delivery of an event to an
    endpoint (the state decrements the event's ``pending_webhooks``).
    """

    def __init__(
        self,
        *,
        retry_base_seconds: float = 0.5,
        retry_max_seconds: float = 30.0,
        max_attempts: int = 8,
        timeout_seconds: float = 10.0,
        shuffle_linger_seconds: float = 0.05,
        on_delivered: Callable[[str], None] | None = None,
    ) -> None:
        self.retry_base_seconds = retry_base_seconds
        self.retry_max_seconds = retry_max_seconds
        self.max_attempts = max_attempts
        self.timeout_seconds = timeout_seconds
        self.shuffle_linger_seconds = shuffle_linger_seconds
        self.faults = WebhookFaults()
        self._rng = random.Random()
        self._on_delivered = on_delivered
        self._cond = threading.Condition()
        self._queue: list[Delivery] = []
        self._in_flight = 0
        self._paused = False
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.records: list[DeliveryRecord] = []

    # -- switches ----------------------------------------------------------------------------

    def configure(self, faults: WebhookFaults) -> None:
        with self._cond:
            self.faults = faults
            self._rng = random.Random(faults.seed)
            self._cond.notify_all()

    def pause(self) -> None:
        with self._cond:
            self._paused = True

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._cond.notify_all()

    @property
    def paused(self) -> bool:
        return self._paused

    # -- queue -------------------------------------------------------------------------------

    def enqueue(self, delivery: Delivery) -> None:
        with self._cond:
            delivery.next_at = time.monotonic()
            self._queue.append(delivery)
            self._ensure_thread()
            self._cond.notify_all()

    def pending(self) -> int:
        with self._cond:
            return len(self._queue) + self._in_flight

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is queued or in flight; False on timeout (or while paused)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
            return True

    def clear(self) -> None:
        with self._cond:
            self._queue.clear()
            self.records.clear()
            self._cond.notify_all()

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
        with self._cond:
            self._thread = None
            self._stopping = False

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="stripe-webhooks", daemon=True)
            self._thread.start()

    # -- worker ------------------------------------------------------------------------------

    def _take_batch(self) -> list[Delivery] | None:
        """Block until deliveries are due; None when stopping."""
        with self._cond:
            while True:
                if self._stopping:
                    return None
                now = time.monotonic()
                due = [d for d in self._queue if d.next_at <= now] if not self._paused else []
                window = self.faults.shuffle_window
                if due and window > 1 and len(due) < window:
                    # Linger briefly so a burst of events can be shuffled together.
                    oldest = min(d.next_at for d in due)
                    if now - oldest < self.shuffle_linger_seconds:
                        self._cond.wait(self.shuffle_linger_seconds)
                        continue
                if due:
                    batch = due[: max(window, 1)]
                    for d in batch:
                        self._queue.remove(d)
                    if window > 1:
                        self._rng.shuffle(batch)
                    self._in_flight += len(batch)
                    return batch
                waits = [d.next_at - now for d in self._queue] if not self._paused else []
                self._cond.wait(min([*waits, 0.5]) if waits else 0.5)

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout_seconds, follow_redirects=False) as client:
            while True:
                batch = self._take_batch()
                if batch is None:
                    return
                for delivery in batch:
                    try:
                        self._deliver_one(client, delivery)
                    finally:
                        with self._cond:
                            self._in_flight -= 1
                            self._cond.notify_all()

    def _record(self, record: DeliveryRecord) -> None:
        with self._cond:
            self.records.append(record)

    def _deliver_one(self, client: httpx.Client, delivery: Delivery) -> None:
        faults = self.faults
        if delivery.attempt == 0:
            with self._cond:
                drop = False
                if faults.drop_next > 0:
                    faults.drop_next -= 1
                    drop = True
                elif faults.drop_rate and self._rng.random() < faults.drop_rate:
                    drop = True
                duplicate = (
                    bool(faults.duplicate_rate) and self._rng.random() < faults.duplicate_rate
                )
            if drop:
                self._record(
                    DeliveryRecord(
                        delivery.event_id,
                        delivery.event_type,
                        delivery.endpoint_id,
                        0,
                        "dropped",
                    )
                )
                return
        else:
            duplicate = False
        ok = self._post(client, delivery)
        if ok and duplicate:
            copy = Delivery(
                delivery.endpoint_id,
                delivery.url,
                delivery.secret,
                delivery.event_id,
                delivery.event_type,
                delivery.payload,
                attempt=0,
                duplicate=True,
            )
            self._post(client, copy)
        if ok:
            return
        delivery.attempt += 1
        if delivery.attempt >= self.max_attempts:
            self._record(
                DeliveryRecord(
                    delivery.event_id,
                    delivery.event_type,
                    delivery.endpoint_id,
                    delivery.attempt,
                    "gave_up",
                )
            )
            return
        backoff = min(
            self.retry_base_seconds * (2 ** (delivery.attempt - 1)), self.retry_max_seconds
        )
        with self._cond:
            delivery.next_at = time.monotonic() + backoff
            self._queue.append(delivery)

    def _post(self, client: httpx.Client, delivery: Delivery) -> bool:
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "Cache-Control": "no-cache",
            "Accept": "*/*; q=0.5, application/xml",
            SIGNATURE_HEADER: stripe_signature_header(delivery.payload, delivery.secret, timestamp),
        }
        status: int | None = None
        error: str | None = None
        try:
            response = client.post(delivery.url, content=delivery.payload, headers=headers)
            status = response.status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        ok = status is not None and 200 <= status < 300
        self._record(
            DeliveryRecord(
                delivery.event_id,
                delivery.event_type,
                delivery.endpoint_id,
                delivery.attempt + 1,
                "delivered" if ok else "failed",
                status_code=status,
                error=error,
                duplicate=delivery.duplicate,
            )
        )
        if ok and not delivery.duplicate and self._on_delivered is not None:
            self._on_delivered(delivery.event_id)
        return ok

"""Webhook deliveries as HubSpot makes them: subscriptions per event type (and property),
events batched into one JSON array per request (up to 100), signed, retried.

Signatures (https://developers.hubspot.com/docs/api/webhooks/validating-requests), the
emulator's own copy (it never imports connector code):

- ``X-HubSpot-Signature-v3``: base64(HMAC-SHA256(client secret, method + URI + body +
  timestamp)), with ``X-HubSpot-Request-Timestamp`` in epoch milliseconds; receivers reject a
  timestamp older than 5 minutes.
- ``X-HubSpot-Signature`` with ``X-HubSpot-Signature-Version: v1``: hex SHA-256 of
  client secret + body (what CRM object webhooks still carry for backwards compatibility).

Each event carries ``eventId``, ``subscriptionId``, ``portalId``, ``appId``, ``occurredAt``,
``subscriptionType``, ``attemptNumber`` (0 first), ``objectId``, ``changeSource``, and for a
property change ``propertyName`` / ``propertyValue`` (../shared/vendor/hubspot/
webhook-payload.fields.txt). A batch that fails (no 2xx, no connection) is sent again with
``attemptNumber`` + 1 after the next of ``retry_delays`` (HubSpot retries up to 10 times).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from syncwright.sandbox.hubspot._state import ChangeEvent, HubSpotState, now_ms

SIGNATURE_V3 = "X-HubSpot-Signature-v3"
TIMESTAMP = "X-HubSpot-Request-Timestamp"
SIGNATURE_V1 = "X-HubSpot-Signature"
VERSION = "X-HubSpot-Signature-Version"
MAX_BATCH = 100
MAX_ATTEMPTS = 10


def sign_v3(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    message = method.encode() + uri.encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def sign_v1(secret: str, body: bytes) -> str:
    return hashlib.sha256(secret.encode() + body).hexdigest()


def sign_v2(secret: str, method: str, uri: str, body: bytes) -> str:
    return hashlib.sha256(secret.encode() + method.encode() + uri.encode() + body).hexdigest()


def signed_headers(secret: str, uri: str, body: bytes, timestamp_ms: int) -> dict[str, str]:
    stamp = str(timestamp_ms)
    return {
        "Content-Type": "application/json",
        SIGNATURE_V1: sign_v1(secret, body),
        VERSION: "v1",
        SIGNATURE_V3: sign_v3(secret, "POST", uri, body, stamp),
        TIMESTAMP: stamp,
    }


@dataclass
class Subscription:
    id: int
    event_type: str  # company.creation, deal.propertyChange, ...
    property_name: str | None = None
    active: bool = True

    def matches(self, event: ChangeEvent) -> bool:
        if not self.active or event.subscription_type != self.event_type:
            return False
        return self.property_name is None or self.property_name == event.property_name

    def as_json(self) -> dict[str, Any]:
        stamp = "2026-01-01T00:00:00Z"
        found: dict[str, Any] = {
            "id": str(self.id),
            "eventType": self.event_type,
            "active": self.active,
            "createdAt": stamp,
            "updatedAt": stamp,
        }
        if self.property_name:
            found["propertyName"] = self.property_name
        return found


@dataclass
class WebhookStats:
    sent: int = 0
    delivered: int = 0
    failed_attempts: int = 0
    events: int = 0
    last_status: int | None = None


@dataclass
class _Batch:
    events: list[dict[str, Any]]
    attempt: int = 0
    due: float = 0.0


@dataclass
class WebhookDispatcher:
    """Collects matching events and sends them in batches from a background thread."""

    state: HubSpotState
    app_id: int
    client_secret: str
    target_url: str | None = None
    batch_window_seconds: float = 0.05
    timeout_seconds: float = 5.0
    retry_delays: Sequence[float] = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 120.0, 300.0)
    subscriptions: list[Subscription] = field(default_factory=list)
    stats: WebhookStats = field(default_factory=WebhookStats)
    paused: bool = False

    def __post_init__(self) -> None:
        self._cond = threading.Condition()
        self._pending: list[dict[str, Any]] = []
        self._retries: list[_Batch] = []
        self._busy = 0
        self._event_ids = itertools.count(1)
        self._sub_ids = itertools.count(1)
        self._stop = False
        self._thread: threading.Thread | None = None
        self.state.listeners.append(self.on_change)

    # -- configuration ------------------------------------------------------------------------

    def subscribe(self, event_type: str, property_name: str | None = None) -> Subscription:
        with self._cond:
            sub = Subscription(next(self._sub_ids), event_type, property_name)
            self.subscriptions.append(sub)
            return sub

    def unsubscribe(self, subscription_id: int) -> bool:
        with self._cond:
            before = len(self.subscriptions)
            self.subscriptions = [s for s in self.subscriptions if s.id != subscription_id]
            return len(self.subscriptions) != before

    def reset(self) -> None:
        with self._cond:
            self._pending.clear()
            self._retries.clear()
            self.stats = WebhookStats()
            self.paused = False

    # -- events -------------------------------------------------------------------------------

    def on_change(self, event: ChangeEvent) -> None:
        with self._cond:
            for sub in self.subscriptions:
                if sub.matches(event):
                    self._pending.append(self._event_json(event, sub))
                    self.stats.events += 1
            self._cond.notify_all()

    def _event_json(self, event: ChangeEvent, sub: Subscription) -> dict[str, Any]:
        body: dict[str, Any] = {
            "eventId": next(self._event_ids),
            "subscriptionId": sub.id,
            "portalId": self.state.portal_id,
            "appId": self.app_id,
            "occurredAt": event.occurred_at,
            "subscriptionType": event.subscription_type,
            "attemptNumber": 0,
            "objectId": event.object_id,
            "changeSource": event.change_source,
        }
        if event.subscription_type.endswith(".creation"):
            body["changeFlag"] = "CREATED"
        if event.property_name is not None:
            body["propertyName"] = event.property_name
            body["propertyValue"] = event.property_value or ""
        if event.source_id:
            body["sourceId"] = event.source_id
        return body

    def pending(self) -> list[dict[str, Any]]:
        """Events not yet delivered (queued or waiting for a retry)."""
        with self._cond:
            return [*self._pending, *(e for b in self._retries for e in b.events)]

    def wait_idle(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending or self._retries or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
            return True

    # -- sending ------------------------------------------------------------------------------

    def start(self) -> None:
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="hubspot-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(5)

    def _next(self) -> _Batch | None:
        now = time.monotonic()
        for batch in self._retries:
            if batch.due <= now:
                self._retries.remove(batch)
                return batch
        if self._pending:
            events, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            return _Batch(events)
        return None

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout_seconds, trust_env=False) as http:
            while True:
                with self._cond:
                    self._cond.wait(self.batch_window_seconds)
                    if self._stop:
                        return
                    batch = None if self.paused or not self.target_url else self._next()
                    if batch is None:
                        continue
                    self._busy += 1
                try:
                    self._send(http, batch)
                finally:
                    with self._cond:
                        self._busy -= 1
                        self._cond.notify_all()

    def _send(self, http: httpx.Client, batch: _Batch) -> None:
        target = self.target_url or ""
        events = [{**e, "attemptNumber": batch.attempt} for e in batch.events]
        body = json.dumps(events, separators=(",", ":")).encode()
        headers = signed_headers(self.client_secret, target, body, now_ms())
        self.stats.sent += 1
        try:
            status = http.post(target, content=body, headers=headers).status_code
        except httpx.HTTPError:
            status = None
        self.stats.last_status = status
        if status is not None and 200 <= status < 300:
            self.stats.delivered += 1
            return
        self.stats.failed_attempts += 1
        if batch.attempt + 1 < MAX_ATTEMPTS and self.retry_delays:
            delay = self.retry_delays[min(batch.attempt, len(self.retry_delays) - 1)]
            with self._cond:
                self._retries.append(
                    _Batch(batch.events, batch.attempt + 1, time.monotonic() + delay)
                )

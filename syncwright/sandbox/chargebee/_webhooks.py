"""Webhook delivery as Chargebee does it: each event POSTed as JSON to the configured URL,
authenticated with the HTTP basic credentials set on the webhook endpoint (Chargebee signs
nothing), retried while the receiver does not answer 2xx.

Chargebee retries with increasing delays for about two days and may deliver out of order or
twice (order by ``resource_version``, dedupe by event id); the sandbox retries
``max_attempts`` times and can drop deliveries (``drop_next``) so that polling the events API
must heal the gap. Each delivery happens on a background thread, one event after another.
https://www.chargebee.com/docs/2.0/webhook_settings.html,
https://apidocs.chargebee.com/docs/api/events#webhook_notifications
"""

from __future__ import annotations

import json
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

USER_AGENT = "ChargeBee"
# Put on the queue by close(): the delivery thread ends when it gets there.
_STOP: dict[str, Any] = {}


@dataclass
class WebhookEndpoint:
    """Where events go, with the basic auth configured on it; ``enabled_events`` empty means
    every event. https://apidocs.chargebee.com/docs/api/webhook_endpoints"""

    url: str
    username: str | None = None
    password: str | None = None
    enabled_events: tuple[str, ...] = ()
    id: str = ""
    name: str = ""

    def wants(self, event_type: str) -> bool:
        return not self.enabled_events or event_type in self.enabled_events

    def auth(self) -> httpx.BasicAuth | None:
        if self.username is None:
            return None
        return httpx.BasicAuth(self.username, self.password or "")


@dataclass
class DeliveryRecord:
    event_id: str
    event_type: str
    attempt: int
    outcome: str  # delivered | failed | dropped | gave_up
    status_code: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class WebhookSender:
    max_attempts: int = 5
    retry_base_seconds: float = 0.2
    endpoints: list[WebhookEndpoint] = field(default_factory=list)
    drop_next: int = 0
    paused: bool = False
    records: list[DeliveryRecord] = field(default_factory=list)
    _queue: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _resume: threading.Event = field(default_factory=threading.Event)

    @property
    def configured(self) -> bool:
        return bool(self.endpoints)

    def configure(self, endpoint: WebhookEndpoint | None) -> None:
        """The one endpoint events go to (None: nowhere), replacing any others."""
        with self._lock:
            self.endpoints = []
        if endpoint is not None:
            self.add(endpoint)

    def add(self, endpoint: WebhookEndpoint) -> None:
        """One more endpoint; Chargebee calls several one after another for each event."""
        with self._lock:
            self.endpoints.append(endpoint)
            if self._thread is None:
                self._resume.set()
                self._thread = threading.Thread(
                    target=self._run, name="chargebee-webhooks", daemon=True
                )
                self._thread.start()

    def enqueue(self, event: dict[str, Any]) -> None:
        with self._lock:
            targets = [e for e in self.endpoints if e.wants(event["event_type"])]
            if not targets:
                return
            if self.drop_next > 0:
                self.drop_next -= 1
                self.records.append(DeliveryRecord(event["id"], event["event_type"], 0, "dropped"))
                return
        # Serialized now: what is sent is the event as it was raised.
        body = json.dumps(event).encode()
        for endpoint in targets:
            self._queue.put(
                {"id": event["id"], "type": event["event_type"], "body": body, "to": endpoint}
            )

    def pause(self) -> None:
        self.paused = True
        self._resume.clear()

    def resume(self) -> None:
        self.paused = False
        self._resume.set()

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until every queued delivery was attempted to the end; False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.unfinished_tasks == 0:
                return True
            time.sleep(0.01)
        return self._queue.unfinished_tasks == 0

    def pending(self) -> int:
        return self._queue.unfinished_tasks

    def close(self, timeout: float = 5.0) -> None:
        """Stop the delivery thread (what is still queued is not sent)."""
        with self._lock:
            thread, self._thread, self.endpoints = self._thread, None, []
        if thread is not None:
            self._queue.put(_STOP)
            self._resume.set()
            thread.join(timeout)

    def _run(self) -> None:
        with httpx.Client(timeout=10.0, trust_env=False) as client:
            while True:
                job = self._queue.get()
                try:
                    if job is _STOP:
                        return
                    self._resume.wait()
                    self._deliver(client, job)
                finally:
                    self._queue.task_done()

    def _deliver(self, client: httpx.Client, job: dict[str, Any]) -> None:
        for attempt in range(1, self.max_attempts + 1):
            if attempt > 1:
                time.sleep(self.retry_base_seconds * 2 ** (attempt - 2))
            endpoint: WebhookEndpoint = job["to"]
            status: int | None = None
            try:
                response = client.post(
                    endpoint.url,
                    content=job["body"],
                    headers={"Content-Type": "application/json", "User-Agent": USER_AGENT},
                    auth=endpoint.auth() or httpx.USE_CLIENT_DEFAULT,
                )
                status = response.status_code
            except httpx.HTTPError:
                status = None
            ok = status is not None and 200 <= status < 300
            with self._lock:
                self.records.append(
                    DeliveryRecord(
                        job["id"], job["type"], attempt, "delivered" if ok else "failed", status
                    )
                )
            if ok:
                return
        with self._lock:
            self.records.append(
                DeliveryRecord(job["id"], job["type"], self.max_attempts, "gave_up")
            )

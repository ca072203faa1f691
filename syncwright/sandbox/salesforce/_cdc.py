"""Change Data Capture: change events in Salesforce's shape, a replayable log, and an HTTP pusher.

Event shape (``schema`` / ``payload`` with ``ChangeEventHeader`` / ``event.replayId``):
https://developer.salesforce.com/docs/atlas.en-us.change_data_capture.meta/change_data_capture/cdc_message_structure.htm
Header fields:
https://developer.salesforce.com/docs/atlas.en-us.change_data_capture.meta/change_data_capture/cdc_event_fields_header.htm
Compound fields (``BillingAddress.City`` in ``changedFields``, nested values in the payload):
https://developer.salesforce.com/docs/atlas.en-us.change_data_capture.meta/change_data_capture/cdc_subscribe_compound_fields.htm

Salesforce delivers change events over CometD or the Pub/Sub API; this emulator serves the
Pub/Sub API from this log (``_pubsub.py``, Avro in ``_avro.py``) and, for tests and demos that
drive it over HTTP alone, a replay endpoint and an HTTP push to registered subscribers. Replay
semantics follow Salesforce: ``-2`` = all retained events, ``-1`` = only new ones, ``N`` = events
after replay id N.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

logger = logging.getLogger(__name__)

REPLAY_ALL = -2
REPLAY_NEW = -1


def schema_id(entity: str, field_names: Iterable[str]) -> str:
    """A stable 22-character schema id per entity and field set (Salesforce uses Avro schema ids
    of this length; ours changes when a custom field is declared, as Salesforce's does)."""
    digest = hashlib.sha256((entity + ":" + ",".join(sorted(field_names))).encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()[:22]


@dataclass(frozen=True)
class ChangeEvent:
    replay_id: int
    entity: str
    change_type: str
    record_ids: tuple[str, ...]
    change_origin: str
    transaction_key: str
    sequence_number: int
    commit_timestamp: int
    commit_number: int
    commit_user: str
    changed_fields: tuple[str, ...]
    nulled_fields: tuple[str, ...]
    diff_fields: tuple[str, ...]
    fields: dict[str, Any]
    schema: str

    @property
    def channel(self) -> str:
        base = self.entity[:-3] + "__" if self.entity.endswith("__c") else self.entity
        return f"/data/{base}ChangeEvent"

    def to_json(self) -> dict[str, Any]:
        header = {
            "entityName": self.entity,
            "recordIds": list(self.record_ids),
            "changeType": self.change_type,
            "changeOrigin": self.change_origin,
            "transactionKey": self.transaction_key,
            "sequenceNumber": self.sequence_number,
            "commitTimestamp": self.commit_timestamp,
            "commitNumber": self.commit_number,
            "commitUser": self.commit_user,
            "changedFields": list(self.changed_fields),
            "nulledFields": list(self.nulled_fields),
            "diffFields": list(self.diff_fields),
        }
        return {
            "schema": self.schema,
            "payload": {"ChangeEventHeader": header, **self.fields},
            "event": {"replayId": self.replay_id},
        }


class ChangeEventLog:
    """Retained change events, in replay-id order. Thread-safe; waiters wake on publish."""

    def __init__(self, retention: int = 100_000) -> None:
        self._events: list[ChangeEvent] = []
        self._retention = retention
        self._cond = threading.Condition()
        self._next_replay = itertools.count(1)
        self.latest_replay_id = 0

    def publish(self, build: Iterable[Callable[[int], ChangeEvent]]) -> list[ChangeEvent]:
        """Append the events ``build`` makes, each given the next replay id."""
        out: list[ChangeEvent] = []
        with self._cond:
            for make in build:
                event = make(next(self._next_replay))
                out.append(event)
                self._events.append(event)
                self.latest_replay_id = event.replay_id
            if len(self._events) > self._retention:
                del self._events[: len(self._events) - self._retention]
            self._cond.notify_all()
        return out

    def since(
        self, replay_id: int, *, limit: int | None = None, entity: str | None = None
    ) -> list[ChangeEvent]:
        with self._cond:
            return self._since_locked(replay_id, limit, entity)

    def _since_locked(
        self, replay_id: int, limit: int | None, entity: str | None
    ) -> list[ChangeEvent]:
        after = 0 if replay_id == REPLAY_ALL else replay_id
        if replay_id == REPLAY_NEW:
            after = self.latest_replay_id
        # Replay ids are dense and ascending, so find the start by offset from the oldest.
        events = self._events
        start = 0
        if events:
            start = max(0, min(len(events), after - events[0].replay_id + 1))
        picked = [e for e in events[start:] if entity is None or e.entity.lower() == entity.lower()]
        return picked[:limit] if limit is not None else picked

    def wait_since(self, replay_id: int, timeout: float, limit: int = 100) -> list[ChangeEvent]:
        with self._cond:
            found = self._since_locked(replay_id, limit, None)
            if not found:
                self._cond.wait(timeout)
                found = self._since_locked(replay_id, limit, None)
            return found

    def oldest_replay_id(self) -> int | None:
        """The oldest retained event's replay id (None when nothing is retained)."""
        with self._cond:
            return self._events[0].replay_id if self._events else None

    def clear(self) -> None:
        with self._cond:
            self._events.clear()

    def __len__(self) -> int:
        return len(self._events)


@dataclass
class Subscriber:
    """One HTTP endpoint that receives every change event as a JSON POST, in order."""

    id: str
    url: str
    cursor: int
    entities: frozenset[str] | None = None
    delivered: int = 0
    attempts: int = 0
    failures: int = 0
    last_error: str | None = None
    dead_letters: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "replayId": self.cursor,
            "entities": sorted(self.entities) if self.entities else None,
            "delivered": self.delivered,
            "attempts": self.attempts,
            "failures": self.failures,
            "lastError": self.last_error,
            "deadLetters": list(self.dead_letters),
        }


class CdcPusher:
    """Pushes the log to subscribers, one thread each, with retries and exponential backoff.

    Delivery is at least once and in replay order per subscriber: an event is retried up to
    ``max_attempts`` times; after that its replay id goes to the subscriber's ``dead_letters``
    and delivery moves on, so one poisoned event cannot stall the stream forever.
    """

    def __init__(
        self,
        log: ChangeEventLog,
        *,
        retry_initial: float = 0.05,
        retry_max: float = 2.0,
        max_attempts: int = 8,
        timeout: float = 5.0,
    ) -> None:
        self.log = log
        self.retry_initial = retry_initial
        self.retry_max = retry_max
        self.max_attempts = max_attempts
        self.timeout = timeout
        self._subs: dict[str, Subscriber] = {}
        self._threads: dict[str, tuple[threading.Thread, threading.Event]] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def add(
        self, url: str, *, replay_id: int = REPLAY_NEW, entities: Iterable[str] | None = None
    ) -> Subscriber:
        with self._lock:
            cursor = self.log.latest_replay_id if replay_id == REPLAY_NEW else replay_id
            sub = Subscriber(
                id=f"sub-{next(self._ids)}",
                url=url,
                cursor=0 if cursor == REPLAY_ALL else cursor,
                entities=frozenset(e.lower() for e in entities) if entities else None,
            )
            self._subs[sub.id] = sub
            stop = threading.Event()
            thread = threading.Thread(
                target=self._run, args=(sub, stop), name=f"sf-cdc-{sub.id}", daemon=True
            )
            self._threads[sub.id] = (thread, stop)
            thread.start()
            return sub

    def remove(self, sub_id: str) -> bool:
        with self._lock:
            self._subs.pop(sub_id, None)
            entry = self._threads.pop(sub_id, None)
        if entry is None:
            return False
        entry[1].set()
        entry[0].join(timeout=self.timeout + 1)
        return True

    def subscribers(self) -> list[Subscriber]:
        with self._lock:
            return list(self._subs.values())

    def stop(self) -> None:
        for sub_id in [s.id for s in self.subscribers()]:
            self.remove(sub_id)

    def _run(self, sub: Subscriber, stop: threading.Event) -> None:
        with httpx.Client(timeout=self.timeout) as client:
            while not stop.is_set():
                for event in self.log.wait_since(sub.cursor, timeout=0.25):
                    if stop.is_set():
                        return
                    if sub.entities is None or event.entity.lower() in sub.entities:
                        self._deliver(client, sub, event, stop)
                    sub.cursor = event.replay_id

    def _deliver(
        self, client: httpx.Client, sub: Subscriber, event: ChangeEvent, stop: threading.Event
    ) -> None:
        delay = self.retry_initial
        headers = {"X-Sandbox-Subscriber-Id": sub.id, "X-Sandbox-Channel": event.channel}
        for attempt in range(1, self.max_attempts + 1):
            sub.attempts += 1
            try:
                response = client.post(sub.url, json=event.to_json(), headers=headers)
                if 200 <= response.status_code < 300:
                    sub.delivered += 1
                    sub.last_error = None
                    return
                sub.last_error = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                sub.last_error = f"{type(exc).__name__}: {exc}"
            sub.failures += 1
            if attempt == self.max_attempts or stop.wait(delay):
                break
            delay = min(delay * 2, self.retry_max)
        if not stop.is_set():
            logger.warning("CDC event %s dead-lettered for %s", event.replay_id, sub.url)
            sub.dead_letters.append(event.replay_id)

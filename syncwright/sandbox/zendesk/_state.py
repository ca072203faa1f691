"""The emulator's in-memory account: records, id counters, the clock and the webhook outbox.

Everything mutable sits behind one re-entrant lock. Routes take the lock for the whole of one
request's read-modify-write, so the events a write emits leave in the order the writes happened.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any
from uuid import uuid4

from syncwright._time import utcnow
from syncwright.sandbox.zendesk._webhooks import DeliveryQueue

Record = dict[str, Any]

# Distinct ranges per kind make a mixed-up id (a user id used as an organization id) fail loudly.
# Ticket ids, as in Zendesk, are small per-account sequence numbers.
_ID_STARTS = {
    "ticket": 1,
    "user": 10_001,
    "organization": 20_001,
    "organization_field": 30_001,
    "field_option": 35_001,
    "audit": 40_001,
    "audit_event": 50_001,
    "comment": 60_001,
}

DEFAULT_ACCOUNT_ID = 10_973_248
EVENT_VERSION = "2022-06-20"  # zendesk_event_version of the documented user/organization events


def iso(value: datetime) -> str:
    """Zendesk's timestamp format: UTC, second precision, ``Z`` suffix."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def first_match(records: Iterable[Record], key: str, wanted: str) -> Record | None:
    """The first record whose ``key`` equals ``wanted``, ignoring case (lookups by email etc.)."""
    wanted = wanted.lower()
    return next((r for r in records if (r.get(key) or "").lower() == wanted), None)


@dataclass
class ZendeskEvent:
    """One Zendesk event (``zen:event-type:...``) as its webhook envelope carries it."""

    type: str
    subject: str
    detail: dict[str, Any]
    event: dict[str, Any] = field(default_factory=dict)


class ZendeskState:
    """The whole account. Safe to share between the server thread and a test's thread."""

    def __init__(
        self,
        *,
        account_id: int = DEFAULT_ACCOUNT_ID,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.account_id = account_id
        self._clock = clock or utcnow
        self.deliveries = DeliveryQueue()
        self._agent_email: str | None = None
        self._clear()

    def _clear(self) -> None:
        self.organizations: dict[int, Record] = {}
        self.organization_fields: dict[int, Record] = {}
        self.users: dict[int, Record] = {}
        self.tickets: dict[int, Record] = {}
        self.audits: dict[int, list[Record]] = {}
        self.webhooks: dict[str, Record] = {}
        self.webhook_secrets: dict[str, str] = {}
        self.invocations: dict[str, list[Record]] = {}
        self._counters = {kind: itertools.count(start) for kind, start in _ID_STARTS.items()}
        self.agent_id = 0

    # -- basics ---------------------------------------------------------------------------

    def next_id(self, kind: str) -> int:
        return next(self._counters[kind])

    def now(self) -> datetime:
        return self._clock()

    def timestamp(self) -> str:
        return iso(self.now())

    def reset(self) -> None:
        """Forget every record, webhook and pending delivery; keep the signed-in agent."""
        with self.lock:
            self._clear()
            self.deliveries.clear()
            if self._agent_email is not None:
                self.seed_agent(self._agent_email)

    def seed_agent(self, email: str, name: str = "Syncwright Admin") -> int:
        """The account owner: the user the API token belongs to (``/api/v2/users/me``)."""
        with self.lock:
            self._agent_email = email
            existing = first_match(self.users.values(), "email", email)
            if existing is not None:
                self.agent_id = int(existing["id"])
                return self.agent_id
            now = self.timestamp()
            user_id = self.next_id("user")
            self.users[user_id] = {
                "id": user_id,
                "name": name,
                "email": email,
                "role": "admin",
                "external_id": None,
                "organization_id": None,
                "created_at": now,
                "updated_at": now,
                "active": True,
                "verified": True,
                "suspended": False,
                "tags": [],
                "user_fields": {},
            }
            self.agent_id = user_id
            return user_id

    # -- lookups used across resources ----------------------------------------------------

    def organization_by_external_id(self, external_id: str) -> Record | None:
        return first_match(self.organizations.values(), "external_id", external_id)

    def user_by_email(self, email: str) -> Record | None:
        return first_match(self.active_users(), "email", email)

    def user_by_external_id(self, external_id: str) -> Record | None:
        return first_match(self.active_users(), "external_id", external_id)

    def active_users(self) -> Iterator[Record]:
        return (user for user in self.users.values() if user.get("active"))

    # -- webhooks outbox -------------------------------------------------------------------

    def emit(self, events: Sequence[ZendeskEvent], trigger_body: Record | None = None) -> None:
        """Queue deliveries of ``events`` to every active webhook subscribed to them.

        ``trigger_body`` is what a webhook connected to a ticket trigger
        (``conditional_ticket_events``) receives for the same action.
        """
        with self.lock:
            for webhook in self.webhooks.values():
                if webhook["status"] != "active":
                    continue
                subscriptions: list[str] = webhook["subscriptions"]
                if "conditional_ticket_events" in subscriptions:
                    if trigger_body is not None:
                        self._enqueue(webhook, None, json.dumps(trigger_body).encode())
                    continue
                for event in events:
                    if any(fnmatchcase(event.type, pattern) for pattern in subscriptions):
                        envelope = self.envelope(event)
                        self._enqueue(webhook, envelope["id"], json.dumps(envelope).encode())

    def envelope(self, event: ZendeskEvent) -> Record:
        """The event-webhook payload: the shape of ../shared/vendor/zendesk/webhooks/*.json."""
        return {
            "type": event.type,
            "account_id": self.account_id,
            "id": str(uuid4()),
            "time": self.timestamp(),
            "zendesk_event_version": EVENT_VERSION,
            "subject": event.subject,
            "detail": event.detail,
            "event": event.event,
        }

    def _enqueue(self, webhook: Record, event_id: str | None, body: bytes) -> None:
        invocation: Record = {
            "id": str(uuid4()),
            "webhook_id": webhook["id"],
            "event_id": event_id,
            "created_at": self.timestamp(),
            "status": "pending",
            "latest_completed_at": None,
            "latest_status": None,
            "attempts": [],
        }
        self.invocations.setdefault(webhook["id"], []).append(invocation)
        self.deliveries.put(webhook["id"], invocation["id"], body)

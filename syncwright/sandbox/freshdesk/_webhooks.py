"""Webhooks as Freshdesk sends them: the "Trigger webhook" action of an automation rule.

Freshdesk has no webhook subscription API and signs nothing. An admin writes an automation rule
("Ticket creation" or "Ticket updates") whose action is *Trigger webhook*: a URL, a method, an
optional "Requires authentication" (HTTP basic username/password, or an API key), custom
headers, and a JSON body written by the rule author with ``{{ticket.id}}``-style placeholders
(https://support.freshdesk.com/support/solutions/articles/132589-using-webhooks-in-automation-rules).
Failed deliveries are retried. This module is that action: rules are added through the sandbox
admin API, each ticket create/update renders the body of every matching rule and a background
thread POSTs it.

Placeholder values are inserted as text, JSON-escaped (so a subject with quotes keeps the body
valid); ``status``/``priority``/``source`` render as their names, as Freshdesk's placeholders
do; an unknown placeholder renders empty.
"""

from __future__ import annotations

import base64
import itertools
import json
import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from syncwright.sandbox.freshdesk._state import (
    TICKET_PRIORITIES,
    TICKET_SOURCES,
    TICKET_STATUSES,
    FreshdeskState,
    TicketChange,
)

log = logging.getLogger(__name__)

EVENTS = ("ticket_created", "ticket_updated")
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_.]+)\s*\}\}")


@dataclass
class AutomationRule:
    id: int
    name: str
    events: tuple[str, ...]
    url: str
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)
    username: str | None = None
    password: str | None = None
    content: str = '{"freshdesk_webhook": {"ticket_id": {{ticket.id}}}}'
    active: bool = True

    def public(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "password"}
        data["password"] = "***" if self.password else None
        return data


@dataclass
class Delivery:
    rule_id: int
    event: str
    ticket_id: int
    body: str
    attempts: list[int | str] = field(default_factory=list)  # status, or the transport error
    delivered: bool = False


def _triggered_event(change: TicketChange) -> str:
    if change.event == "ticket_created":
        return "{ticket_action:created}"
    parts = []
    for key, (before, after) in change.changes.items():
        names = {"status": TICKET_STATUSES, "priority": TICKET_PRIORITIES}.get(key, {})
        parts.append(f"{key}:{{from:{names.get(before, before)},to:{names.get(after, after)}}}")
    return "{" + ",".join(parts) + "}"


def render(content: str, change: TicketChange, state: FreshdeskState, domain: str) -> str:
    """The rule's body for ``change``: each placeholder replaced by its value."""
    ticket = change.ticket
    requester = state.contacts.get(ticket.get("requester_id") or -1) or {}
    company = state.companies.get(ticket.get("company_id") or -1) or {}
    values: dict[str, Any] = {
        "ticket.id": ticket["id"],
        "ticket.subject": ticket.get("subject"),
        "ticket.description": ticket.get("description_text"),
        "ticket.status": TICKET_STATUSES.get(ticket.get("status", 0)),
        "ticket.priority": TICKET_PRIORITIES.get(ticket.get("priority", 0)),
        "ticket.source": TICKET_SOURCES.get(ticket.get("source", 0)),
        "ticket.ticket_type": ticket.get("type"),
        "ticket.tags": ",".join(ticket.get("tags") or []),
        "ticket.url": f"https://{domain}/helpdesk/tickets/{ticket['id']}",
        "ticket.requester.name": requester.get("name"),
        "ticket.requester.email": requester.get("email"),
        "ticket.company.name": company.get("name"),
        "triggered_event": _triggered_event(change),
    }

    def value(match: re.Match[str]) -> str:
        found = values.get(match.group(1))
        return "" if found is None else json.dumps(str(found))[1:-1]

    return _PLACEHOLDER.sub(value, content)


class WebhookDispatcher:
    """Runs automation rules on ticket changes and delivers their webhooks (one thread)."""

    def __init__(
        self,
        state: FreshdeskState,
        *,
        domain: str,
        timeout_seconds: float = 10.0,
        retry_delays: Sequence[float] = (1.0, 2.0, 4.0),
    ) -> None:
        self.state = state
        self.domain = domain
        self.timeout_seconds = timeout_seconds
        self.retry_delays = tuple(retry_delays)
        self.rules: dict[int, AutomationRule] = {}
        self.deliveries: list[Delivery] = []
        self._ids = itertools.count(1)
        self._queue: queue.Queue[tuple[AutomationRule, Delivery] | None] = queue.Queue()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._thread: threading.Thread | None = None
        self.sender: Callable[[AutomationRule, str], int] = self._post
        state.on_ticket_change = self.on_change

    def add_rule(self, **spec: Any) -> AutomationRule:
        events = tuple(spec.pop("events", EVENTS))
        unknown = [e for e in events if e not in EVENTS]
        if unknown or not events:
            raise ValueError(f"events must be among {list(EVENTS)}, got {list(events)}")
        content = spec.get("content")
        if content is not None:
            probe = TicketChange("ticket_created", {"id": 1})
            try:
                json.loads(render(content, probe, FreshdeskState(), self.domain))
            except ValueError as exc:
                # Freshdesk's rule editor refuses a body that is not valid JSON.
                raise ValueError(f"content is not valid JSON once rendered: {exc}") from exc
        with self._lock:
            rule = AutomationRule(id=next(self._ids), events=events, **spec)
            self.rules[rule.id] = rule
            return rule

    def reset(self) -> None:
        self.wait_idle(5.0)
        with self._lock:
            self.rules.clear()
            self.deliveries.clear()

    def on_change(self, change: TicketChange) -> None:
        with self._lock:
            rules = [r for r in self.rules.values() if r.active and change.event in r.events]
        for rule in rules:
            body = render(rule.content, change, self.state, self.domain)
            delivery = Delivery(rule.id, change.event, int(change.ticket["id"]), body)
            with self._lock:
                self.deliveries.append(delivery)
                self._pending += 1
            self._queue.put((rule, delivery))

    def _post(self, rule: AutomationRule, body: str) -> int:
        headers = {"Content-Type": "application/json", **rule.headers}
        if rule.username is not None:
            pair = f"{rule.username}:{rule.password or ''}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        with httpx.Client(timeout=self.timeout_seconds, trust_env=False) as client:
            return client.request(rule.method, rule.url, content=body, headers=headers).status_code

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            rule, delivery = item
            for delay in (0.0, *self.retry_delays):
                time.sleep(delay)
                try:
                    status: int | str = self.sender(rule, delivery.body)
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                delivery.attempts.append(status)
                if isinstance(status, int) and 200 <= status < 300:
                    delivery.delivered = True
                    break
            with self._lock:
                self._pending -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Block until every queued delivery (with its retries) is done."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
            return True

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="freshdesk-webhooks")
            self._thread.daemon = True
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(5.0)
            self._thread = None


def rule_spec(body: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of an automation rule from an admin request (unknown keys refused)."""
    allowed = set(AutomationRule.__dataclass_fields__) - {"id"}
    unknown = set(body) - allowed
    if unknown:
        raise ValueError(f"unknown rule fields {sorted(unknown)}; allowed: {sorted(allowed)}")
    if not isinstance(body.get("url"), str) or not body.get("name"):
        raise ValueError("a rule needs a name and a url")
    return dict(body)

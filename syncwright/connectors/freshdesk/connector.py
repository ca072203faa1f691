"""The Freshdesk connector: entitlements out to companies (tier field, SLA policy), tickets in
as canonical cases, from automation-rule webhooks and from polling ``updated_since``.

Config (``connections.<name>`` in ``syncwright.yaml``; see this folder's README): ``base_url``
(``https://<domain>.freshdesk.com``, or ``options.domain``), ``credentials.api_key``,
``webhook.secrets``, ``limits``, and the options of :class:`FreshdeskOptions`.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from typing import Any

from syncwright.connectors import (
    Action,
    Connector,
    Delivery,
    PollBatch,
    PolledEvent,
    Stream,
    WebhookIdentity,
    WebhookVerifier,
)
from syncwright.connectors.freshdesk.client import FreshdeskClient
from syncwright.connectors.freshdesk.contacts import probe_contact, upsert_contact
from syncwright.connectors.freshdesk.inbound import WEBHOOK_KEY, normalize, ticket_event_id
from syncwright.connectors.freshdesk.options import FreshdeskOptions
from syncwright.connectors.freshdesk.outbound import (
    probe_entitlement,
    remove_entitlement,
    upsert_entitlement,
)
from syncwright.connectors.freshdesk.webhook import FreshdeskWebhookVerifier
from syncwright.errors import AuthError, BusinessRuleError, ConfigError, TransientError

__all__ = ["FreshdeskConnector"]

# Freshdesk's limit is per account and minute, by plan: Growth 200, Pro 400, Enterprise 700
# (https://developers.freshdesk.com/api/#ratelimit). The default start rate stays under the
# smallest (3.3/s); set limits.requests_per_second for a larger plan.
DEFAULT_REQUESTS_PER_SECOND = 3.0
DEFAULT_CONCURRENCY = 5
# The first poll of a connection reads every ticket (list_tickets needs updated_since to reach
# past Freshdesk's default 30 days).
EPOCH = "1970-01-01T00:00:00Z"
_PAGE_GUARD = 300  # Freshdesk serves at most 300 pages of a list


class FreshdeskConnector(Connector):
    vendor = "freshdesk"
    takes_webhooks = True  # a shared secret header (or basic auth) set on the automation rule
    maps_inbound = True  # tickets -> syncwright.case.upserted.v1
    streams = (
        # Tickets by last update, oldest first; heals webhooks that never arrived.
        Stream("tickets", "/api/v2/tickets", primary_key="id", cursor_field="updated_at"),
    )
    options_model = FreshdeskOptions
    # https://developers.freshdesk.com/api/#error -- the codes this connector raises as
    # freshdesk.<code> (a 404 or 429 body names none: http_<status>).
    documented_errors = {
        "invalid_credentials": AuthError,
        "invalid_field": BusinessRuleError,
        "invalid_value": BusinessRuleError,
        "duplicate_value": BusinessRuleError,
        "http_404": BusinessRuleError,
        "http_429": TransientError,
        "http_503": TransientError,
    }
    actions = {
        "upsert_entitlement": Action(
            upsert_entitlement, probe=probe_entitlement, compensate=remove_entitlement
        ),
        "upsert_contact": Action(upsert_contact, probe=probe_contact),
    }

    def __init__(self, name: str, settings: Any) -> None:
        super().__init__(name, settings)
        # Malformed options stop the process at start-up, with every problem named.
        self.options: FreshdeskOptions = self.parse_options(name, settings.options)
        self._client: FreshdeskClient | None = None
        self._lock = threading.Lock()
        # SLA policy membership is read-modify-write: one change at a time per connection.
        self.sla_lock = threading.Lock()

    # -- inbound --------------------------------------------------------------------------

    def webhook_verifier(self) -> WebhookVerifier | None:
        secrets = [s.reveal() for s in self.settings.webhook.secrets if s.reveal().strip()]
        if not secrets:
            return None
        return FreshdeskWebhookVerifier(secrets, header=self.options.webhook_secret_header)

    def identify(self, payload: Any, body: bytes) -> WebhookIdentity:
        """A rule's webhook carries no event id, and two updates of a ticket can send the same
        body: each delivery is its own event (the read behind it is deduplicated by the
        ticket version's event id and the canonical state)."""
        hook = payload.get(WEBHOOK_KEY) if isinstance(payload, dict) else None
        if isinstance(hook, dict):
            ticket = hook.get("ticket_id")
            return WebhookIdentity(f"webhook:{ticket}:{uuid.uuid4().hex}", "ticket.webhook")
        if isinstance(payload, dict) and payload.get("id") and payload.get("updated_at"):
            # A rule that sends the ticket itself: one event per ticket version, never the
            # bare ticket id (that would swallow every later update as a duplicate).
            return WebhookIdentity(ticket_event_id(payload), "ticket.updated")
        return WebhookIdentity("sha256:" + hashlib.sha256(body).hexdigest(), "unknown")

    def normalize(self, delivery: Delivery) -> list[Any]:
        def read(ticket_id: int) -> Any:
            return self.client.get_ticket(ticket_id, timeout=self.settings.limits.timeout_seconds)

        return list(normalize(delivery, self.services.xref, read, mapping=self.mapping("inbound")))

    def poll(self, stream: str, cursor: str | None) -> PollBatch:
        """Tickets updated since the cursor (``<updated_at>|<ids seen at that second>``: the
        filter is inclusive and to the second), oldest first, one page per call."""
        self.stream(stream)
        since, seen = _parse_cursor(cursor)
        timeout = self.settings.limits.timeout_seconds
        fresh: list[dict[str, Any]] = []
        more = False
        for page in range(1, _PAGE_GUARD + 1):
            tickets, more = self.client.list_tickets(
                since, page=page, per_page=self.options.page_size, timeout=timeout
            )
            fresh = [
                t for t in tickets if not (t.get("updated_at") == since and t.get("id") in seen)
            ]
            if fresh or not more:
                break
        if not fresh:
            return PollBatch(events=[], cursor=None, has_more=False)
        last = str(fresh[-1]["updated_at"])
        at_last = {int(t["id"]) for t in fresh if t.get("updated_at") == last}
        if last == since:
            at_last |= seen
        events = [
            PolledEvent(ticket_event_id(t), "ticket.updated", json.dumps(t, sort_keys=True))
            for t in fresh
        ]
        return PollBatch(events=events, cursor=_cursor(last, at_last), has_more=more)

    # -- client ---------------------------------------------------------------------------

    @property
    def client(self) -> FreshdeskClient:
        with self._lock:
            if self._client is None:
                self._client = self._build_client()
            return self._client

    def _build_client(self) -> FreshdeskClient:
        problems = []
        api_key = self.settings.credentials.get("api_key")
        if api_key is None or not api_key.reveal().strip():
            problems.append(
                f"connections.{self.name}.credentials.api_key: set it to ${{FRESHDESK_API_KEY}} "
                "or file:/path/to/api_key"
            )
        base_url = self._base_url()
        if base_url is None:
            problems.append(
                f"connections.{self.name}.base_url: set it to https://<domain>.freshdesk.com "
                "(or set options.domain)"
            )
        if problems:
            raise ConfigError(
                f"connection {self.name!r} (freshdesk) is not fully configured",
                code="freshdesk.not_configured",
                problems=problems,
            )
        assert base_url is not None and api_key is not None
        limits = self.settings.limits
        limiter, rate = self.limiters(
            default_concurrency=DEFAULT_CONCURRENCY,
            default_requests_per_second=DEFAULT_REQUESTS_PER_SECOND,
        )
        return FreshdeskClient(
            base_url,
            api_key.reveal().strip(),
            timeout=limits.timeout_seconds,
            limiter=limiter,
            rate=rate,
        )

    def _base_url(self) -> str | None:
        if self.settings.base_url:
            return str(self.settings.base_url)
        if self.options.domain:
            return f"https://{self.options.domain}.freshdesk.com"
        return None

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


def _parse_cursor(cursor: str | None) -> tuple[str, set[int]]:
    if not cursor:
        return EPOCH, set()
    since, _, ids = cursor.partition("|")
    return since, {int(i) for i in ids.split(",") if i.isdigit()}


def _cursor(since: str, seen: set[int]) -> str:
    return f"{since}|{','.join(str(i) for i in sorted(seen))}"

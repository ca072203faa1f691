"""The Chargebee connector: webhooks (basic auth, optional re-fetch) and the events API in,
canonical change events out; customers and subscriptions (items model) out.

Config (``connections.<name>`` in ``syncwright.yaml``; see this folder's README):
``base_url`` (``https://<site>.chargebee.com``), ``credentials.api_key``, ``webhook.secrets``
(``username:password`` of the webhook's basic auth), ``limits``, ``options`` (see
:class:`~syncwright.connectors.chargebee.options.ChargebeeOptionsModel`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Mapping
from typing import Any

from syncwright.connectors import (
    Action,
    Connector,
    Delivery,
    PollBatch,
    PolledEvent,
    Stream,
    WebhookVerifier,
)
from syncwright.connectors.chargebee import snapshots
from syncwright.connectors.chargebee.client import MAX_LIST_LIMIT, ChargebeeClient
from syncwright.connectors.chargebee.customer_update import (
    probe_customer_update,
    update_customer,
)
from syncwright.connectors.chargebee.inbound import MAPPED_EVENT_TYPES, normalize
from syncwright.connectors.chargebee.options import ChargebeeOptionsModel
from syncwright.connectors.chargebee.outbound import (
    cancel_subscription,
    create_customer,
    create_subscription,
    probe_customer,
    probe_subscription,
    read_account,
)
from syncwright.connectors.chargebee.reads import read_receivables, read_subscription
from syncwright.connectors.chargebee.webhooks import ChargebeeWebhookVerifier, parse_credentials
from syncwright.errors import AuthError, BusinessRuleError, ConfigError, TransientError
from syncwright.reconcile.snapshot import Dataset, SnapshotRecord

__all__ = ["ChargebeeConnector"]

log = logging.getLogger(__name__)

# Chargebee's published API limits: 150 requests a minute on a test site (the lowest plan is
# 150 live as well), https://www.chargebee.com/docs/2.0/api-limits.html -- 2.5 a second.
DEFAULT_REQUESTS_PER_SECOND = 150 / 60
DEFAULT_CONCURRENCY = 4


class ChargebeeConnector(Connector):
    vendor = "chargebee"
    event_id_field = "id"
    event_type_field = "event_type"
    takes_webhooks = True
    maps_inbound = True
    streams = (
        # https://apidocs.chargebee.com/docs/api/events#list_events -- cursor: occurred_at plus
        # the ids already read at that second.
        Stream("events", "/api/v2/events", primary_key="id", cursor_field="occurred_at"),
    )
    options_model = ChargebeeOptionsModel
    reconcile_datasets: tuple[str, ...] = ("invoices", "subscriptions")
    # https://apidocs.chargebee.com/docs/api/error_handling -- raised as chargebee.<code>.
    documented_errors = {
        "resource_not_found": BusinessRuleError,
        "param_wrong_value": BusinessRuleError,
        "api_authentication_failed": AuthError,
        "api_request_limit_exceeded": TransientError,
        "internal_temporary_error": TransientError,
    }
    actions = {
        "read_account": Action(read_account),
        "read_subscription": Action(read_subscription),
        "read_receivables": Action(read_receivables),
        "create_customer": Action(create_customer, probe=probe_customer),
        "update_customer": Action(update_customer, probe=probe_customer_update),
        "create_subscription": Action(
            create_subscription, probe=probe_subscription, compensate=cancel_subscription
        ),
    }

    def __init__(self, name: str, settings: Any) -> None:
        super().__init__(name, settings)
        self._client: ChargebeeClient | None = None
        self.options: ChargebeeOptionsModel = self.parse_options(name, settings.options)
        self._limiter, self._rate = self.limiters(
            default_concurrency=DEFAULT_CONCURRENCY,
            default_requests_per_second=DEFAULT_REQUESTS_PER_SECOND,
        )
        self.item_price_map: Mapping[str, str] = dict(self.options.item_prices or {})
        # Malformed webhook secrets stop the process at start-up, with the path to fix.
        secrets = [s.reveal() for s in settings.webhook.secrets if s.reveal().strip()]
        self._hook_credentials = parse_credentials(name, secrets)

    # -- inbound: webhooks --------------------------------------------------------------------

    def webhook_verifier(self) -> WebhookVerifier | None:
        credentials = self._hook_credentials
        fetch = self._fetch_event if self.options.verify_webhooks_by_refetch else None
        if not credentials and fetch is None:
            return None
        return ChargebeeWebhookVerifier(credentials, fetch)

    def _fetch_event(self, event_id: str) -> Mapping[str, Any]:
        event = self.client.retrieve("event", event_id)["event"]
        return event if isinstance(event, dict) else {}

    def normalize(self, delivery: Delivery) -> list[Any]:
        return normalize(
            delivery,
            self.services.xref,
            default_subsidiary=self.options.default_subsidiary,
            mapping=self.mapping("inbound"),
        )

    # -- reconciliation ----------------------------------------------------------------------

    def snapshot(self, dataset: Dataset) -> Iterator[SnapshotRecord]:
        """Issued invoices or subscriptions as Chargebee holds them (``syncwright.reconcile``)."""
        return snapshots.snapshot(self.client, self.services.xref, self.name, dataset)

    def reemit(self, dataset: Dataset, native_id: str, reason: str) -> list[PolledEvent]:
        """Fresh events for one record, so the workflows that missed it run again."""
        return snapshots.reemit(self.client, dataset, native_id, reason)

    # -- inbound: polling ---------------------------------------------------------------------

    def poll(self, stream: str, cursor: str | None) -> PollBatch:
        """Mapped events after ``cursor``, oldest first (``sort_by[asc]=occurred_at``).

        The cursor is ``<occurred_at>:<ids read at that second>``: Chargebee's timestamps are
        whole seconds, so the next poll asks from that second on and skips what it read.
        Without a cursor, the last ``options.poll_lookback_seconds`` are read.
        """
        self.stream(stream)  # a ConfigError naming the declared streams
        since, seen = (
            _parse_cursor(cursor)
            if cursor
            else (
                int(time.time()) - self.options.poll_lookback_seconds,
                frozenset(),
            )
        )
        size = min(self.options.poll_page_size, MAX_LIST_LIMIT)
        query = {
            "occurred_at": {"after": since - 1},
            "sort_by": {"asc": "occurred_at"},
            "event_type": {"in": list(MAPPED_EVENT_TYPES)},
            "limit": size,
        }
        fresh: list[dict[str, Any]] = []
        more = False
        offset: str | None = None
        while not more:
            page = self.client.list_page("event", {**query, "offset": offset})
            for entry in page.get("list") or []:
                event = entry["event"]
                if event["occurred_at"] == since and event["id"] in seen:
                    continue
                if len(fresh) == size:
                    more = True
                    break
                fresh.append(event)
            offset = page.get("next_offset")
            if not offset:
                break
        if not fresh:
            return PollBatch(events=[], cursor=cursor, has_more=False)
        last = int(fresh[-1]["occurred_at"])
        ids = {str(e["id"]) for e in fresh if e["occurred_at"] == last}
        if last == since:
            ids |= seen
        return PollBatch(
            events=[_polled(e) for e in fresh],
            cursor=f"{last}:{','.join(sorted(ids))}",
            has_more=more,
        )

    # -- client -------------------------------------------------------------------------------

    @property
    def client(self) -> ChargebeeClient:
        if self._client is None:
            key = self.settings.credentials.get("api_key")
            if key is None or not key.reveal().strip():
                raise ConfigError(
                    f"connection {self.name!r} (chargebee) has no credentials.api_key",
                    code="chargebee.no_api_key",
                    problems=[
                        f"connections.{self.name}.credentials.api_key: set it to "
                        "${CHARGEBEE_API_KEY} or file:/path/to/key"
                    ],
                )
            if self.settings.base_url is None:
                raise ConfigError(
                    f"connection {self.name!r} (chargebee) has no base_url",
                    code="chargebee.no_base_url",
                    problems=[
                        f"connections.{self.name}.base_url: set it to your site, "
                        "https://<site>.chargebee.com (or <site>-test for a test site)"
                    ],
                )
            self._client = ChargebeeClient(
                str(self.settings.base_url),
                key.reveal(),
                timeout=self.settings.limits.timeout_seconds,
                limiter=self._limiter,
                rate=self._rate,
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def _parse_cursor(cursor: str) -> tuple[int, frozenset[str]]:
    stamp, _, ids = cursor.partition(":")
    if not stamp.isdigit():
        raise ConfigError(
            f"Chargebee poll cursor {cursor!r} is not <occurred_at>:<event ids>",
            code="chargebee.bad_cursor",
            problems=[
                "the cursor was not written by this connector; clear the connection's "
                "events cursor so that polling starts from the lookback window"
            ],
        )
    return int(stamp), frozenset(i for i in ids.split(",") if i)


def _polled(event: Mapping[str, Any]) -> PolledEvent:
    return PolledEvent(
        vendor_event_id=str(event["id"]),
        event_type=str(event.get("event_type") or "unknown"),
        body=json.dumps(event),
    )

"""The Stripe connector: signed webhooks and the events API in, canonical change events out.

Config (``connections.<name>`` in ``syncwright.yaml``; see this folder's README):
``credentials.api_key``, ``webhook.secrets`` (several during a rotation),
``webhook.tolerance_seconds``, ``limits``, ``options.default_subsidiary``,
``options.poll_lookback_seconds``, ``options.poll_page_size``, ``options.prices`` (outbound:
canonical price/product ids or their native ids -> Stripe price ids).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
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
from syncwright.connectors.stripe import snapshots
from syncwright.connectors.stripe.client import DEFAULT_BASE_URL, MAX_LIST_LIMIT, StripeClient
from syncwright.connectors.stripe.customer_update import (
    probe_customer_update,
    update_customer,
)
from syncwright.connectors.stripe.inbound import MAPPED_EVENT_TYPES, normalize
from syncwright.connectors.stripe.options import StripeOptionsModel
from syncwright.connectors.stripe.outbound import (
    cancel_subscription,
    create_customer,
    create_subscription,
    probe_customer,
    probe_subscription,
    read_account,
)
from syncwright.connectors.stripe.reads import read_receivables, read_subscription
from syncwright.connectors.stripe.refunds import enrich_refunded_charge
from syncwright.connectors.stripe.renewal import probe_renewal, renew_subscription
from syncwright.connectors.stripe.signature import (
    DEFAULT_TOLERANCE_SECONDS,
    SIGNATURE_HEADER,
    verify_stripe_signature,
)
from syncwright.errors import AuthError, BusinessRuleError, ConfigError, TransientError
from syncwright.reconcile.snapshot import DATASETS, Dataset, SnapshotRecord

__all__ = ["StripeConnector", "StripeWebhookVerifier"]

log = logging.getLogger(__name__)

# Stripe's documented ceilings: 25 requests/s in test mode (100 live) and a small number of
# concurrent requests per account (https://docs.stripe.com/rate-limits); the lower, safe for both.
DEFAULT_REQUESTS_PER_SECOND = 25.0
DEFAULT_CONCURRENCY = 10


class StripeWebhookVerifier:
    """``Stripe-Signature`` verification against every configured secret (rotation)."""

    def __init__(
        self, secrets: Sequence[str], tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS
    ) -> None:
        self._secrets = tuple(secrets)
        self.tolerance_seconds = tolerance_seconds

    def __repr__(self) -> str:
        return (
            f"StripeWebhookVerifier(secrets={len(self._secrets)}, "
            f"tolerance_seconds={self.tolerance_seconds})"
        )

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        verify_stripe_signature(
            body,
            _header(headers, SIGNATURE_HEADER),
            self._secrets,
            tolerance_seconds=self.tolerance_seconds,
        )


def _header(headers: Mapping[str, str], name: str) -> str | None:
    found = headers.get(name)
    if found is not None:
        return found
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


class StripeConnector(Connector):
    vendor = "stripe"
    #: What reconciliation can read here (``syncwright.reconcile``).
    reconcile_datasets: tuple[str, ...] = DATASETS
    event_id_field = "id"
    event_type_field = "type"
    takes_webhooks = True
    maps_inbound = True
    streams = (
        # https://docs.stripe.com/api/events/list -- the cursor is the last event id read.
        Stream("events", "/v1/events", primary_key="id", cursor_field="id"),
    )
    options_model = StripeOptionsModel
    # https://docs.stripe.com/api/errors -- the codes this connector raises as stripe.<code>.
    documented_errors = {
        "resource_missing": BusinessRuleError,
        "invalid_request_error": AuthError,  # a 401 carries this type
        "rate_limit": TransientError,
        "api_error": TransientError,
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
        "renew_subscription": Action(renew_subscription, probe=probe_renewal),
    }

    def __init__(self, name: str, settings: Any) -> None:
        super().__init__(name, settings)
        self._client: StripeClient | None = None
        # One limit per connection, shared by whichever thread builds the client first.
        self._limiter, self._rate = self.limiters(
            default_concurrency=DEFAULT_CONCURRENCY,
            default_requests_per_second=DEFAULT_REQUESTS_PER_SECOND,
        )
        # Malformed options stop the process at start-up, with every problem named by path.
        self.options: StripeOptionsModel = self.parse_options(name, settings.options)
        self.price_map: Mapping[str, str] = _price_map(name, self.options.prices)

    # -- inbound: webhooks --------------------------------------------------------------------

    def webhook_verifier(self) -> WebhookVerifier | None:
        secrets = [s.reveal() for s in self.settings.webhook.secrets if s.reveal().strip()]
        if not secrets:
            return None
        return StripeWebhookVerifier(secrets, self.settings.webhook.tolerance_seconds)

    def normalize(self, delivery: Delivery) -> list[Any]:
        return normalize(
            self._with_all_lines(delivery),
            self.services.xref,
            default_subsidiary=self.options.default_subsidiary or None,
            mapping=self.mapping("inbound"),
        )

    def _with_all_lines(self, delivery: Delivery) -> Delivery:
        """Content enricher: an invoice or credit note in an event carries at most ten lines
        (``lines.has_more``); fetch the rest so the totals add up. A refunded charge gets its
        invoice and refunds (``refunds.enrich_refunded_charge``)."""
        try:
            payload = delivery.json()
        except ValueError:
            return delivery  # normalize() reports it
        if not isinstance(payload, dict) or payload.get("type") not in MAPPED_EVENT_TYPES:
            return delivery
        data = payload.get("data")
        obj = data.get("object") if isinstance(data, dict) else None
        if not isinstance(obj, dict):
            return delivery
        if payload.get("type") == "charge.refunded" and obj.get("customer"):
            # (A customer's charge only: normalize() parks any other with remediation.)
            payload["data"]["object"] = enrich_refunded_charge(self.client, obj)
            return dataclasses.replace(delivery, body=json.dumps(payload))
        lines = obj.get("lines")
        if not (isinstance(lines, dict) and lines.get("has_more")):
            return delivery
        kind, object_id = obj.get("object"), str(obj.get("id"))
        if kind == "invoice":
            fetched = self.client.list_invoice_lines(object_id)
        elif kind == "credit_note":
            fetched = self.client.list_credit_note_lines(object_id)
        else:
            return delivery
        obj["lines"] = {**lines, "data": fetched, "has_more": False}
        return dataclasses.replace(delivery, body=json.dumps(payload))

    # -- reconciliation ----------------------------------------------------------------------

    def snapshot(self, dataset: Dataset) -> Iterator[SnapshotRecord]:
        """Issued invoices or live subscriptions as Stripe holds them (``syncwright.reconcile``)."""
        return snapshots.snapshot(self.client, self.services.xref, dataset)

    def reemit(self, dataset: Dataset, native_id: str, reason: str) -> list[PolledEvent]:
        """Fresh events for one record, so the workflows that missed it run again."""
        return snapshots.reemit(self.client, dataset, native_id, reason)

    # -- inbound: polling ---------------------------------------------------------------------

    def poll(self, stream: str, cursor: str | None) -> PollBatch:
        """Events after ``cursor`` (a Stripe event id), oldest first.

        Stripe lists newest first; ``ending_before=<cursor>`` returns the page of events
        immediately newer than the cursor, which reversed is the next batch in time order.
        Without a cursor, the last ``options.poll_lookback_seconds`` (default a day) are read.
        https://docs.stripe.com/api/events/list, https://docs.stripe.com/api/pagination
        """
        if stream != "events":
            raise ConfigError(
                f"connection {self.name!r} (stripe) has no poll stream {stream!r}",
                code="stripe.unknown_stream",
                problems=[f"stripe streams: {', '.join(self.poll_streams)}"],
            )
        page_size = self._page_size()
        if cursor:
            try:
                page = self.client.list_events(
                    ending_before=cursor, limit=page_size, types=MAPPED_EVENT_TYPES
                )
            except BusinessRuleError as exc:
                if exc.code != "stripe.resource_missing":
                    raise
                # Stripe keeps events for 30 days; a cursor older than that is gone. Start again
                # from the lookback window: the inbox drops what it already holds.
                log.warning(
                    "stripe poll cursor %s of %s is gone; re-reading the lookback window",
                    cursor,
                    self.name,
                )
                return self._first_poll(page_size)
            events = list(reversed(page.get("data") or []))
            return PollBatch(
                events=[_polled(e) for e in events],
                cursor=str(events[-1]["id"]) if events else None,
                has_more=bool(page.get("has_more")) and bool(events),
            )
        return self._first_poll(page_size)

    def _first_poll(self, page_size: int) -> PollBatch:
        lookback = self.options.poll_lookback_seconds
        since = int(time.time()) - lookback
        # Stripe cannot list oldest first: walk the window newest -> oldest to find its start,
        # then hand out the oldest page; later polls move forward from it with ending_before.
        window: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            page = self.client.list_events(
                starting_after=after,
                limit=MAX_LIST_LIMIT,
                types=MAPPED_EVENT_TYPES,
                created_gte=since,
            )
            data = page.get("data") or []
            window.extend(data)
            if not page.get("has_more") or not data:
                break
            after = str(data[-1]["id"])
        oldest = list(reversed(window))[:page_size]
        return PollBatch(
            events=[_polled(e) for e in oldest],
            cursor=str(oldest[-1]["id"]) if oldest else None,
            has_more=len(window) > len(oldest),
        )

    # -- client and options -------------------------------------------------------------------

    @property
    def client(self) -> StripeClient:
        if self._client is None:
            key = self.settings.credentials.get("api_key")
            if key is None or not key.reveal().strip():
                raise ConfigError(
                    f"connection {self.name!r} (stripe) has no credentials.api_key",
                    code="stripe.no_api_key",
                    problems=[
                        f"connections.{self.name}.credentials.api_key: set it to "
                        "${STRIPE_API_KEY} or file:/path/to/key"
                    ],
                )
            self._client = StripeClient(
                str(self.settings.base_url or DEFAULT_BASE_URL),
                key.reveal(),
                timeout=self.settings.limits.timeout_seconds,
                limiter=self._limiter,
                rate=self._rate,
            )
        return self._client

    def _page_size(self) -> int:
        return min(self.options.poll_page_size, MAX_LIST_LIMIT)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def _price_map(connection: str, value: Mapping[str, str] | None) -> Mapping[str, str]:
    """``options.prices`` (typed by the options model): canonical price/product ids (or their
    native ids in any system) -> Stripe price ids; blank keys or ids are refused here."""
    if value is None:
        return {}
    where = f"connections.{connection}.options.prices"
    problems = [
        f"{where}.{key}: expected a Stripe price id (price_...), got {price!r}"
        for key, price in value.items()
        if not price.strip() or not key.strip()
    ]
    if problems:
        raise ConfigError(
            f"connection {connection!r}: options.prices has invalid entries",
            code="stripe.bad_option",
            problems=problems,
        )
    return {str(key): str(price).strip() for key, price in value.items()}


def _polled(event: Mapping[str, Any]) -> PolledEvent:
    return PolledEvent(
        vendor_event_id=str(event["id"]),
        event_type=str(event.get("type") or "unknown"),
        body=json.dumps(event),
    )

"""Chargebee's side of reconciliation: issued invoices and subscriptions that became active, as
Chargebee holds them, and the event that, processed again, brings the ERP back in line with one.

https://apidocs.chargebee.com/docs/api/invoices#list_invoices,
https://apidocs.chargebee.com/docs/api/subscriptions#list_subscriptions
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from syncwright.connectors import PolledEvent
from syncwright.errors import ConfigError
from syncwright.reconcile.snapshot import Dataset, SnapshotRecord

if TYPE_CHECKING:
    from syncwright.connectors.chargebee.client import ChargebeeClient
    from syncwright.xref import CrossReference

# Receivables in the ERP: posted, due, paid or dunning-exhausted invoices (not pending drafts,
# not voided ones). https://apidocs.chargebee.com/docs/api/invoices#invoice_status
_ISSUED = ("paid", "posted", "payment_due", "not_paid")
# Never became active (no ERP contract yet): a future start or a running trial.
_NEVER_ACTIVE = ("future", "in_trial")
_ENDED = ("cancelled", "transferred")


def _period(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m")


def invoice_records(client: ChargebeeClient) -> Iterator[SnapshotRecord]:
    query = {"status": {"in": list(_ISSUED)}, "sort_by": {"asc": "date"}}
    for inv in client.iterate("invoice", query, limit=10**9):
        currency = str(inv["currency_code"]).upper()
        total = int(inv["total"])
        yield SnapshotRecord(
            entity_type="invoice",
            native_id=str(inv["id"]),
            fields={"total": total, "currency": currency, "settled": inv["status"] == "paid"},
            currency=currency,
            period=_period(int(inv["date"])),
            amount_minor=total,
        )


def subscription_records(
    client: ChargebeeClient, xref: CrossReference, connection: str
) -> Iterator[SnapshotRecord]:
    for sub in client.iterate("subscription", {}, limit=10**9):
        status = str(sub["status"])
        if status in _NEVER_ACTIVE:
            continue
        native_id = str(sub["id"])
        # Cancelled before syncwright ever saw it: nothing to match in the ERP.
        if status in _ENDED and xref.global_id_for("subscription", connection, native_id) is None:
            continue
        yield SnapshotRecord(
            entity_type="subscription",
            native_id=native_id,
            fields={"active": status not in _ENDED},
            period=_period(int(sub["created_at"])),
        )


def snapshot(
    client: ChargebeeClient, xref: CrossReference, connection: str, dataset: Dataset
) -> Iterator[SnapshotRecord]:
    if dataset == "invoices":
        return invoice_records(client)
    if dataset == "subscriptions":
        return subscription_records(client, xref, connection)
    raise ConfigError(
        f"chargebee cannot be reconciled on {dataset!r}",
        code="chargebee.unknown_dataset",
        problems=["chargebee datasets: invoices, subscriptions"],
    )


def _event(event_type: str, content: dict[str, Any], reason: str) -> PolledEvent:
    """A Chargebee-shaped event around the records as Chargebee holds them now. Its id is new,
    so the inbox keeps it beside the original; ``source`` and ``reason`` say why it exists."""
    first = next(iter(content.values()))
    event_id = f"ev_reconcile_{first['id']}_{time.time_ns()}"
    body = {
        "id": event_id,
        "occurred_at": int(time.time()),
        "source": "syncwright_reconcile",
        "object": "event",
        "api_version": "v2",
        "event_type": event_type,
        "webhook_status": "not_applicable",
        "content": content,
        "reason": reason,
    }
    return PolledEvent(vendor_event_id=event_id, event_type=event_type, body=json.dumps(body))


def reemit(
    client: ChargebeeClient, dataset: Dataset, native_id: str, reason: str
) -> list[PolledEvent]:
    """The events that re-send one record: a generated invoice (and its payment when paid),
    a subscription as created (active) or cancelled."""
    if dataset == "invoices":
        inv = client.retrieve("invoice", native_id)["invoice"]
        events = [_event("invoice_generated", {"invoice": inv}, reason)]
        payments = [p for p in inv.get("linked_payments") or [] if p.get("txn_status") == "success"]
        if inv.get("status") == "paid" and payments:
            txn = client.retrieve("transaction", str(payments[-1]["txn_id"]))["transaction"]
            events.append(_event("payment_succeeded", {"transaction": txn, "invoice": inv}, reason))
        return events
    answer = client.retrieve("subscription", native_id)
    content = {"subscription": answer["subscription"], "customer": answer.get("customer")}
    if answer["subscription"].get("status") in _ENDED:
        return [_event("subscription_cancelled", content, reason)]
    return [_event("subscription_created", content, reason)]

"""Stripe's side of reconciliation: issued invoices and live subscriptions as Stripe holds them,
and the event that, processed again, brings the ERP back in line with one of them.

https://docs.stripe.com/api/invoices/list, https://docs.stripe.com/api/subscriptions/list
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from syncwright.connectors import PolledEvent
from syncwright.reconcile.snapshot import Dataset, SnapshotRecord, unsupported

if TYPE_CHECKING:
    from syncwright.connectors.stripe.client import StripeClient
    from syncwright.xref import CrossReference

# What the ERP should hold: an invoice once it is issued (open) or paid; drafts, void and
# uncollectible invoices are not receivables there.
_ISSUED = ("open", "paid")
# A subscription that never became active (first payment failed) has no ERP contract.
_NEVER_ACTIVE = ("incomplete", "incomplete_expired")
# Subscriptions whose customer is entitled to support: paid up, or past due while dunning runs.
_IN_SERVICE = ("active", "past_due")


def _period(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m")


def invoice_records(client: StripeClient) -> Iterator[SnapshotRecord]:
    for status in _ISSUED:
        for inv in client.iterate("/v1/invoices", {"status": status}):
            currency = str(inv["currency"]).upper()
            total = int(inv["total"])
            yield SnapshotRecord(
                entity_type="invoice",
                native_id=str(inv["id"]),
                fields={"total": total, "currency": currency, "settled": status == "paid"},
                currency=currency,
                period=_period(int(inv["created"])),
                amount_minor=total,
            )


def subscription_records(client: StripeClient, xref: CrossReference) -> Iterator[SnapshotRecord]:
    for sub in client.iterate("/v1/subscriptions", {"status": "all"}):
        status = str(sub["status"])
        if status in _NEVER_ACTIVE:
            continue
        native_id = str(sub["id"])
        # A subscription cancelled before syncwright ever saw it has nothing to match in the ERP.
        if status == "canceled" and xref.global_id_for("subscription", "stripe", native_id) is None:
            continue
        yield SnapshotRecord(
            entity_type="subscription",
            native_id=native_id,
            fields={"active": status != "canceled"},
            currency=str(sub["currency"]).upper(),
            period=_period(int(sub["created"])),
        )


def _ids(xref: CrossReference, kind: str, native_id: str) -> list[str]:
    """A Stripe id and the global id it is linked to, for the plan -> tier lookup."""
    gid = xref.global_id_for(kind, "stripe", native_id)
    return [native_id, gid] if gid else [native_id]


def entitlement_records(client: StripeClient, xref: CrossReference) -> Iterator[SnapshotRecord]:
    """One record per subscription in service (active, or past due while dunning runs), keyed
    by the customer's account; ``extra["lines"]`` are each item's product and price ids, from
    which the reconciler derives the tier with the support connection's own rule."""
    for status in _IN_SERVICE:
        for sub in client.iterate("/v1/subscriptions", {"status": status}):
            customer = str(sub["customer"])
            lines: list[list[str]] = []
            for item in (sub.get("items") or {}).get("data") or []:
                price = item.get("price") or {}
                product = price.get("product")
                product_id = str(product["id"] if isinstance(product, dict) else product or "")
                lines.append(
                    _ids(xref, "product", product_id) + _ids(xref, "price", str(price["id"]))
                )
            yield SnapshotRecord(
                entity_type="entitlement",
                native_id=str(sub["id"]),
                global_id=xref.global_id_for("account", "stripe", customer),
                fields={"tier": None},
                period=_period(int(sub["created"])),
                extra={"lines": lines, "customer": customer},
            )


def standing_records(client: StripeClient, xref: CrossReference) -> Iterator[SnapshotRecord]:
    """Per customer, the latest issued invoice: the number and status its CRM account should
    show (what ``billing_to_erp`` writes), keyed by the customer's account. Amount and
    currency feed the totals."""
    latest: dict[str, dict[str, Any]] = {}
    for status in _ISSUED:
        for inv in client.iterate("/v1/invoices", {"status": status}):
            customer = str(inv["customer"])
            held = latest.get(customer)
            if held is None or (int(inv["created"]), str(inv["id"])) > (
                int(held["created"]),
                str(held["id"]),
            ):
                latest[customer] = inv
    for customer, inv in latest.items():
        currency = str(inv["currency"]).upper()
        number = inv.get("number") or xref.global_id_for("invoice", "stripe", str(inv["id"]))
        yield SnapshotRecord(
            entity_type="account",
            native_id=str(inv["id"]),
            global_id=xref.global_id_for("account", "stripe", customer),
            fields={"last_invoice_number": number, "last_invoice_status": str(inv["status"])},
            currency=currency,
            period=_period(int(inv["created"])),
            amount_minor=int(inv["total"]),
        )


def snapshot(
    client: StripeClient, xref: CrossReference, dataset: Dataset
) -> Iterator[SnapshotRecord]:
    if dataset == "invoices":
        return invoice_records(client)
    if dataset == "subscriptions":
        return subscription_records(client, xref)
    if dataset == "entitlements":
        return entitlement_records(client, xref)
    if dataset == "crm_standing":
        return standing_records(client, xref)
    raise unsupported(
        "stripe", dataset, ("invoices", "subscriptions", "entitlements", "crm_standing")
    )


def _event(kind: str, obj: dict[str, Any], reason: str) -> PolledEvent:
    """A Stripe-shaped event around the object as Stripe holds it now. Its id is new, so the
    inbox keeps it beside the original; ``request.reason`` says why it exists."""
    event_id = f"evt_reconcile_{obj['id']}_{time.time_ns()}"
    body = {
        "id": event_id,
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": obj},
        "request": {"id": None, "idempotency_key": None, "reason": reason},
    }
    return PolledEvent(vendor_event_id=event_id, event_type=kind, body=json.dumps(body))


def reemit(
    client: StripeClient, dataset: Dataset, native_id: str, reason: str
) -> list[PolledEvent]:
    """The events that re-send one record: a finalized invoice (and its payment when paid),
    a subscription as created (active) or deleted (cancelled). ``crm_standing`` re-sends the
    latest invoice (its workflows show it on the CRM account); ``entitlements`` the
    subscription as created (``entitlement.sync_from_billing`` grants its tier)."""
    if dataset in ("invoices", "crm_standing"):
        inv = client.get_invoice(native_id)
        events = [_event("invoice.finalized", inv, reason)]
        if inv.get("status") == "paid":
            events.append(_event("invoice.paid", inv, reason))
        return events
    sub = client.get_subscription(native_id)
    if sub.get("status") == "canceled":
        return [_event("customer.subscription.deleted", sub, reason)]
    return [_event("customer.subscription.created", sub, reason)]

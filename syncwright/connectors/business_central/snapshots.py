"""Business Central's side of reconciliation: its posted sales invoices and its sales orders,
read page by page through the connection's client. The external document number holds our
global id upper-cased (or digested), so records are matched through the cross-reference, where
every step links what it wrote.

An invoice counts as settled when what is still due on it is covered by customer payment
journal lines applied to it: syncwright writes payments as journal lines and leaves posting to
finance, so an unposted line is not drift.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from syncwright.connectors.business_central.client import BusinessCentralClient
from syncwright.model.money import CURRENCY_EXPONENTS
from syncwright.reconcile.snapshot import Dataset, SnapshotRecord, unsupported

__all__ = ["DATASETS", "snapshot"]

#: What reconciliation can read here.
DATASETS: tuple[str, ...] = ("invoices", "subscriptions")

_POSTED = ("Open", "Paid")


def _minor(value: Any, currency: str) -> int:
    exponent = CURRENCY_EXPONENTS.get(currency, 2)
    return int(Decimal(str(value or 0)).scaleb(exponent).to_integral_value())


def invoice_records(client: BusinessCentralClient) -> Iterator[SnapshotRecord]:
    unposted: dict[str, Decimal] = {}
    for line in client.query("customerPayments"):
        key = str(line.get("appliesToInvoiceId") or "")
        unposted[key] = unposted.get(key, Decimal(0)) + Decimal(str(line.get("amount") or 0))
    for row in client.query("salesInvoices"):
        if row.get("status") not in _POSTED:
            continue  # drafts are not booked yet; canceled ones are gone from the books
        currency = str(row.get("currencyCode") or "").upper()
        total = _minor(row.get("totalAmountIncludingTax"), currency)
        due = Decimal(str(row.get("remainingAmount") or 0)) - unposted.get(str(row["id"]), 0)
        yield SnapshotRecord(
            entity_type="invoice",
            native_id=str(row["id"]),
            fields={"total": total, "currency": currency, "settled": due <= 0},
            currency=currency,
            period=str(row.get("invoiceDate") or "")[:7] or None,
            amount_minor=total,
        )


def order_records(client: BusinessCentralClient) -> Iterator[SnapshotRecord]:
    for row in client.query("salesOrders", expand="salesOrderLines"):
        lines = row.get("salesOrderLines") or []
        yield SnapshotRecord(
            entity_type="subscription",
            native_id=str(row["id"]),
            # A cancelled subscription's order has nothing left to ship or invoice.
            fields={
                "active": any(
                    line.get("shipQuantity") or line.get("invoiceQuantity") for line in lines
                )
            },
            currency=str(row.get("currencyCode") or "").upper() or None,
            period=str(row.get("orderDate") or "")[:7] or None,
        )


def snapshot(client: BusinessCentralClient, dataset: Dataset) -> Iterator[SnapshotRecord]:
    if dataset == "invoices":
        return invoice_records(client)
    if dataset == "subscriptions":
        return order_records(client)
    raise unsupported("business_central", dataset, DATASETS)

"""NetSuite's side of reconciliation: its invoices and sales orders, read with SuiteQL (paged,
through the connection's governed client). Our global id is each record's external id.

https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_157909186990.html (SuiteQL)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from syncwright.model.money import CURRENCY_EXPONENTS
from syncwright.reconcile.snapshot import Dataset, SnapshotRecord, unsupported

if TYPE_CHECKING:
    from syncwright.connectors.netsuite.client import NetSuiteClient

# A date column answers in the account's date format (``12/3/2026``): TO_CHAR gives ISO.
_INVOICES = (
    "SELECT id, externalid, foreigntotal, foreignamountunpaid, currency, "
    "TO_CHAR(trandate, 'YYYY-MM-DD') AS trandate FROM transaction WHERE recordtype = 'invoice'"
)
_ORDERS = (
    "SELECT id, externalid, TO_CHAR(trandate, 'YYYY-MM-DD') AS trandate, currency "
    "FROM transaction WHERE recordtype = 'salesorder'"
)
_LINES = "SELECT transaction, isclosed FROM transactionline"


def _minor(value: Any, currency: str) -> int:
    exponent = CURRENCY_EXPONENTS.get(currency, 2)
    return int(Decimal(str(value or 0)).scaleb(exponent).to_integral_value())


def _iso_currency(currency_id: Any, currencies: Mapping[str, str]) -> str:
    """The ISO code configured for a NetSuite currency internal id (options.currencies)."""
    wanted = str(currency_id)
    for code, internal_id in currencies.items():
        if str(internal_id) == wanted:
            return code.upper()
    return f"netsuite-currency-{wanted}"


def invoice_records(
    client: NetSuiteClient, currencies: Mapping[str, str]
) -> Iterator[SnapshotRecord]:
    for row in client.suiteql(_INVOICES):
        currency = _iso_currency(row.get("currency"), currencies)
        total = _minor(row.get("foreigntotal"), currency)
        yield SnapshotRecord(
            entity_type="invoice",
            native_id=str(row["id"]),
            global_id=row.get("externalid") or None,
            fields={
                "total": total,
                "currency": currency,
                "settled": _minor(row.get("foreignamountunpaid"), currency) == 0,
            },
            currency=currency,
            period=str(row.get("trandate") or "")[:7] or None,
            amount_minor=total,
        )


def order_records(
    client: NetSuiteClient, currencies: Mapping[str, str]
) -> Iterator[SnapshotRecord]:
    orders = list(client.suiteql(_ORDERS))
    open_lines: dict[str, int] = {}
    for line in client.suiteql(_LINES):
        if line.get("isclosed") != "T":
            key = str(line.get("transaction"))
            open_lines[key] = open_lines.get(key, 0) + 1
    for row in orders:
        yield SnapshotRecord(
            entity_type="subscription",
            native_id=str(row["id"]),
            global_id=row.get("externalid") or None,
            # A cancelled subscription's order has every line closed.
            fields={"active": open_lines.get(str(row["id"]), 0) > 0},
            currency=_iso_currency(row.get("currency"), currencies),
            period=str(row.get("trandate") or "")[:7] or None,
        )


def snapshot(
    client: NetSuiteClient, currencies: Mapping[str, str], dataset: Dataset
) -> Iterator[SnapshotRecord]:
    if dataset == "invoices":
        return invoice_records(client, currencies)
    if dataset == "subscriptions":
        return order_records(client, currencies)
    raise unsupported("netsuite", dataset, ("invoices", "subscriptions"))

"""The SuiteQL tables the emulator answers: each a set of columns and the rows it reads from
the sandbox records, following the analytics data source (see ``_suiteql``). Date columns hold
the internal sortable text of ``_suiteql_dates``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from syncwright.sandbox.netsuite import _suiteql_dates as dates
from syncwright.sandbox.netsuite._rules import Lookup
from syncwright.sandbox.netsuite._schema import ITEM_TYPES, RECORD_TYPES, RecordType

__all__ = ["TABLES", "Row", "Table"]

Row = dict[str, str | None]


# -- rows -----------------------------------------------------------------------------------


def sql_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "T" if value else "F"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _date_columns(rt: RecordType) -> set[str]:
    return {f.name.lower() for f in rt.fields if f.kind == "date"} | {
        "datecreated",
        "lastmodifieddate",
    }


def _flatten(rt: RecordType, rec: dict[str, Any]) -> Row:
    sublists = {sub.name for sub in rt.sublists}
    date_columns = _date_columns(rt)
    row = {
        key.lower(): sql_value(value)
        for key, value in rec.items()
        if key not in sublists and not isinstance(value, dict | list)
    }
    for name in date_columns & row.keys():
        row[name] = dates.internal(row[name])
    return row


def _columns(rt: RecordType) -> set[str]:
    return {"id"} | {f.name.lower() for f in rt.fields}


TRANSACTION_TYPES = ("salesOrder", "invoice", "customerPayment", "creditMemo", "customerRefund")


def _transaction_row(rt: RecordType, rec: dict[str, Any]) -> Row:
    row = _flatten(rt, rec)
    row["type"] = rt.suiteql_type
    row["recordtype"] = rt.name.lower()
    row["foreigntotal"] = row.get("total")
    row["foreignamountunpaid"] = row.get("amountremaining")
    row["foreignamountpaid"] = row.get("amountpaid")
    if "customer" in row:
        row["entity"] = row.pop("customer")
    return row


def _line_rows(rt: RecordType, rec: dict[str, Any]) -> list[Row]:
    rows = []
    for line in rec.get("item") or []:
        rows.append(
            {
                "id": sql_value(line.get("line")),
                "transaction": rec["id"],
                "linesequencenumber": sql_value(line.get("line")),
                "item": sql_value(line.get("item")),
                "quantity": sql_value(line.get("quantity")),
                "rate": sql_value(line.get("rate")),
                "netamount": sql_value(line.get("amount")),
                "foreignamount": sql_value(line.get("amount")),
                "taxcode": sql_value(line.get("taxCode")),
                "memo": sql_value(line.get("description")),
                "isclosed": sql_value(line.get("isClosed", False)),
            }
        )
    return rows


@dataclass(frozen=True)
class Table:
    columns: frozenset[str]
    rows: Callable[[Lookup], Iterable[Row]]
    dates: frozenset[str] = frozenset()


def _simple(rtype: str) -> Table:
    rt = RECORD_TYPES[rtype]
    return Table(
        frozenset(_columns(rt)),
        lambda db: [_flatten(rt, rec) for rec in db.raw_all(rtype)],
        frozenset(_date_columns(rt)),
    )


def _items(db: Lookup) -> list[Row]:
    return [_flatten(RECORD_TYPES[t], rec) for t in ITEM_TYPES for rec in db.raw_all(t)]


def _transactions(db: Lookup) -> list[Row]:
    return [
        _transaction_row(RECORD_TYPES[t], rec) for t in TRANSACTION_TYPES for rec in db.raw_all(t)
    ]


def _lines(db: Lookup) -> list[Row]:
    return [
        row
        for t in TRANSACTION_TYPES
        for rec in db.raw_all(t)
        for row in _line_rows(RECORD_TYPES[t], rec)
    ]


_TRAN_COLUMNS = frozenset(
    set().union(*(_columns(RECORD_TYPES[t]) for t in TRANSACTION_TYPES))
    | {"type", "recordtype", "foreigntotal", "foreignamountunpaid", "foreignamountpaid"}
)
TABLES: dict[str, Table] = {
    "customer": _simple("customer"),
    "subsidiary": _simple("subsidiary"),
    "currency": _simple("currency"),
    "term": _simple("term"),
    "department": _simple("department"),
    "classification": _simple("classification"),
    "location": _simple("location"),
    "accountingperiod": _simple("accountingPeriod"),
    "salestaxitem": _simple("salesTaxItem"),
    "item": Table(
        frozenset(_columns(RECORD_TYPES["serviceSaleItem"])),
        _items,
        frozenset(_date_columns(RECORD_TYPES["serviceSaleItem"])),
    ),
    "transaction": Table(
        _TRAN_COLUMNS,
        _transactions,
        frozenset(set().union(*(_date_columns(RECORD_TYPES[t]) for t in TRANSACTION_TYPES))),
    ),
    "transactionline": Table(
        frozenset(
            {
                "id",
                "transaction",
                "linesequencenumber",
                "item",
                "quantity",
                "rate",
                "netamount",
                "foreignamount",
                "taxcode",
                "memo",
                "isclosed",
            }
        ),
        _lines,
    ),
}

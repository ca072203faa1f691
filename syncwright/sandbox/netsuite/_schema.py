"""Which record types the emulator knows, their fields, and how request values are read.

Field names follow the REST record browser (camelCase). NetSuite matches body field names
case-insensitively (Oracle's own tutorials send ``trandate`` and ``orderstatus``), so input names
are folded onto the canonical spelling. Unknown fields are kept as sent, as NetSuite does under
its default ``X-NetSuite-PropertyNameValidation: Warning``.

References are ``{"id": "110"}`` objects (or a bare id, which the tutorials also send), and are
stored as the id string.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from syncwright.sandbox.netsuite._errors import NetSuiteApiError, invalid_field_value

Kind = Literal["text", "int", "number", "money", "bool", "date", "ref", "select"]

ITEM_TYPES = ("serviceSaleItem", "nonInventorySaleItem")
CENT = Decimal("0.01")
# List fields of fixed values ("select" fields): stored as the id, answered as
# ``{"id": "ON", "refName": "On"}``, written as the id or ``{"id": ...}``. Customer
# ``creditHoldOverride``: AUTO holds the customer once its balance exceeds its credit limit,
# ON always holds it, OFF never does (Oracle: "Setting Credit Limits and Holds").
SELECT_OPTIONS: dict[str, dict[str, str]] = {
    "creditHoldOverride": {"AUTO": "Auto", "ON": "On", "OFF": "Off"},
}


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: Kind = "text"
    refs: tuple[str, ...] = ()
    label: str = ""
    read_only: bool = False

    @property
    def title(self) -> str:
        return self.label or self.name


@dataclass(frozen=True)
class SublistSpec:
    name: str
    fields: tuple[FieldSpec, ...]

    def field(self, name: str) -> FieldSpec | None:
        return _fold(self.fields).get(name.lower())


@dataclass(frozen=True)
class RecordType:
    name: str
    family: Literal["entity", "transaction", "list", "item"]
    fields: tuple[FieldSpec, ...]
    sublists: tuple[SublistSpec, ...] = ()
    suiteql_type: str = ""  # the ``transaction.type`` code for transactions
    tran_prefix: str = ""
    by_lower: dict[str, FieldSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_lower", _fold(self.fields))

    def field(self, name: str) -> FieldSpec | None:
        return self.by_lower.get(name.lower())

    def sublist(self, name: str) -> SublistSpec | None:
        for sub in self.sublists:
            if sub.name.lower() == name.lower():
                return sub
        return None


def _fold(fields: tuple[FieldSpec, ...]) -> dict[str, FieldSpec]:
    return {f.name.lower(): f for f in fields}


def _f(name: str, kind: Kind = "text", *refs: str, label: str = "", ro: bool = False) -> FieldSpec:
    return FieldSpec(name, kind, tuple(refs), label, ro)


_COMMON = (_f("externalId"), _f("dateCreated", ro=True), _f("lastModifiedDate", ro=True))
_ITEM_FIELDS = (
    _f("itemId", label="Item Name/Number"),
    _f("displayName"),
    _f("description"),
    _f("basePrice", "money"),
    _f("isInactive", "bool"),
    _f("itemType", ro=True),
    *_COMMON,
)
_ITEM_LINE = SublistSpec(
    "item",
    (
        _f("line", "int"),
        _f("item", "ref", *ITEM_TYPES, label="Item"),
        _f("description"),
        _f("quantity", "number"),
        _f("rate", "money"),
        _f("amount", "money"),
        _f("taxCode", "ref", "salesTaxItem", label="Tax Code"),
        _f("taxRate1", "number", ro=True),
        _f("tax1Amt", "money", ro=True),
        _f("isClosed", "bool"),
    ),
)
_APPLY_LINE = SublistSpec(
    "apply",
    (
        _f("line", "int"),
        _f("doc", "ref", "invoice", label="Document"),
        _f("apply", "bool"),
        _f("amount", "money"),
        _f("due", "money", ro=True),
        _f("total", "money", ro=True),
        _f("refNum", ro=True),
    ),
)
# A customer refund's ``apply`` sublist: the credits it pays out (credit memos here; NetSuite
# also lists customer deposits and unapplied payments, which syncwright does not write).
_REFUND_APPLY_LINE = SublistSpec(
    "apply",
    (
        _f("line", "int"),
        _f("doc", "ref", "creditMemo", label="Document"),
        _f("apply", "bool"),
        _f("amount", "money"),
        _f("due", "money", ro=True),
        _f("total", "money", ro=True),
        _f("refNum", ro=True),
    ),
)
_TRAN_COMMON = (
    _f("tranId"),
    _f("tranDate", "date"),
    _f("subsidiary", "ref", "subsidiary", label="Subsidiary"),
    _f("currency", "ref", "currency", label="Currency"),
    _f("exchangeRate", "number"),
    _f("memo"),
    _f("otherRefNum"),
    _f("status", ro=True),
    _f("total", "money", ro=True),
    _f("postingPeriod", "ref", "accountingPeriod", label="Posting Period", ro=True),
    *_COMMON,
)
_LINE_TOTALS = (
    _f("subtotal", "money", ro=True),
    _f("taxTotal", "money", ro=True),
)

RECORD_TYPES: dict[str, RecordType] = {
    rt.name: rt
    for rt in (
        RecordType(
            "currency",
            "list",
            (
                _f("name"),
                _f("symbol"),
                _f("exchangeRate", "number"),
                _f("isInactive", "bool"),
                *_COMMON,
            ),
        ),
        RecordType(
            "subsidiary",
            "list",
            (
                _f("name"),
                _f("country"),
                _f("currency", "ref", "currency", label="Currency"),
                _f("isInactive", "bool"),
                *_COMMON,
            ),
        ),
        # Setup > Accounting > Manage Accounting Periods; the REST record ``accountingPeriod``.
        RecordType(
            "accountingPeriod",
            "list",
            (
                _f("periodName", label="Period Name"),
                _f("startDate", "date", label="Start Date"),
                _f("endDate", "date", label="End Date"),
                _f("isQuarter", "bool"),
                _f("isYear", "bool"),
                _f("closed", "bool"),
                _f("arLocked", "bool"),
                _f("allLocked", "bool"),
                *_COMMON,
            ),
        ),
        RecordType(
            "term",
            "list",
            (_f("name"), _f("daysUntilNetDue", "number"), _f("isInactive", "bool"), *_COMMON),
        ),
        # Classifications (Oracle: "Classifications in NetSuite"; REST records department,
        # classification, location): the financial dimensions a customer is booked under.
        *(
            RecordType(name, "list", (_f("name"), _f("isInactive", "bool"), *_COMMON))
            for name in ("department", "classification", "location")
        ),
        RecordType(
            "salesTaxItem",
            "list",
            (
                _f("itemId", label="Tax Name"),
                _f("description"),
                _f("rate", "number"),
                _f("country"),
                _f("isInactive", "bool"),
                *_COMMON,
            ),
        ),
        RecordType("serviceSaleItem", "item", _ITEM_FIELDS),
        RecordType("nonInventorySaleItem", "item", _ITEM_FIELDS),
        RecordType(
            "customer",
            "entity",
            (
                _f("entityId"),
                _f("companyName", label="Company Name"),
                _f("isPerson", "bool"),
                _f("firstName"),
                _f("lastName"),
                _f("email"),
                _f("phone"),
                _f("subsidiary", "ref", "subsidiary", label="Primary Subsidiary"),
                _f("currency", "ref", "currency", label="Currency"),
                _f("terms", "ref", "term", label="Terms"),
                _f("taxItem", "ref", "salesTaxItem", label="Tax Item"),
                _f("taxRegNumber"),
                _f("defaultAddress"),
                _f("comments"),
                _f("isInactive", "bool"),
                _f("creditLimit", "money", label="Credit Limit"),
                _f("creditHoldOverride", "select", label="Hold"),
                _f("balance", "money", ro=True),
                _f("department", "ref", "department", label="Department"),
                _f("class", "ref", "classification", label="Class"),
                _f("location", "ref", "location", label="Location"),
                *_COMMON,
            ),
        ),
        RecordType(
            "salesOrder",
            "transaction",
            (
                _f("entity", "ref", "customer", label="Customer"),
                _f("orderStatus"),
                _f("startDate", "date"),
                _f("endDate", "date"),
                _f("terms", "ref", "term", label="Terms"),
                *_TRAN_COMMON,
                *_LINE_TOTALS,
            ),
            (_ITEM_LINE,),
            suiteql_type="SalesOrd",
            tran_prefix="SO",
        ),
        RecordType(
            "invoice",
            "transaction",
            (
                _f("entity", "ref", "customer", label="Customer"),
                _f("createdFrom", "ref", "salesOrder", label="Created From"),
                _f("terms", "ref", "term", label="Terms"),
                _f("dueDate", "date"),
                _f("startDate", "date"),
                _f("endDate", "date"),
                _f("amountPaid", "money", ro=True),
                _f("amountRemaining", "money", ro=True),
                *_TRAN_COMMON,
                *_LINE_TOTALS,
            ),
            (_ITEM_LINE,),
            suiteql_type="CustInvc",
            tran_prefix="INV",
        ),
        RecordType(
            "customerPayment",
            "transaction",
            (
                _f("customer", "ref", "customer", label="Customer"),
                _f("payment", "money", label="Payment Amount"),
                _f("applied", "money", ro=True),
                _f("unapplied", "money", ro=True),
                *_TRAN_COMMON,
            ),
            (_APPLY_LINE,),
            suiteql_type="CustPymt",
            tran_prefix="PYMT",
        ),
        RecordType(
            "creditMemo",
            "transaction",
            (
                _f("entity", "ref", "customer", label="Customer"),
                _f("createdFrom", "ref", "invoice", label="Created From"),
                _f("applied", "money", ro=True),
                _f("unapplied", "money", ro=True),
                *_TRAN_COMMON,
                *_LINE_TOTALS,
            ),
            (_ITEM_LINE, _APPLY_LINE),
            suiteql_type="CustCred",
            tran_prefix="CM",
        ),
        # Transactions > Customers > Issue Customer Refund: cash paid back out of a credit.
        RecordType(
            "customerRefund",
            "transaction",
            (
                _f("customer", "ref", "customer", label="Customer"),
                *_TRAN_COMMON,
            ),
            (_REFUND_APPLY_LINE,),
            suiteql_type="CustRfnd",
            tran_prefix="RFND",
        ),
    )
}

_BY_LOWER = {name.lower(): rt for name, rt in RECORD_TYPES.items()}


def record_type(name: str) -> RecordType | None:
    """Record type names in the URL are case-insensitive (the tutorials use ``salesorder`` too)."""
    return _BY_LOWER.get(name.lower())


# -- reading request values ---------------------------------------------------------------


def ref_id(value: Any) -> str | None:
    """``{"id": 110}``, ``{"id": "110"}`` or a bare ``110`` -> ``"110"``; ``None`` clears."""
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get("id")
        if value is None:
            return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError("not a reference")
    return str(value)


def to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise ValueError("not a number")
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError("not a number") from exc
    if not number.is_finite():
        raise ValueError("not a number")
    return number


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("T", "t", "true", "True"):
        return True
    if value in ("F", "f", "false", "False"):
        return False
    raise ValueError("not a boolean")


def to_date(value: Any) -> str:
    """Accepts ``2020-07-30`` and the tutorials' unpadded ``2020-6-15``; stores ISO dates."""
    if not isinstance(value, str):
        raise ValueError("not a date")
    parts = value.strip().split("T", 1)[0].split("-")
    if len(parts) != 3:
        raise ValueError("not a date")
    year, month, day = (int(p) for p in parts)
    return dt.date(year, month, day).isoformat()


def read_value(spec: FieldSpec, raw: Any, path: str) -> Any:
    """Convert one body value to its stored form, or raise NetSuite's INVALID_CONTENT."""
    if raw is None:
        return None
    try:
        if spec.kind == "ref":
            return ref_id(raw)
        if spec.kind == "money":
            return to_decimal(raw).quantize(CENT)
        if spec.kind == "number":
            return to_decimal(raw)
        if spec.kind == "int":
            number = to_decimal(raw)
            if number != number.to_integral_value():
                raise ValueError("not an integer")
            return int(number)
        if spec.kind == "bool":
            return to_bool(raw)
        if spec.kind == "select":
            chosen = ref_id(raw)
            if chosen not in SELECT_OPTIONS.get(spec.name, {}):
                raise ValueError("not one of the list's values")
            return chosen
        if spec.kind == "date":
            return to_date(raw)
    except (ValueError, TypeError):
        shown = raw.get("id") if isinstance(raw, dict) else raw
        raise invalid_field_value(spec.name, shown, path=path) from None
    if isinstance(raw, dict | list):
        raise invalid_field_value(spec.name, "object", path=path)
    return raw if isinstance(raw, str) else str(raw)


_IGNORED = {"links", "id", "refname"}


def read_body(
    rtype: RecordType, body: Any
) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """Split a request body into stored body fields and sublist lines (both canonicalised).

    Read-only fields are dropped, as NetSuite ignores them on write.
    """
    if not isinstance(body, dict):
        raise NetSuiteApiError(
            400, "INVALID_CONTENT", "The request body must be a JSON object.", path=""
        )
    fields: dict[str, Any] = {}
    sublists: dict[str, list[dict[str, Any]]] = {}
    for key, raw in body.items():
        if key.lower() in _IGNORED:
            continue
        sub = rtype.sublist(key)
        if sub is not None:
            sublists[sub.name] = _read_lines(sub, raw)
            continue
        spec = rtype.field(key)
        if spec is None:
            fields[key] = raw  # unknown field: kept as sent (Warning-level validation)
            continue
        if spec.read_only:
            continue
        fields[spec.name] = read_value(spec, raw, spec.name)
    return fields, sublists


def _read_lines(sub: SublistSpec, raw: Any) -> list[dict[str, Any]]:
    items = raw.get("items") if isinstance(raw, dict) else raw
    if not isinstance(items, list):
        raise NetSuiteApiError(
            400,
            "INVALID_CONTENT",
            f"Error while accessing resource: The sublist {sub.name} must contain an items array.",
            path=f"{sub.name}.items",
        )
    lines: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        path = f"{sub.name}.items[{index}]"
        if not isinstance(item, dict):
            raise invalid_field_value(sub.name, item, path=path)
        line: dict[str, Any] = {}
        for key, value in item.items():
            if key.lower() in _IGNORED:
                continue
            spec = sub.field(key)
            if spec is None:
                line[key] = value
            elif not spec.read_only:
                line[spec.name] = read_value(spec, value, f"{path}.{spec.name}")
        lines.append(line)
    return lines

"""Canonical entities -> NetSuite REST record bodies (message translator).

The fields of each body come from the connection's outbound mapping file (shipped:
``mappings/outbound.yaml``, ``netsuite_outbound@1``; ``mappings:`` in the config may replace
it); this module computes what a declaration cannot: lines with their item lookups, the
discount line, payment applications, an invoice's service period. Pure functions: they read the
canonical entity and the connection's :class:`NetSuiteOptions`, and are handed every NetSuite
internal id they need (customer, sales order, invoice) by the caller, so they never touch the
network. What they cannot map they refuse with a
:class:`~syncwright.errors.BusinessRuleError` whose remediation names the config key to set.

Amounts come only from ``Money`` (integer minor units): ``Money.to_decimal_string()`` gives the
exact decimal, which is sent as a JSON number whose text is that decimal (NetSuite's samples send
numbers). Field names follow Oracle's REST API Browser for ``customer``, ``salesOrder``,
``invoice``, ``customerPayment`` and ``creditMemo`` (e.g. "Credit Memo",
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/article_164460021767.html) and the
SuiteTalk REST tutorial bodies the emulator is proven against.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from syncwright.connectors import parse_options
from syncwright.connectors.netsuite.options import NetSuiteOptionsModel
from syncwright.errors import BusinessRuleError
from syncwright.mapping import or_shipped
from syncwright.model import (
    Account,
    Address,
    BillingLine,
    CreditNote,
    Invoice,
    Money,
    Payment,
    Subscription,
)

__all__ = [
    "NETSUITE_MAX_DECIMALS",
    "NetSuiteOptions",
    "NetSuiteRecord",
    "amount",
    "credit_memo_record",
    "customer_payment_record",
    "customer_record",
    "dunning_fields",
    "expected_tax_minor",
    "format_address",
    "invoice_record",
    "parse_canonical",
    "sales_order_close_body",
    "sales_order_record",
]

# NetSuite keeps at most two decimals on transaction amounts (currencyPrecision 0 or 2).
NETSUITE_MAX_DECIMALS = 2
# Sales order status on create: B = Pending Fulfillment (approved); A would be Pending Approval.
ORDER_STATUS_APPROVED = "B"
# Custom transaction body fields the dunning step writes (create them in NetSuite:
# Customization > Lists, Records, & Fields > Transaction Body Fields, applied to Sale/Invoice).
DUNNING_STATUS_FIELD = "custbody_dunning_status"
DUNNING_ATTEMPTS_FIELD = "custbody_dunning_attempts"
_TEXT_MAX = 300  # NetSuite free-form text fields hold 300 characters

if TYPE_CHECKING:
    from syncwright.mapping import CompiledMapping

M = TypeVar("M", bound=BaseModel)


# -- options ---------------------------------------------------------------------------------


def _ids(values: Mapping[str | int, str | int] | None) -> dict[str, str]:
    return {str(name): str(value) for name, value in (values or {}).items()}


def _id(value: str | int | None) -> str | None:
    return str(value).strip() if value is not None else None


@dataclass(frozen=True)
class NetSuiteOptions:
    """``connections.<name>.options`` of a NetSuite connection, checked once at start-up.

    ``subsidiaries`` maps the canonical legal entity (``Account.subsidiary``) to a subsidiary
    internal id; ``currencies`` ISO code -> currency internal id; ``items`` canonical price or
    product global ids, or their native ids in other systems (a Stripe ``price_...``), -> item
    internal id; ``tax_codes`` legal entity name, subsidiary internal id or ``default`` -> tax
    code internal id (``exempt``: the code for documents without tax).
    """

    connection: str
    account: str | None = None
    subsidiaries: Mapping[str, str] = field(default_factory=dict)
    default_subsidiary: str | None = None
    currencies: Mapping[str, str] = field(default_factory=dict)
    items: Mapping[str, str] = field(default_factory=dict)
    default_item: str | None = None
    discount_item: str | None = None
    tax_codes: Mapping[str, str] = field(default_factory=dict)
    refund_item: str | None = None

    @classmethod
    def parse(cls, connection: str, options: Mapping[str, Any]) -> NetSuiteOptions:
        """Raw options checked by the connector's options model (every problem reported by
        path, as ``config validate`` does), then read by :meth:`from_model`."""
        return cls.from_model(connection, parse_options(NetSuiteOptionsModel, connection, options))

    @classmethod
    def from_model(cls, connection: str, options: NetSuiteOptionsModel) -> NetSuiteOptions:
        """The typed options as lookups by string id (``account_id`` and ``subsidiary_id`` are
        accepted as the older spellings of ``account`` and ``default_subsidiary``)."""
        account = options.account if options.account is not None else options.account_id
        default_subsidiary = (
            options.default_subsidiary
            if options.default_subsidiary is not None
            else options.subsidiary_id
        )
        return cls(
            connection=connection,
            account=_id(account),
            subsidiaries=_ids(options.subsidiaries),
            default_subsidiary=_id(default_subsidiary),
            currencies=_ids(options.currencies),
            items=_ids(options.items),
            default_item=_id(options.default_item),
            discount_item=_id(options.discount_item),
            tax_codes=_ids(options.tax_codes),
            refund_item=_id(options.refund_item),
        )

    def where(self, key: str) -> str:
        return f"connections.{self.connection}.options.{key}"

    def subsidiary_id(self, legal_entity: str | None, *, account: str) -> str:
        if legal_entity is None:
            if self.default_subsidiary is not None:
                return self.default_subsidiary
            raise BusinessRuleError(
                f"account {account} has no legal entity (subsidiary) and connection "
                f"{self.connection!r} has no default subsidiary",
                code="netsuite.missing_subsidiary",
                remediation=(
                    f"Set the account's legal entity in the source system, or set "
                    f"{self.where('default_subsidiary')} to a NetSuite subsidiary id, then retry."
                ),
            )
        found = _lookup(self.subsidiaries, legal_entity)
        if found is None:
            raise BusinessRuleError(
                f"legal entity {legal_entity!r} of account {account} is not mapped to a NetSuite "
                "subsidiary",
                code="netsuite.unmapped_subsidiary",
                remediation=(
                    f"map legal entity {legal_entity} to a NetSuite subsidiary under "
                    f"{self.where('subsidiaries')}, or create it, then retry"
                ),
            )
        return found

    def currency_id(self, currency: str, *, what: str) -> str:
        found = _lookup(self.currencies, currency)
        if found is None:
            raise BusinessRuleError(
                f"currency {currency} of {what} is not mapped to a NetSuite currency",
                code="netsuite.unmapped_currency",
                remediation=(
                    f"map {currency} to its NetSuite currency internal id under "
                    f"{self.where('currencies')} (enable the currency in NetSuite first: "
                    "Lists > Accounting > Currencies), then retry"
                ),
            )
        return found

    def item_id(self, candidates: Iterable[str | None], *, what: str) -> str:
        keys = [key for key in candidates if key]
        for key in keys:
            if key in self.items:
                return self.items[key]
        if self.default_item is not None:
            return self.default_item
        shown = ", ".join(keys) or "(no price or product id)"
        raise BusinessRuleError(
            f"{what} has no NetSuite item: none of {shown} is mapped",
            code="netsuite.unmapped_item",
            remediation=(
                f"map one of {shown} to a NetSuite item internal id under "
                f"{self.where('items')} (canonical or Stripe price/product id), or set "
                f"{self.where('default_item')}, then retry"
            ),
        )

    def tax_code_id(self, subsidiary: str) -> str | None:
        """The tax code for documents of subsidiary ``subsidiary`` (internal id): keyed by that
        id, by a legal entity mapped to it, or ``default``."""
        if subsidiary in self.tax_codes:
            return self.tax_codes[subsidiary]
        for legal_entity, sub_id in self.subsidiaries.items():
            if sub_id == subsidiary and legal_entity in self.tax_codes:
                return self.tax_codes[legal_entity]
        return self.tax_codes.get("default")


def _lookup(table: Mapping[str, str], key: str) -> str | None:
    """Exact match first; then case- and space-insensitive (config keys are typed by people)."""
    if key in table:
        return table[key]
    folded = " ".join(key.split()).casefold()
    for name, value in table.items():
        if " ".join(name.split()).casefold() == folded:
            return value
    return None


# -- values ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NetSuiteRecord:
    """One record to write: its REST type, its external id (our global id), its body and the
    mapping (``name@version``) that shaped it."""

    record_type: str
    external_id: str
    body: dict[str, Any]
    mapping: str


def _apply(
    mapping: CompiledMapping | None,
    entity: str,
    record: Mapping[str, Any],
    options: NetSuiteOptions,
) -> tuple[dict[str, Any], str]:
    """``entity`` of ``mapping`` (default: the shipped ``netsuite_outbound``) for ``record``."""
    mapping = or_shipped(mapping, "netsuite", "outbound")
    body = mapping.apply(entity, record, options=dataclasses.asdict(options))
    return body, mapping.ref


def parse_canonical(model: type[M], data: Any, what: str) -> M:
    """Validate a canonical entity handed to a step; a bad one parks with a clear message
    (a ``ValidationError`` would surface as an unclassified bug)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}"
            for err in exc.errors()[:5]
        )
        raise BusinessRuleError(
            f"{what} is not a valid canonical {model.__name__}: {problems}",
            code="netsuite.invalid_canonical",
            remediation=(
                f"The {model.__name__} produced by the inbound mapping is invalid; fix the source "
                "record or the inbound mapping, then retry."
            ),
        ) from None


def amount(money: Money) -> int | float:
    """The JSON number for ``money``, whose text is exactly its decimal (``12.34``, ``1500``).

    Floats print as the shortest text that reads back to them, so any amount of up to 15
    significant digits goes out exactly; larger ones, and fractions NetSuite cannot hold, are
    refused rather than rounded.
    """
    text = money.to_decimal_string()
    exact = Decimal(text)
    if money.exponent == 0:
        return int(exact)
    if exact != exact.quantize(Decimal(1).scaleb(-NETSUITE_MAX_DECIMALS)):
        raise BusinessRuleError(
            f"{money} has more decimals than NetSuite keeps ({NETSUITE_MAX_DECIMALS})",
            code="netsuite.amount_precision",
            remediation=(
                f"NetSuite rounds {money.currency} to {NETSUITE_MAX_DECIMALS} decimals; book this "
                "document by hand in NetSuite, then resolve the exception."
            ),
        )
    value = float(text)
    if Decimal(repr(value)) != exact:
        raise BusinessRuleError(
            f"{money} is too large to send exactly",
            code="netsuite.amount_range",
            remediation="Book this document by hand in NetSuite, then resolve the exception.",
        )
    return value


def _ref(internal_id: str) -> dict[str, str]:
    return {"id": internal_id}


def format_address(address: Address) -> str:
    """The address as NetSuite prints it (``defaultAddress`` text: one part per line)."""
    city_line = " ".join(p for p in (address.city, address.region, address.postal_code) if p)
    parts = [address.line1, address.line2, city_line, address.country]
    return "\n".join(p for p in parts if p)


def _text(value: str) -> str:
    return value if len(value) <= _TEXT_MAX else value[: _TEXT_MAX - 1] + "…"


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


# -- customer --------------------------------------------------------------------------------


def customer_record(
    account: Account, options: NetSuiteOptions, *, mapping: CompiledMapping | None = None
) -> NetSuiteRecord:
    """Account -> ``customer`` (a company, not a person)."""
    body, ref = _apply(mapping, "customer", account.model_dump(mode="json"), options)
    return NetSuiteRecord("customer", account.global_id, body, ref)


# -- sales order -----------------------------------------------------------------------------


def _aliases(keys: Sequence[str | None], aliases: Mapping[str, Sequence[str]]) -> list[str]:
    out: list[str] = []
    for key in keys:
        if key:
            out.append(key)
            out.extend(aliases.get(key, ()))
    return out


def sales_order_record(
    subscription: Subscription,
    options: NetSuiteOptions,
    *,
    customer_id: str,
    item_aliases: Mapping[str, Sequence[str]] | None = None,
    mapping: CompiledMapping | None = None,
) -> NetSuiteRecord:
    """Subscription -> ``salesOrder``: one line per subscription item at the charged unit price.

    The subsidiary is not sent: NetSuite takes it from the customer (and refuses another one).
    The lines carry the amount per billing period; NetSuite bills on month-based schedules, so
    a period of days or weeks cannot be represented and parks (any count of months or years,
    e.g. every two years, is fine).
    """
    period = subscription.period
    if period.months is None:
        raise BusinessRuleError(
            f"subscription {subscription.global_id} bills {period.describe()}; NetSuite sales "
            "orders bill on month-based schedules",
            code="netsuite.interval_unsupported",
            remediation=(
                "Move the subscription to a monthly or yearly interval (any count) in the "
                "billing system, or enter this order in NetSuite by hand (with a billing "
                "schedule that fits) and resolve this exception."
            ),
        )
    aliases = item_aliases or {}
    lines = []
    for item in subscription.items:
        candidates = _aliases([item.price_id, item.product_id], aliases)
        lines.append(
            {
                "item": _ref(
                    options.item_id(candidates, what=f"subscription item {item.global_id}")
                ),
                "quantity": item.quantity,
                "rate": amount(item.unit_amount),
                "amount": amount(item.amount),
            }
        )
    record = {
        "subscription": subscription.model_dump(mode="json"),
        "customer_id": customer_id,
        "lines": lines,
    }
    body, ref = _apply(mapping, "sales_order", record, options)
    return NetSuiteRecord("salesOrder", subscription.global_id, body, ref)


def sales_order_close_body(end_date: date | None, line_numbers: Iterable[int]) -> dict[str, Any]:
    """Closing a sales order: every line ``isClosed`` (what the UI's Close button does; NetSuite
    then shows the order as Closed), and the service end date."""
    body: dict[str, Any] = {
        "item": {"items": [{"line": n, "isClosed": True} for n in line_numbers]},
    }
    if end_date is not None:
        body["endDate"] = end_date.isoformat()
    return body


# -- invoice and credit memo -----------------------------------------------------------------


def _billing_lines(
    lines: Sequence[BillingLine],
    options: NetSuiteOptions,
    aliases: Mapping[str, Sequence[str]],
    *,
    tax_code: str | None,
    discount: Money,
    document: str,
) -> list[dict[str, Any]]:
    out = []
    for line in lines:
        candidates = _aliases([line.price_id, line.product_id], aliases)
        item = options.item_id(candidates, what=f"{document} line {line.global_id}")
        body: dict[str, Any] = {
            "item": _ref(item),
            "quantity": line.quantity,
            "amount": amount(line.amount),
            "description": _text(line.description),
        }
        # The rate only when it explains the amount: a prorated or tiered line's amount is the
        # figure the customer saw, and NetSuite derives the rate from it.
        if line.unit_amount is not None and line.unit_amount * line.quantity == line.amount:
            body["rate"] = amount(line.unit_amount)
        if tax_code is not None:
            body["taxCode"] = _ref(tax_code)
        out.append(body)
    if not discount.is_zero:
        if options.discount_item is None:
            raise BusinessRuleError(
                f"{document} carries a discount of {discount} and connection "
                f"{options.connection!r} has no discount item",
                code="netsuite.unmapped_discount",
                remediation=(
                    "create a Discount item in NetSuite and set its internal id as "
                    f"{options.where('discount_item')}, then retry"
                ),
            )
        line_body: dict[str, Any] = {
            "item": _ref(options.discount_item),
            "amount": amount(-discount),
            "description": "Discount",
        }
        if tax_code is not None:
            line_body["taxCode"] = _ref(tax_code)
        out.append(line_body)
    if not out:
        raise BusinessRuleError(
            f"{document} has no lines",
            code="netsuite.no_lines",
            remediation=(
                "NetSuite needs at least one line per transaction: send the document with its "
                "lines from the billing system (or book it by hand), then retry or resolve."
            ),
        )
    return out


def expected_tax_minor(line_amounts_minor: Iterable[int], rate_percent: Decimal) -> int:
    """Tax NetSuite computes with one tax code: per line, rounded half up to the minor unit."""
    total = 0
    for minor in line_amounts_minor:
        tax = (Decimal(minor) * rate_percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        total += int(tax)
    return total


def taxable_amounts_minor(lines: Sequence[BillingLine], discount: Money) -> list[int]:
    """The net line amounts NetSuite will tax: the lines, then the discount line."""
    amounts = [line.amount.amount_minor for line in lines]
    if not discount.is_zero:
        amounts.append(-discount.amount_minor)
    return amounts


def invoice_record(
    invoice: Invoice,
    options: NetSuiteOptions,
    *,
    customer_id: str,
    sales_order_id: str | None = None,
    item_aliases: Mapping[str, Sequence[str]] | None = None,
    tax_code: str | None = None,
    mapping: CompiledMapping | None = None,
) -> NetSuiteRecord:
    """Invoice -> ``invoice``: our lines (never the sales order's), created from the sales order
    when it is known, dated and due as in billing."""
    options.currency_id(invoice.currency, what=f"invoice {invoice.global_id}")  # before lines
    lines = _billing_lines(
        invoice.lines,
        options,
        item_aliases or {},
        tax_code=tax_code,
        discount=invoice.discount_total,
        document=f"invoice {invoice.global_id}",
    )
    periods = [line for line in invoice.lines if line.period_start and line.period_end]
    record = {
        "invoice": invoice.model_dump(mode="json"),
        "customer_id": customer_id,
        "sales_order_id": sales_order_id,
        "lines": lines,
        "start_date": _iso(min(line.period_start for line in periods if line.period_start))
        if periods
        else None,
        "end_date": _iso(max(line.period_end for line in periods if line.period_end))
        if periods
        else None,
    }
    body, ref = _apply(mapping, "invoice", record, options)
    return NetSuiteRecord("invoice", invoice.global_id, body, ref)


def credit_memo_record(
    credit_note: CreditNote,
    options: NetSuiteOptions,
    *,
    customer_id: str,
    invoice_id: str | None = None,
    apply_amount: Money | None = None,
    item_aliases: Mapping[str, Sequence[str]] | None = None,
    tax_code: str | None = None,
    mapping: CompiledMapping | None = None,
) -> NetSuiteRecord:
    """CreditNote -> ``creditMemo`` created from, and applied to, its invoice.

    ``apply_amount`` is what may still be applied to the invoice (the caller reads it from
    NetSuite); None or zero leaves the credit unapplied, as customer credit.
    """
    what = f"credit note {credit_note.global_id}"
    options.currency_id(credit_note.currency, what=what)  # refused before the lines are
    lines = _billing_lines(
        credit_note.lines,
        options,
        item_aliases or {},
        tax_code=tax_code,
        discount=credit_note.discount_total,
        document=what,
    )
    apply: list[dict[str, Any]] | None = None
    if invoice_id is not None:
        apply = []
        if apply_amount is not None and apply_amount.is_positive:
            applied = min(apply_amount, credit_note.total)
            apply.append({"doc": _ref(invoice_id), "apply": True, "amount": amount(applied)})
    record = {
        "credit_note": credit_note.model_dump(mode="json"),
        "customer_id": customer_id,
        "invoice_id": invoice_id,
        "lines": lines,
        "apply": apply,
    }
    body, ref = _apply(mapping, "credit_memo", record, options)
    return NetSuiteRecord("creditMemo", credit_note.global_id, body, ref)


# -- payments --------------------------------------------------------------------------------


def customer_payment_record(
    payment: Payment,
    options: NetSuiteOptions,
    *,
    customer_id: str,
    invoice_ids: Mapping[str, str],
    apply_limits: Mapping[str, Money] | None = None,
    external_id: str | None = None,
    tran_date: date | None = None,
    mapping: CompiledMapping | None = None,
) -> NetSuiteRecord:
    """Payment -> ``customerPayment`` applied to its invoices (``invoice_ids``: canonical invoice
    global id -> NetSuite internal id). ``apply_limits`` caps what is applied to an invoice
    (what is due on it); the rest of the payment stays unapplied, as customer credit, and a
    line with nothing to apply is sent with ``apply: false``."""
    limits = apply_limits or {}
    apply: list[dict[str, Any]] = []
    for application in payment.applied_to:
        applied = application.amount
        limit = limits.get(application.invoice_id)
        if limit is not None and limit.amount_minor < applied.amount_minor:
            applied = limit
        line: dict[str, Any] = {"doc": _ref(invoice_ids[application.invoice_id])}
        if applied.is_positive:
            line |= {"apply": True, "amount": amount(applied)}
        else:
            line["apply"] = False
        apply.append(line)
    day = tran_date or (payment.received_at.date() if payment.received_at else None)
    record = {
        "payment": payment.model_dump(mode="json"),
        "customer_id": customer_id,
        "apply": apply,
        "tran_date": _iso(day),
    }
    body, ref = _apply(mapping, "customer_payment", record, options)
    return NetSuiteRecord("customerPayment", external_id or payment.global_id, body, ref)


def dunning_fields(
    attempt_count: int, reason: str | None, *, mapping: CompiledMapping | None = None
) -> dict[str, Any]:
    """The invoice's dunning state after a failed collection attempt (the mapping's
    ``dunning`` entity: ``custbody_dunning_status`` and ``custbody_dunning_attempts``)."""
    options = NetSuiteOptions(connection="")
    record = {"attempt_count": attempt_count, "reason": reason}
    return _apply(mapping, "dunning", record, options)[0]

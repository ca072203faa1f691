"""Actions on NetSuite, written as engine steps: ``(StepContext, connection, *args) -> JSON``.

Every write is idempotent by external id (our global id): records are upserted with
``PUT {type}/eid:{global id}``, transactions with their sublists *replaced* (``?replace=item``),
so a retry never appends lines twice and no read is needed first. References (customer, sales
order, invoice) come from the cross-reference (``refs``); NetSuite is asked only when a global
id is unlinked or its link is stale. Each step returns a ``ledger`` block, links the NetSuite
internal id in the cross-reference store and, for invoices, payments and credit memos, declares
an audit-trail write with the amount and currency (``audit_write``; the runtime records it).
Each write step has a probe (``probe_*``: read by external id after an uncertain outcome, and
say whether *this* version landed) and, where a write can be undone, a compensation
(``void_*``).

Oracle: "Using the Upsert Operation" (section_156335203191), "Using External IDs"
(section_156334828635), "Working with Sublists" (book_1559132836); SuiteQL
(section_157909186990) for sales order lines.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from syncwright.connectors import audit_write, connector_for, ledger_block
from syncwright.connectors._base.payments import payment_to_book
from syncwright.connectors.netsuite._errors import is_over_application
from syncwright.connectors.netsuite.client import NetSuiteClient
from syncwright.connectors.netsuite.mapping import (
    DUNNING_STATUS_FIELD,
    NetSuiteRecord,
    credit_memo_record,
    customer_payment_record,
    customer_record,
    dunning_fields,
    expected_tax_minor,
    invoice_record,
    parse_canonical,
    sales_order_close_body,
    sales_order_record,
    taxable_amounts_minor,
)
from syncwright.connectors.netsuite.partial import write_record
from syncwright.connectors.netsuite.refs import (
    ACCOUNT,
    CREDIT_NOTE,
    INVOICE,
    PAYMENT,
    SUBSCRIPTION,
    Ref,
    Resolver,
    customer_id,
    invoice_ref,
    open_invoice,
    sales_order_id,
    with_fresh_refs,
)
from syncwright.engine import StepContext
from syncwright.errors import BusinessRuleError
from syncwright.model import (
    Account,
    BillingLine,
    CreditNote,
    Invoice,
    Money,
    Payment,
    Subscription,
)

if TYPE_CHECKING:  # the connector imports this module to declare its actions
    from syncwright.connectors.netsuite.connector import NetSuiteConnector

__all__ = [
    "apply_payment",
    "close_sales_order",
    "mark_dunning",
    "probe_apply_payment",
    "probe_close_sales_order",
    "probe_credit_memo",
    "probe_customer",
    "probe_invoice",
    "probe_mark_dunning",
    "probe_sales_order",
    "upsert_credit_memo",
    "upsert_customer",
    "upsert_invoice",
    "upsert_sales_order",
    "void_credit_memo",
    "void_invoice",
    "void_payment",
    "void_sales_order",
]

JSON = dict[str, Any]
_RETRY = "then retry the exception"


# -- plumbing --------------------------------------------------------------------------------


def _connector(ctx: StepContext, connection: str) -> NetSuiteConnector:
    from syncwright.connectors.netsuite.connector import NetSuiteConnector  # it imports this module

    return connector_for(ctx, connection, NetSuiteConnector, label="NetSuite")


def _decimal(value: Any) -> Decimal | None:
    """A NetSuite number (JSON float or string) as an exact decimal of its text."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _ref_id(value: Any) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("id")
    return None if value is None else str(value)


def _same_total(record: Mapping[str, Any], field: str, expected: Money) -> bool:
    return _decimal(record.get(field)) == expected.to_decimal()


def _money(record: Mapping[str, Any], field: str, currency: str) -> Money | None:
    value = _decimal(record.get(field))
    if value is None:
        return None
    try:
        return Money.from_decimal_string(format(value.normalize(), "f"), currency)
    except ValueError:  # more decimals than the currency has: not a figure we can carry
        return None


def _ref_of(connector: NetSuiteConnector) -> str:
    """The connection's outbound mapping (``name@version``), for bodies built here."""
    return connector.mapping("outbound").ref


def _result(
    connection: str,
    entity_type: str,
    record: NetSuiteRecord,
    native_id: str,
    *,
    fields: Mapping[str, Any] | None = None,
    **extra: Any,
) -> JSON:
    return {
        "native_id": native_id,
        "record_type": record.record_type,
        "external_id": record.external_id,
        **extra,
        "ledger": ledger_block(
            connection,
            entity_type,
            record.external_id,
            native_id,
            record.body,
            mapping_version=record.mapping,
            fields=fields,
        ),
    }


def _link(
    ctx: StepContext, entity_type: str, global_id: str, connection: str, native_id: str
) -> None:
    ctx.services.xref.link(entity_type, global_id, connection, native_id)


def _booked(
    ctx: StepContext,
    connection: str,
    record: NetSuiteRecord,
    native_id: str,
    total: Money,
    entity_type: str,
) -> None:
    """A financial document NetSuite holds (written now, or found by a probe): linked to its
    global id, and audited as ``netsuite.<record type>.upsert``."""
    _link(ctx, entity_type, record.external_id, connection, native_id)
    action = f"netsuite.{record.record_type}.upsert"
    _audit(ctx, connection, action, native_id, total, record.body)


def _audit(
    ctx: StepContext, connection: str, action: str, native_id: str, total: Money, body: Any
) -> None:
    """Declare a financially relevant write; the runtime records it in the audit trail, once
    per run (a probe that finds a write its step already declared adds nothing)."""
    audit_write(
        ctx,
        connection,
        action,
        native_id,
        body,
        amount_minor=total.amount_minor,
        currency=total.currency,
    )


def _write(client: NetSuiteClient, record: NetSuiteRecord, *, replace: Sequence[str]) -> str:
    """Create or update ``record`` by external id in one request: an upsert (PUT eid:) that
    replaces the sublists in ``replace``. NetSuite merges sublist lines on update unless told
    to replace them; replaced, a repeated upsert (a retry, a replay) leaves the same record, so
    no read is needed first to choose between create and update."""
    return client.upsert_by_external_id(
        record.record_type, record.external_id, record.body, replace=replace
    )


def _due(
    invoice: Mapping[str, Any], document: Mapping[str, Any] | None, currency: str
) -> Money | None:
    """What is still due on ``invoice`` for ``document`` (a payment or credit memo applied to
    it): on an update, what the document applied already counts as due again."""
    due = _money(invoice, "amountRemaining", currency)
    already = _money(document, "applied", currency) if document is not None else None
    return due + already if due is not None and already is not None else due


def _item_aliases(ctx: StepContext, keys: Iterable[tuple[str, str | None]]) -> dict[str, list[str]]:
    """Native ids in other systems (a Stripe ``price_...``) of canonical prices and products,
    so ``options.items`` may be keyed by either."""
    aliases: dict[str, list[str]] = {}
    for entity_type, global_id in keys:
        if global_id and global_id not in aliases:
            aliases[global_id] = sorted(
                set(ctx.services.xref.links(entity_type, global_id).values())
            )
    return aliases


def _line_aliases(ctx: StepContext, lines: Iterable[BillingLine]) -> dict[str, list[str]]:
    keys: list[tuple[str, str | None]] = []
    for line in lines:
        keys += [("price", line.price_id), ("product", line.product_id)]
    return _item_aliases(ctx, keys)


def _tax_code(
    connector: NetSuiteConnector, customer_id: str, document: Invoice | CreditNote, what: str
) -> str | None:
    """The tax code for a document's lines, checked *before* writing: the tax NetSuite will
    compute with it must equal the tax billing charged, or the ERP would book another total."""
    options = connector.options
    tax_total, lines, discount = document.tax_total, document.lines, document.discount_total
    tax_inclusive = document.tax_inclusive
    if tax_total.is_zero:
        return options.tax_codes.get("exempt")
    where = f"connections.{connector.name}.options.tax_codes"
    if tax_inclusive:
        raise BusinessRuleError(
            f"{what} has tax-inclusive amounts; NetSuite lines are net of tax",
            code="netsuite.tax_inclusive",
            remediation=(
                "Mapping netsuite_outbound books tax-exclusive documents only: book this one by "
                "hand in NetSuite, then resolve the exception."
            ),
        )
    subsidiary = connector.customer_subsidiary(customer_id)
    code = options.tax_code_id(subsidiary)
    if code is None:
        raise BusinessRuleError(
            f"{what} carries tax {tax_total} but no tax code is mapped for subsidiary {subsidiary}",
            code="netsuite.unmapped_tax_code",
            remediation=(
                f"map subsidiary {subsidiary} (or 'default') to a NetSuite tax code under "
                f"{where}, {_RETRY}"
            ),
        )
    rate = connector.tax_rate(code)
    expected = expected_tax_minor(taxable_amounts_minor(lines, discount), rate)
    if expected != tax_total.amount_minor:
        computed = Money.of(expected, tax_total.currency)
        raise BusinessRuleError(
            f"{what}: tax code {code} ({rate}%) gives {computed} but billing charged {tax_total}",
            code="netsuite.tax_mismatch",
            remediation=(
                f"Map subsidiary {subsidiary} to the tax code with the rate billing used under "
                f"{where} (or fix the tax rate in billing), {_RETRY}."
            ),
        )
    return code


def _check_total(record: Mapping[str, Any], expected: Money, what: str, native_id: str) -> None:
    if not _same_total(record, "total", expected):
        raise BusinessRuleError(
            f"NetSuite booked {what} (internal id {native_id}) with total {record.get('total')} "
            f"but the canonical total is {expected}",
            code="netsuite.total_mismatch",
            remediation=(
                f"NetSuite added or changed amounts (tax defaults, item pricing): correct {what} "
                f"in NetSuite or the tax/item mapping, {_RETRY}."
            ),
        )


# -- customer --------------------------------------------------------------------------------


def upsert_customer(ctx: StepContext, connection: str, account: JSON) -> JSON:
    """Account -> NetSuite customer, upserted by external id = account global id; a customer
    syncwright wrote before gets a PATCH of only the fields that changed since (``partial``).
    The result says how (``write``: upsert, patch or unchanged) and which fields were sent."""
    connector = _connector(ctx, connection)
    parsed = parse_canonical(Account, account, "account")
    record = customer_record(parsed, connector.options, mapping=connector.mapping("outbound"))
    linked = ctx.services.xref.native_id_for(ACCOUNT, parsed.global_id, connection)
    written = write_record(ctx, connector, record, linked)
    _link(ctx, ACCOUNT, parsed.global_id, connection, written.native_id)
    connector.remember_customer_subsidiary(
        written.native_id, _ref_id(record.body.get("subsidiary"))
    )
    return _result(
        connection,
        ACCOUNT,
        dataclasses.replace(record, body=written.sent),
        written.native_id,
        fields=_customer_fields(parsed),
        write=written.how,
        sent_fields=sorted(written.sent),
    )


# The canonical account fields a customer record carries (customer_record), remembered as
# written for echo suppression.
_CUSTOMER_FIELDS = (
    "name",
    "legal_name",
    "subsidiary",
    "status",
    "currency",
    "billing_email",
    "bill_to",
    "tax_ids",
)


def _customer_fields(account: Account) -> JSON:
    canonical = account.model_dump(mode="json")
    return {name: canonical[name] for name in _CUSTOMER_FIELDS}


def probe_customer(ctx: StepContext, connection: str, account: JSON) -> JSON | None:
    """Did this version of the customer land? (name and subsidiary match)"""
    connector = _connector(ctx, connection)
    parsed = parse_canonical(Account, account, "account")
    record = customer_record(parsed, connector.options, mapping=connector.mapping("outbound"))
    found = connector.client.get_by_external_id("customer", record.external_id)
    if found is None:
        return None
    if found.get("companyName") != record.body["companyName"] or _ref_id(
        found.get("subsidiary")
    ) != _ref_id(record.body["subsidiary"]):
        return None
    native_id = str(found["id"])
    _link(ctx, ACCOUNT, parsed.global_id, connection, native_id)
    return _result(connection, ACCOUNT, record, native_id, fields=_customer_fields(parsed))


# -- sales order -----------------------------------------------------------------------------


def _sales_order(
    refs: Resolver, subscription: JSON, customer_ref: Ref
) -> tuple[Subscription, NetSuiteRecord]:
    ctx, connector = refs.ctx, refs.connector
    parsed = parse_canonical(Subscription, subscription, "subscription")
    customer = customer_id(refs, customer_ref, parsed.account_id)
    keys: list[tuple[str, str | None]] = []
    for item in parsed.items:
        keys += [("price", item.price_id), ("product", item.product_id)]
    record = sales_order_record(
        parsed,
        connector.options,
        customer_id=customer,
        item_aliases=_item_aliases(ctx, keys),
        mapping=connector.mapping("outbound"),
    )
    return parsed, record


def _sales_order_result(
    connection: str, parsed: Subscription, record: NetSuiteRecord, native_id: str
) -> JSON:
    total = parsed.recurring_amount
    return _result(
        connection,
        SUBSCRIPTION,
        record,
        native_id,
        total=total.model_dump(mode="json"),
        lines=len(parsed.items),
    )


def upsert_sales_order(
    ctx: StepContext, connection: str, subscription: JSON, customer_ref: Ref = None
) -> JSON:
    """Subscription -> NetSuite sales order (external id = subscription global id).

    ``customer_ref``: the ``upsert_customer`` result, ``{"id": ...}``, ``{"externalId": ...}``
    or an account global id; None looks up the subscription's account.
    """
    connector = _connector(ctx, connection)

    def write(refs: Resolver) -> tuple[Subscription, NetSuiteRecord, str]:
        parsed, record = _sales_order(refs, subscription, customer_ref)
        return parsed, record, _write(connector.client, record, replace=("item",))

    parsed, record, native_id = with_fresh_refs(ctx, connector, write)
    _link(ctx, SUBSCRIPTION, parsed.global_id, connection, native_id)
    return _sales_order_result(connection, parsed, record, native_id)


def probe_sales_order(
    ctx: StepContext, connection: str, subscription: JSON, customer_ref: Ref = None
) -> JSON | None:
    connector = _connector(ctx, connection)
    parsed, record = _sales_order(Resolver(ctx, connector), subscription, customer_ref)
    found = connector.client.get_by_external_id("salesOrder", record.external_id)
    if found is None or not _same_total(found, "subtotal", parsed.recurring_amount):
        return None
    if _ref_id(found.get("currency")) != _ref_id(record.body["currency"]):
        return None
    native_id = str(found["id"])
    _link(ctx, SUBSCRIPTION, parsed.global_id, connection, native_id)
    return _sales_order_result(connection, parsed, record, native_id)


def _order_lines(client: NetSuiteClient, order_id: str) -> list[tuple[int, bool]]:
    """(line, closed) of a sales order, by SuiteQL (the record GET collapses sublists)."""
    if not order_id.isdigit():  # it goes into a query: internal ids are digits
        raise BusinessRuleError(
            f"unexpected NetSuite internal id {order_id!r}",
            code="netsuite.bad_internal_id",
            remediation="Check the sales order link in the trace, then retry the exception.",
        )
    rows = client.suiteql(
        f"SELECT id, isclosed FROM transactionline WHERE transaction = {order_id} ORDER BY id"  # noqa: S608
    )
    lines = []
    for row in rows:
        line = str(row.get("id", ""))
        if line.isdigit() and int(line) > 0:  # 0 is the main line in NetSuite
            lines.append((int(line), row.get("isclosed") == "T"))
    return lines


def _end_date(parsed: Subscription, effective_date: str | None) -> dt.date | None:
    end: dt.date | None
    if effective_date:
        end = dt.date.fromisoformat(effective_date)
    elif parsed.cancel_at_period_end and parsed.term_end is not None:
        end = parsed.term_end
    elif parsed.cancelled_at is not None:
        end = parsed.cancelled_at.astimezone(dt.UTC).date()
    else:
        end = parsed.term_end
    return max(end, parsed.term_start) if end is not None else None


def _open_order(refs: Resolver, parsed: Subscription) -> str:
    connector = refs.connector
    found = refs.native_id(SUBSCRIPTION, "salesOrder", parsed.global_id)
    if found is None:
        raise BusinessRuleError(
            f"subscription {parsed.global_id} has no sales order in NetSuite ({connector.name})",
            code="netsuite.sales_order_not_found",
            remediation=(
                "Nothing to close: if the subscription should have reached NetSuite, replay its "
                "activation first and retry; if it never did, resolve this exception."
            ),
        )
    return found


def close_sales_order(
    ctx: StepContext, connection: str, subscription: JSON, effective_date: str | None = None
) -> JSON:
    """Cancellation: close every line of the subscription's sales order (no more billing or
    fulfilment from it) and set its end date (``effective_date``, else the end of term when
    cancelling at period end, else the cancellation date)."""
    connector = _connector(ctx, connection)
    parsed = parse_canonical(Subscription, subscription, "subscription")
    end = _end_date(parsed, effective_date)

    def close(refs: Resolver) -> tuple[str, list[tuple[int, bool]], JSON]:
        native_id = _open_order(refs, parsed)
        lines = _order_lines(connector.client, native_id)
        body = sales_order_close_body(end, [line for line, _closed in lines])
        connector.client.update("salesOrder", native_id, body)
        return native_id, lines, body

    native_id, lines, body = with_fresh_refs(ctx, connector, close)
    _link(ctx, SUBSCRIPTION, parsed.global_id, connection, native_id)
    record = NetSuiteRecord("salesOrder", parsed.global_id, body, _ref_of(connector))
    return _result(
        connection,
        SUBSCRIPTION,
        record,
        native_id,
        closed_lines=len(lines),
        end_date=end.isoformat() if end else None,
    )


def probe_close_sales_order(
    ctx: StepContext, connection: str, subscription: JSON, effective_date: str | None = None
) -> JSON | None:
    connector = _connector(ctx, connection)
    parsed = parse_canonical(Subscription, subscription, "subscription")
    found = connector.client.get_by_external_id("salesOrder", parsed.global_id)
    if found is None:
        return None
    native_id = str(found["id"])
    lines = _order_lines(connector.client, native_id)
    if not all(closed for _line, closed in lines):
        return None
    end = _end_date(parsed, effective_date)
    body = sales_order_close_body(end, [line for line, _closed in lines])
    record = NetSuiteRecord("salesOrder", parsed.global_id, body, _ref_of(connector))
    return _result(
        connection,
        SUBSCRIPTION,
        record,
        native_id,
        closed_lines=len(lines),
        end_date=end.isoformat() if end else None,
    )


def void_sales_order(
    ctx: StepContext,
    result: JSON,
    connection: str,
    subscription: JSON,
    customer_ref: Ref = None,
) -> None:
    """Compensation for :func:`upsert_sales_order`: delete the order, or -- once invoices hang
    off it and NetSuite refuses the delete -- close all of its lines."""
    connector = _connector(ctx, connection)
    native_id = str(result["native_id"])
    try:
        connector.client.delete("salesOrder", native_id)
    except BusinessRuleError as exc:
        if exc.code == "netsuite.NONEXISTENT_ID":
            return
        if exc.code != "netsuite.USER_ERROR":
            raise
        lines = _order_lines(connector.client, native_id)
        connector.client.update(
            "salesOrder", native_id, sales_order_close_body(None, [n for n, _ in lines])
        )


# -- invoice ---------------------------------------------------------------------------------


def _invoice(
    refs: Resolver, invoice: JSON, customer_ref: Ref, sales_order_ref: Ref
) -> tuple[Invoice, NetSuiteRecord]:
    ctx, connector = refs.ctx, refs.connector
    parsed = parse_canonical(Invoice, invoice, "invoice")
    what = f"invoice {parsed.global_id}"
    customer = customer_id(refs, customer_ref, parsed.account_id)
    order_id = sales_order_id(refs, sales_order_ref, parsed.subscription_id)
    tax_code = _tax_code(connector, customer, parsed, what)
    record = invoice_record(
        parsed,
        connector.options,
        customer_id=customer,
        sales_order_id=order_id,
        item_aliases=_line_aliases(ctx, parsed.lines),
        tax_code=tax_code,
        mapping=connector.mapping("outbound"),
    )
    return parsed, record


def _invoice_result(
    connection: str, parsed: Invoice, record: NetSuiteRecord, found: Mapping[str, Any]
) -> JSON:
    native_id = str(found["id"])
    remaining = _money(found, "amountRemaining", parsed.currency)
    return _result(
        connection,
        INVOICE,
        record,
        native_id,
        total=parsed.total.model_dump(mode="json"),
        status=_ref_id(found.get("status")),
        amount_remaining=remaining.model_dump(mode="json") if remaining else None,
        created_from=_ref_id(record.body.get("createdFrom")),
    )


def upsert_invoice(
    ctx: StepContext,
    connection: str,
    invoice: JSON,
    customer_ref: Ref = None,
    sales_order_ref: Ref = None,
) -> JSON:
    """Invoice -> NetSuite invoice (external id = invoice global id), created from the
    subscription's sales order when NetSuite has it; its total is checked against ours."""
    connector = _connector(ctx, connection)

    def write(refs: Resolver) -> tuple[Invoice, NetSuiteRecord, str]:
        parsed, record = _invoice(refs, invoice, customer_ref, sales_order_ref)
        return parsed, record, _write(connector.client, record, replace=("item",))

    parsed, record, native_id = with_fresh_refs(ctx, connector, write)
    # Read back: what NetSuite booked (total, status, what remains due) is the result.
    found = connector.client.get("invoice", native_id)
    # Audited before the check: the write happened even if NetSuite booked another total.
    _booked(ctx, connection, record, native_id, parsed.total, INVOICE)
    _check_total(found, parsed.total, f"invoice {parsed.global_id}", native_id)
    return _invoice_result(connection, parsed, record, found)


def probe_invoice(
    ctx: StepContext,
    connection: str,
    invoice: JSON,
    customer_ref: Ref = None,
    sales_order_ref: Ref = None,
) -> JSON | None:
    connector = _connector(ctx, connection)
    parsed, record = _invoice(Resolver(ctx, connector), invoice, customer_ref, sales_order_ref)
    found = connector.client.get_by_external_id("invoice", parsed.global_id)
    if found is None or not _same_total(found, "total", parsed.total):
        return None
    _booked(ctx, connection, record, str(found["id"]), parsed.total, INVOICE)
    return _invoice_result(connection, parsed, record, found)


def void_invoice(ctx: StepContext, result: JSON, connection: str, *args: Any) -> None:
    """Compensation for :func:`upsert_invoice`: delete the invoice (NetSuite refuses while a
    payment or credit is applied to it; the compensation then fails and is reported)."""
    connector = _connector(ctx, connection)
    _delete_financial(ctx, connector, "invoice", result)


def _delete_financial(
    ctx: StepContext, connector: NetSuiteConnector, record_type: str, result: JSON
) -> None:
    native_id = str(result["native_id"])
    try:
        connector.client.delete(record_type, native_id)
    except BusinessRuleError as exc:
        if exc.code == "netsuite.NONEXISTENT_ID":
            return
        raise
    total = result.get("total") or result.get("amount")
    if isinstance(total, Mapping):
        money = Money.model_validate(total)
        _audit(ctx, connector.name, f"netsuite.{record_type}.delete", native_id, money, result)


# -- payments --------------------------------------------------------------------------------


def _payment(
    refs: Resolver, document: JSON, payment_id: str | None, *, settled: bool
) -> tuple[Payment, NetSuiteRecord, Mapping[str, Any] | None]:
    """The payment, its NetSuite record, and the payment as NetSuite already has it (if so).

    ``settled=False`` applies the whole payment and reads nothing but references (the usual
    case: the invoice is open for at least the payment); ``settled=True`` reads the invoices
    and the payment itself and applies no more than is due (after NetSuite refused more)."""
    connector = refs.connector
    payment = payment_to_book(document, payment_id, vendor="netsuite", label="NetSuite")
    customer = customer_id(refs, None, payment.account_id)
    existing: Mapping[str, Any] | None = None
    limits: dict[str, Money] = {}
    if settled:
        existing = connector.client.get_by_external_id("customerPayment", payment.global_id)
        invoices = {a.invoice_id: open_invoice(refs, a.invoice_id) for a in payment.applied_to}
        invoice_ids = {key: native_id for key, (native_id, _) in invoices.items()}
        limits = _apply_limits(payment, invoices, existing)
    else:
        invoice_ids = {a.invoice_id: invoice_ref(refs, a.invoice_id)[0] for a in payment.applied_to}
    record = customer_payment_record(
        payment,
        connector.options,
        customer_id=customer,
        invoice_ids=invoice_ids,
        apply_limits=limits,
        mapping=connector.mapping("outbound"),
    )
    return payment, record, existing


def _apply_limits(
    payment: Payment,
    invoices: Mapping[str, tuple[str, Mapping[str, Any]]],
    existing: Mapping[str, Any] | None,
) -> dict[str, Money]:
    """What the payment may apply to its invoice: what is still due on it. Events can arrive
    out of order (a credit note applied before the payment it follows); NetSuite refuses to
    apply more than is due, so the rest stays on the payment, unapplied, as customer credit.

    Only for a payment settling one invoice (every paid invoice): what this payment applied
    before (an update) counts as due again, read from the payment's own ``applied`` total."""
    if len(payment.applied_to) != 1:
        return {}
    [application] = payment.applied_to
    due = _due(invoices[application.invoice_id][1], existing, payment.amount.currency)
    return {} if due is None else {application.invoice_id: due}


def _payment_result(
    connector: NetSuiteConnector, payment: Payment, record: NetSuiteRecord, native_id: str
) -> JSON:
    invoices: dict[str, Any] = {}
    # What NetSuite now says about each invoice the payment settles (for reconciliation).
    for application, line in zip(payment.applied_to, record.body["apply"]["items"], strict=True):
        invoice_native = _ref_id(line["doc"]) or ""
        found = connector.client.get("invoice", invoice_native)
        remaining = _money(found, "amountRemaining", payment.amount.currency)
        invoices[application.invoice_id] = {
            "native_id": invoice_native,
            "status": _ref_id(found.get("status")),
            "amount_remaining": remaining.model_dump(mode="json") if remaining else None,
        }
    return _result(
        connector.name,
        PAYMENT,
        record,
        native_id,
        amount=payment.amount.model_dump(mode="json"),
        invoices=invoices,
    )


def apply_payment(
    ctx: StepContext, connection: str, document: JSON, payment_id: str | None = None
) -> JSON:
    """A succeeded payment -> NetSuite customer payment applied to its invoices.

    ``document`` is a canonical Payment, or a paid Invoice (then one payment for its
    ``amount_paid`` is booked, external id ``payment_id`` or ``<invoice id>.payment``).
    """
    connector = _connector(ctx, connection)

    def write(refs: Resolver) -> tuple[Payment, NetSuiteRecord, str]:
        payment, record, _ = _payment(refs, document, payment_id, settled=False)
        try:
            return payment, record, _write(connector.client, record, replace=("apply",))
        except BusinessRuleError as exc:
            if not is_over_application(exc):
                raise
        # Less is due than the payment (a credit note applied first, or this payment was
        # applied before): read what is due and apply that; the rest stays customer credit.
        payment, record, _ = _payment(refs, document, payment_id, settled=True)
        return payment, record, _write(connector.client, record, replace=("apply",))

    payment, record, native_id = with_fresh_refs(ctx, connector, write)
    _booked(ctx, connection, record, native_id, payment.amount, PAYMENT)
    return _payment_result(connector, payment, record, native_id)


def probe_apply_payment(
    ctx: StepContext, connection: str, document: JSON, payment_id: str | None = None
) -> JSON | None:
    connector = _connector(ctx, connection)
    payment, record, found = _payment(Resolver(ctx, connector), document, payment_id, settled=True)
    if found is None or not _same_total(found, "payment", payment.amount):
        return None
    native_id = str(found["id"])
    _booked(ctx, connection, record, native_id, payment.amount, PAYMENT)
    return _payment_result(connector, payment, record, native_id)


def void_payment(ctx: StepContext, result: JSON, connection: str, *args: Any) -> None:
    """Compensation for :func:`apply_payment`: delete the customer payment, which gives the
    invoices back their open balance."""
    _delete_financial(ctx, _connector(ctx, connection), "customerPayment", result)


def mark_dunning(
    ctx: StepContext,
    connection: str,
    invoice: JSON,
    attempt_count: int,
    reason: str | None = None,
) -> JSON:
    """A failed collection attempt: record the dunning state on the NetSuite invoice
    (``custbody_dunning_status`` text and ``custbody_dunning_attempts``), for collections."""
    connector = _connector(ctx, connection)
    parsed = parse_canonical(Invoice, invoice, "invoice")
    body = dunning_fields(attempt_count, reason, mapping=connector.mapping("outbound"))

    def mark(refs: Resolver) -> str:
        native_id = invoice_ref(refs, parsed.global_id)[0]
        connector.client.update("invoice", native_id, body)
        return native_id

    native_id = with_fresh_refs(ctx, connector, mark)
    record = NetSuiteRecord("invoice", parsed.global_id, body, _ref_of(connector))
    return _result(connection, INVOICE, record, native_id, attempt_count=attempt_count)


def probe_mark_dunning(
    ctx: StepContext,
    connection: str,
    invoice: JSON,
    attempt_count: int,
    reason: str | None = None,
) -> JSON | None:
    connector = _connector(ctx, connection)
    parsed = parse_canonical(Invoice, invoice, "invoice")
    found = connector.client.get_by_external_id("invoice", parsed.global_id)
    body = dunning_fields(attempt_count, reason, mapping=connector.mapping("outbound"))
    if found is None or found.get(DUNNING_STATUS_FIELD) != body[DUNNING_STATUS_FIELD]:
        return None
    record = NetSuiteRecord("invoice", parsed.global_id, body, _ref_of(connector))
    return _result(connection, INVOICE, record, str(found["id"]), attempt_count=attempt_count)


# -- credit memo -----------------------------------------------------------------------------


def _credit_memo(
    refs: Resolver, credit_note: JSON, customer_ref: Ref, *, read_existing: bool
) -> tuple[CreditNote, NetSuiteRecord, dict[str, Any] | None]:
    """The credit note, its NetSuite record, and the memo as NetSuite already has it (if it
    was read: with ``read_existing``, else only when it matters -- see below)."""
    ctx, connector = refs.ctx, refs.connector
    client = connector.client
    parsed = parse_canonical(CreditNote, credit_note, "credit note")
    what = f"credit note {parsed.global_id}"
    customer = customer_id(refs, customer_ref, parsed.account_id)
    existing = None
    if read_existing:
        existing = client.get_by_external_id("creditMemo", parsed.global_id)
    invoice_native: str | None = None
    open_amount: Money | None = None
    if parsed.invoice_id is not None:
        invoice_native, invoice = open_invoice(refs, parsed.invoice_id)
        open_amount = _due(invoice, existing, parsed.currency)
        if not read_existing and (open_amount is None or open_amount < parsed.total):
            # Less is open than the credit: if this memo exists already (a retry, a replay),
            # what it applied counts as open again, so read it; otherwise nothing to ask.
            existing = client.get_by_external_id("creditMemo", parsed.global_id)
            open_amount = _due(invoice, existing, parsed.currency)
    tax_code = _tax_code(connector, customer, parsed, what)
    record = credit_memo_record(
        parsed,
        connector.options,
        customer_id=customer,
        invoice_id=invoice_native,
        apply_amount=open_amount,
        item_aliases=_line_aliases(ctx, parsed.lines),
        tax_code=tax_code,
        mapping=connector.mapping("outbound"),
    )
    return parsed, record, existing


def _credit_memo_result(
    connection: str, parsed: CreditNote, record: NetSuiteRecord, found: Mapping[str, Any]
) -> JSON:
    applied = _money(found, "applied", parsed.currency)
    return _result(
        connection,
        CREDIT_NOTE,
        record,
        str(found["id"]),
        total=parsed.total.model_dump(mode="json"),
        applied=applied.model_dump(mode="json") if applied else None,
        applied_to=_ref_id(record.body.get("createdFrom")),
    )


def upsert_credit_memo(
    ctx: StepContext, connection: str, credit_note: JSON, customer_ref: Ref = None
) -> JSON:
    """CreditNote -> NetSuite credit memo (external id = credit note global id), created from
    its invoice and applied to what is still open on it (the rest stays customer credit)."""
    connector = _connector(ctx, connection)

    def write(refs: Resolver) -> tuple[CreditNote, NetSuiteRecord, str]:
        parsed, record, _ = _credit_memo(refs, credit_note, customer_ref, read_existing=False)
        return parsed, record, _write(connector.client, record, replace=("item", "apply"))

    parsed, record, native_id = with_fresh_refs(ctx, connector, write)
    # Read back: what NetSuite booked (total, what it applied) is the result.
    found = connector.client.get("creditMemo", native_id)
    _booked(ctx, connection, record, native_id, parsed.total, CREDIT_NOTE)
    _check_total(found, parsed.total, f"credit note {parsed.global_id}", native_id)
    return _credit_memo_result(connection, parsed, record, found)


def probe_credit_memo(
    ctx: StepContext, connection: str, credit_note: JSON, customer_ref: Ref = None
) -> JSON | None:
    connector = _connector(ctx, connection)
    refs = Resolver(ctx, connector)
    parsed, record, existing = _credit_memo(refs, credit_note, customer_ref, read_existing=True)
    if existing is None or not _same_total(existing, "total", parsed.total):
        return None
    _booked(ctx, connection, record, str(existing["id"]), parsed.total, CREDIT_NOTE)
    return _credit_memo_result(connection, parsed, record, existing)


def void_credit_memo(ctx: StepContext, result: JSON, connection: str, *args: Any) -> None:
    """Compensation for :func:`upsert_credit_memo`: delete the credit memo (its applications
    go with it, so the invoice is open again)."""
    _delete_financial(ctx, _connector(ctx, connection), "creditMemo", result)

"""Actions on Business Central, written as engine steps: ``(StepContext, connection, *args)``.

Every write is idempotent by a key Business Central keeps: a customer by its number (Code[20],
the account's global id or a digest of it), documents and payment journal lines by their
``externalDocumentNumber`` (Code[35], same rule). A step first looks its record up by that key
(``$filter``), then creates it (documents with their lines, a deep insert) or updates it with
the record's ETag (``If-Match``), replacing the lines of a draft. Sales invoices and credit
memos are posted (``Microsoft.NAV.post``) once their draft's totals equal the canonical ones;
a posted document is never changed (Business Central refuses): it is accepted when its total is
ours, else the step parks. Payments are written as customer payment journal lines applied to
their invoice; posting the journal stays with finance (Business Central's review step), so a
retry always finds the line again. Each write step has a probe and, where Business Central can
undo it, a compensation.

Microsoft: resource pages of customer, salesOrder(+Lines), salesInvoice(+Lines),
salesCreditMemo(+Lines), customerPayment, customerPaymentJournal (API v2.0).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from syncwright.connectors.business_central._steps import (
    ACCOUNT,
    JSON,
    SUBSCRIPTION,
    _aliases,
    _connector,
    _customer,
    _find_document,
    _item,
    _link,
    _parse,
    _result,
    _same_lines,
    _write_document,
    customer_number,
    document_number,
)
from syncwright.engine import StepContext
from syncwright.errors import BusinessRuleError
from syncwright.model import Account, Subscription

if TYPE_CHECKING:
    from syncwright.connectors.business_central.connector import BusinessCentralConnector

__all__ = [
    "close_sales_order",
    "customer_number",
    "document_number",
    "probe_close_sales_order",
    "probe_customer",
    "probe_sales_order",
    "upsert_customer",
    "upsert_sales_order",
    "void_sales_order",
]


# -- customer --------------------------------------------------------------------------------


def _customer_body(
    ctx: StepContext, connector: BusinessCentralConnector, account: Account
) -> tuple[JSON, str]:
    mapping = connector.mapping("outbound")
    record = {
        "account": account.model_dump(mode="json"),
        "tax_area_id": connector.tax_area_id(account.subsidiary),
    }
    return mapping.apply("customer", record), mapping.ref


_NOT_BLOCKED = " "
_CUSTOMER_FIELDS = (
    "name",
    "legal_name",
    "status",
    "currency",
    "billing_email",
    "bill_to",
    "website",
    "tax_ids",
)


def _customer_fields(account: Account) -> JSON:
    canonical = account.model_dump(mode="json")
    return {name: canonical[name] for name in _CUSTOMER_FIELDS}


def _customer_booked(
    ctx: StepContext, connection: str, parsed: Account, record: JSON, body: JSON, ref: str
) -> JSON:
    _link(ctx, ACCOUNT, parsed.global_id, connection, record["id"])
    fields = _customer_fields(parsed)
    number = record["number"]
    return _result(
        connection, ACCOUNT, parsed.global_id, record["id"], body, ref, fields=fields, number=number
    )


def upsert_customer(ctx: StepContext, connection: str, account: JSON) -> JSON:
    """Account -> Business Central customer (number = the account's global id, or a digest)."""
    connector = _connector(ctx, connection)
    parsed: Account = _parse(Account, account, "account")
    body, ref = _customer_body(ctx, connector, parsed)
    client = connector.client
    existing = client.find("customers", "number", body["number"])
    if existing is None:
        record = client.create("customers", body)
    else:
        changed = {k: v for k, v in body.items() if existing.get(k) != v}
        if changed.get("blocked") == _NOT_BLOCKED:
            # A block is the ERP's (finance's credit hold, or dunning): an account update that
            # is not a closure leaves it; only a closed account blocks (All).
            del changed["blocked"]
        record = client.update("customers", existing, changed) if changed else existing
    return _customer_booked(ctx, connection, parsed, record, body, ref)


def probe_customer(ctx: StepContext, connection: str, account: JSON) -> JSON | None:
    connector = _connector(ctx, connection)
    parsed: Account = _parse(Account, account, "account")
    body, ref = _customer_body(ctx, connector, parsed)
    found = connector.client.find("customers", "number", body["number"])
    if found is None or found.get("displayName") != body["displayName"]:
        return None
    return _customer_booked(ctx, connection, parsed, found, body, ref)


# -- sales order -----------------------------------------------------------------------------


def _order_body(
    ctx: StepContext, connector: BusinessCentralConnector, subscription: JSON
) -> tuple[Subscription, JSON, str]:
    parsed: Subscription = _parse(Subscription, subscription, "subscription")
    customer = _customer(ctx, connector, parsed.account_id)
    what = f"subscription {parsed.global_id}"
    lines = []
    for item in parsed.items:
        keys = _aliases(ctx, [("price", item.price_id), ("product", item.product_id)])
        lines.append(
            {
                "lineType": "Item",
                "lineObjectNumber": _item(connector, keys, what),
                "quantity": item.quantity,
                "unitPrice": float(item.unit_amount.to_decimal()),
            }
        )
    mapping = connector.mapping("outbound")
    record = {
        "subscription": parsed.model_dump(mode="json"),
        "customer_id": customer["id"],
        "lines": lines,
    }
    return parsed, mapping.apply("sales_order", record), mapping.ref


def _order_booked(
    ctx: StepContext, connection: str, parsed: Subscription, record: JSON, body: JSON, ref: str
) -> JSON:
    _link(ctx, SUBSCRIPTION, parsed.global_id, connection, record["id"])
    total = parsed.recurring_amount.model_dump(mode="json")
    number = record.get("number")
    return _result(
        connection,
        SUBSCRIPTION,
        parsed.global_id,
        record["id"],
        body,
        ref,
        number=number,
        total=total,
    )


def upsert_sales_order(ctx: StepContext, connection: str, subscription: JSON) -> JSON:
    """Subscription -> sales order (external document No. = subscription global id)."""
    connector = _connector(ctx, connection)
    parsed, body, ref = _order_body(ctx, connector, subscription)
    client = connector.client
    existing = _find_document(client, "salesOrders", parsed.global_id)
    record = _write_document(client, "salesOrders", body, existing)
    return _order_booked(ctx, connection, parsed, record, body, ref)


def probe_sales_order(ctx: StepContext, connection: str, subscription: JSON) -> JSON | None:
    connector = _connector(ctx, connection)
    parsed, body, ref = _order_body(ctx, connector, subscription)
    found = _find_document(connector.client, "salesOrders", parsed.global_id)
    lines = found.get("salesOrderLines") or [] if found is not None else []
    if found is None or not _same_lines(lines, body["salesOrderLines"]):
        return None
    return _order_booked(ctx, connection, parsed, found, body, ref)


def void_sales_order(ctx: StepContext, result: JSON, connection: str, *args: Any) -> None:
    """Compensation for :func:`upsert_sales_order`: delete the order (gone already: done)."""
    client = _connector(ctx, connection).client
    try:
        record = client.get("salesOrders", str(result["native_id"]))
    except BusinessRuleError as exc:
        if exc.code == "business_central.BadRequest_NotFound":
            return
        raise
    client.delete("salesOrders", record)


def _order_to_close(
    ctx: StepContext, connector: BusinessCentralConnector, subscription: JSON
) -> tuple[Subscription, JSON | None]:
    parsed: Subscription = _parse(Subscription, subscription, "subscription")
    return parsed, _find_document(connector.client, "salesOrders", parsed.global_id)


# What a closed line carries: nothing more to ship or invoice.
_CLOSED = {"shipQuantity": 0, "invoiceQuantity": 0}


def _closed(
    ctx: StepContext,
    connector: BusinessCentralConnector,
    parsed: Subscription,
    order: JSON,
    effective_date: str | None,
) -> JSON:
    _link(ctx, SUBSCRIPTION, parsed.global_id, connector.name, order["id"])
    return _result(
        connector.name,
        SUBSCRIPTION,
        parsed.global_id,
        order["id"],
        _CLOSED,
        connector.mapping("outbound").ref,
        closed_lines=len(order.get("salesOrderLines") or []),
        effective_date=effective_date,
    )


def close_sales_order(
    ctx: StepContext, connection: str, subscription: JSON, effective_date: str | None = None
) -> JSON:
    """Cancellation: nothing more is shipped or invoiced from the subscription's sales order
    (every line's ``shipQuantity`` and ``invoiceQuantity`` set to 0). Business Central has no
    "closed" order state in the API; the order stays for finance to archive."""
    connector = _connector(ctx, connection)
    parsed, order = _order_to_close(ctx, connector, subscription)
    if order is None:
        raise BusinessRuleError(
            f"subscription {parsed.global_id} has no sales order in Business Central "
            f"({connection})",
            code="business_central.sales_order_not_found",
            remediation=(
                "Nothing to close: if the subscription should have reached Business Central, "
                "replay its activation first and retry; if it never did, resolve this exception."
            ),
        )
    for line in order.get("salesOrderLines") or []:
        if line.get("shipQuantity") or line.get("invoiceQuantity"):
            connector.client.update_line(
                "salesOrders", order["id"], "salesOrderLines", line, _CLOSED
            )
    return _closed(ctx, connector, parsed, order, effective_date)


def probe_close_sales_order(
    ctx: StepContext, connection: str, subscription: JSON, effective_date: str | None = None
) -> JSON | None:
    connector = _connector(ctx, connection)
    parsed, order = _order_to_close(ctx, connector, subscription)
    if order is None:
        return None
    lines = order.get("salesOrderLines") or []
    if any(line.get("shipQuantity") or line.get("invoiceQuantity") for line in lines):
        return None
    return _closed(ctx, connector, parsed, order, effective_date)

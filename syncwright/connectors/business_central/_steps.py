"""What the Business Central steps share: finding the connector and the customer, items for
lines, writing a document by its external document number, posting it when its totals are
ours, the result and ledger block. See ``outbound.py`` and ``billing.py`` for the steps."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from syncwright.connectors import audit_write, connector_for, ledger_block, parse_canonical
from syncwright.connectors.business_central.client import BusinessCentralClient
from syncwright.connectors.business_central.transforms import business_central_code
from syncwright.engine import StepContext
from syncwright.errors import BusinessRuleError, DependencyMissingError
from syncwright.model import (
    BillingLine,
    Money,
)

if TYPE_CHECKING:  # the connector imports this module to declare its actions
    from syncwright.connectors.business_central.connector import BusinessCentralConnector


JSON = dict[str, Any]
VENDOR = "business_central"
LABEL = "Business Central"
ACCOUNT, SUBSCRIPTION, INVOICE, PAYMENT, CREDIT_NOTE = (
    "account",
    "subscription",
    "invoice",
    "payment",
    "credit_note",
)
_LINES = {
    "salesOrders": "salesOrderLines",
    "salesInvoices": "salesInvoiceLines",
    "salesCreditMemos": "salesCreditMemoLines",
}
# What makes two lines the same (Business Central fills descriptions from the item).
_LINE_FIELDS = ("lineObjectNumber", "quantity", "unitPrice")


def customer_number(global_id: str) -> str:
    return business_central_code(global_id, 20)


def document_number(global_id: str) -> str:
    return business_central_code(global_id, 35)


# -- plumbing --------------------------------------------------------------------------------


def _connector(ctx: StepContext, connection: str) -> BusinessCentralConnector:
    from syncwright.connectors.business_central.connector import BusinessCentralConnector

    return connector_for(ctx, connection, BusinessCentralConnector, label=LABEL)


def _parse(model: Any, data: Any, what: str) -> Any:
    return parse_canonical(model, data, what, vendor=VENDOR, label=LABEL)


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value if value is not None else 0))


def _same(value: Any, money: Money) -> bool:
    return _decimal(value) == money.to_decimal()


def _result(
    connection: str,
    entity_type: str,
    global_id: str,
    native_id: str,
    body: Any,
    mapping: str,
    *,
    fields: Mapping[str, Any] | None = None,
    **extra: Any,
) -> JSON:
    return {
        "native_id": native_id,
        "external_id": global_id,
        **extra,
        "ledger": ledger_block(
            connection,
            entity_type,
            global_id,
            native_id,
            body,
            mapping_version=mapping,
            fields=fields,
        ),
    }


def _link(
    ctx: StepContext, entity_type: str, global_id: str, connection: str, native_id: str
) -> None:
    ctx.services.xref.link(entity_type, global_id, connection, native_id)


def _audit(
    ctx: StepContext, connection: str, action: str, native_id: str, total: Money, body: Any
) -> None:
    audit_write(
        ctx,
        connection,
        action,
        native_id,
        body,
        amount_minor=total.amount_minor,
        currency=total.currency,
    )


def _customer(ctx: StepContext, connector: BusinessCentralConnector, account_id: str) -> JSON:
    """The customer of an account: by its number, else the cross-reference (a customer linked
    by match-and-link keeps its own number); waits for it when Business Central has none."""
    client = connector.client
    found = client.find("customers", "number", customer_number(account_id))
    if found is None:
        known = ctx.services.xref.native_id_for(ACCOUNT, account_id, connector.name)
        if known is not None:
            found = client.get("customers", str(known))
    if found is None:
        raise DependencyMissingError(
            f"account {account_id} has no customer in Business Central ({connector.name})",
            code="business_central.customer_not_synced",
            remediation=(
                f"Sync account {account_id} to Business Central first (upsert_account), or link "
                "the existing customer to it; the exception waits for the customer and retries "
                "by itself once it is there."
            ),
            waits_for={
                "entity_type": ACCOUNT,
                "global_id": account_id,
                "system": connector.name,
                "record_type": "customer",
            },
        )
    return found


def _aliases(ctx: StepContext, keys: Iterable[tuple[str, str | None]]) -> list[str]:
    """Canonical ids and their native ids in other systems (a Stripe ``price_...``), in order."""
    out: list[str] = []
    for entity_type, global_id in keys:
        if not global_id:
            continue
        out.append(global_id)
        out.extend(sorted(set(ctx.services.xref.links(entity_type, global_id).values())))
    return out


def _item(connector: BusinessCentralConnector, candidates: Sequence[str], what: str) -> str:
    options = connector.options
    for key in candidates:
        if key in options.items:
            return options.items[key]
    if options.default_item:
        return options.default_item
    raise BusinessRuleError(
        f"{what}: no Business Central item is mapped for {', '.join(candidates) or 'its product'}",
        code="business_central.unmapped_item",
        remediation=(
            f"Map the price or product under connections.{connector.name}.options.items (or set "
            "options.default_item), then retry the exception."
        ),
    )


def _billing_lines(
    ctx: StepContext, connector: BusinessCentralConnector, lines: Sequence[BillingLine], what: str
) -> list[JSON]:
    out = []
    for line in lines:
        keys = _aliases(ctx, [("price", line.price_id), ("product", line.product_id)])
        quantity = Decimal(str(line.quantity))
        unit = line.unit_amount.to_decimal() if line.unit_amount is not None else None
        if unit is None or unit * quantity != line.amount.to_decimal():
            # Business Central computes amount = quantity x unit price: give it one that holds.
            quantity, unit = Decimal(1), line.amount.to_decimal()
        out.append(
            {
                "lineType": "Item",
                "lineObjectNumber": _item(connector, keys, what),
                "description": (line.description or "")[:100],
                "quantity": float(quantity)
                if quantity != quantity.to_integral()
                else int(quantity),
                "unitPrice": float(unit),
            }
        )
    return out


def _same_lines(existing: Sequence[Mapping[str, Any]], wanted: Sequence[Mapping[str, Any]]) -> bool:
    def key(line: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(
            _decimal(line.get(f)) if f in ("quantity", "unitPrice") else line.get(f)
            for f in _LINE_FIELDS
        )

    return sorted(map(key, existing), key=str) == sorted(map(key, wanted), key=str)


def _write_document(
    client: BusinessCentralClient, entity_set: str, body: JSON, existing: JSON | None
) -> JSON:
    """Create the document with its lines, or update a draft: header by PATCH, lines replaced
    (Business Central merges nothing: lines are deleted and added), so a retry never doubles."""
    lines_name = _LINES[entity_set]
    lines = body[lines_name]
    if existing is None:
        return client.create(entity_set, body)
    header = {k: v for k, v in body.items() if k != lines_name}
    changed = {k: v for k, v in header.items() if existing.get(k) != v}
    record = client.update(entity_set, existing, changed) if changed else existing
    current = existing.get(lines_name)
    if current is None:
        current = client.get(entity_set, existing["id"], expand=lines_name).get(lines_name) or []
    if not _same_lines(current, lines):
        for line in current:
            client.delete_line(entity_set, existing["id"], lines_name, line)
        for line in lines:
            client.add_line(entity_set, existing["id"], lines_name, line)
        record = client.get(entity_set, existing["id"])
    return record


def _find_document(client: BusinessCentralClient, entity_set: str, global_id: str) -> JSON | None:
    return client.find(
        entity_set, "externalDocumentNumber", document_number(global_id), expand=_LINES[entity_set]
    )


def _post_checked(
    ctx: StepContext,
    connector: BusinessCentralConnector,
    entity_set: str,
    record: JSON,
    total: Money,
    tax: Money,
    what: str,
) -> JSON:
    """Post a draft whose totals are ours; a posted one must carry our total."""
    client = connector.client
    if record.get("status") != "Draft":
        if not _same(record.get("totalAmountIncludingTax"), total):
            raise BusinessRuleError(
                f"{what} is already posted in Business Central ({record.get('number')}) with "
                f"total {record.get('totalAmountIncludingTax')}, not {total}",
                code="business_central.posted_differs",
                remediation=(
                    "A posted document cannot change: correct it in Business Central with a "
                    "credit memo (or cancel it), then retry or resolve the exception."
                ),
            )
        return record
    if not _same(record.get("totalAmountIncludingTax"), total):
        raise BusinessRuleError(
            f"{what}: Business Central computes a total of {record.get('totalAmountIncludingTax')} "
            f"(tax {record.get('totalTaxAmount')}) but billing charged {total} (tax {tax}); the "
            f"draft {record.get('number')} is left unposted",
            code="business_central.total_mismatch",
            remediation=(
                "Give the customer the tax area and liability billing used (options.tax_areas for "
                "new customers), or fix the prices of the mapped items, then retry: the draft is "
                "corrected and posted."
            ),
        )
    client.action(entity_set, record["id"], "post")
    return client.get(entity_set, record["id"])

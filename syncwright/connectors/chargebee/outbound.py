"""Chargebee actions used by workflows, as engine steps ``(StepContext, connection, *args)``.

- :func:`read_account`: a read for enrichment (content enricher).
- :func:`create_customer` (probe :func:`probe_customer`): an account becomes a customer.
- :func:`create_subscription` (probe :func:`probe_subscription`, compensation
  :func:`cancel_subscription`): a canonical subscription starts in Chargebee on item prices.

Identity: what we create carries our global id in ``meta_data.syncwright_id``, so a probe finds
a write whose answer was lost and the inbound mapping links it to *our* id. Every create sends
``chargebee-idempotency-key`` (the step's key plus a digest of the parameters), so a retry of
the same request gets Chargebee's saved answer. An account or subscription already linked on
this connection is not created again.
https://apidocs.chargebee.com/docs/api/customers#create_a_customer,
https://apidocs.chargebee.com/docs/api/subscriptions#create_subscription_for_items,
https://apidocs.chargebee.com/docs/api/idempotency
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from syncwright.connectors import (
    audit_write,
    call_timeout,
    connector_for,
    ledger_block,
    parse_canonical,
)
from syncwright.connectors.chargebee.inbound import SYNCWRIGHT_ID_KEY, account_from_customer
from syncwright.engine import StepContext
from syncwright.errors import BusinessRuleError
from syncwright.ledger import request_digest
from syncwright.mapping import CompiledMapping, or_shipped
from syncwright.model import Account, Money, Subscription, SubscriptionItem

if TYPE_CHECKING:  # the connector imports this module to declare its actions
    from syncwright.connectors.chargebee.connector import ChargebeeConnector

__all__ = [
    "cancel_subscription",
    "create_customer",
    "create_subscription",
    "probe_customer",
    "probe_subscription",
    "read_account",
]

JSON = dict[str, Any]
Ref = Mapping[str, Any] | str | None
M = TypeVar("M", bound=BaseModel)

ACCOUNT = "account"
SUBSCRIPTION = "subscription"
SUBSCRIPTION_ITEM = "subscription_item"
PRICE = "price"
PRODUCT = "product"
PROBE_SCAN_LIMIT = 1000
_RETRY = "then retry the exception"
_ENDED = frozenset({"cancelled", "transferred"})


def _connector(ctx: StepContext, connection: str) -> ChargebeeConnector:
    from syncwright.connectors.chargebee.connector import ChargebeeConnector  # imports us

    return connector_for(ctx, connection, ChargebeeConnector, label="Chargebee")


def _parse(model: type[M], data: Any, what: str) -> M:
    return parse_canonical(
        model, data, what, vendor="chargebee", label="Chargebee", retry_hint=_RETRY
    )


def _idempotency_key(ctx: StepContext, params: Mapping[str, Any]) -> str:
    key = f"{ctx.idempotency_key}:{request_digest(params)[:16]}"
    return key if len(key) <= 100 else hashlib.sha256(key.encode()).hexdigest()


def _ours(obj: Mapping[str, Any], global_id: str) -> bool:
    meta = obj.get("meta_data")
    return isinstance(meta, Mapping) and meta.get(SYNCWRIGHT_ID_KEY) == global_id


def _find_ours(
    connector: ChargebeeConnector, resource: str, query: JSON, global_id: str
) -> JSON | None:
    """The newest ``resource`` the list ``query`` returns whose ``meta_data`` names
    ``global_id`` (at most ``PROBE_SCAN_LIMIT`` read: a miss only means a retry, which the
    idempotency key makes safe)."""
    listed = connector.client.iterate(resource, query, limit=PROBE_SCAN_LIMIT)
    return next((found for found in listed if _ours(found, global_id)), None)


def _ledger(
    connector: ChargebeeConnector, entity_type: str, global_id: str, native_id: str, params: Any
) -> JSON:
    return ledger_block(
        connector.name,
        entity_type,
        global_id,
        native_id,
        params,
        mapping_version=connector.mapping("outbound").ref,
    )


def _missing(exc: BusinessRuleError) -> bool:
    return exc.code == "chargebee.resource_not_found"


# -- accounts --------------------------------------------------------------------------------


def read_account(ctx: StepContext, connection: str, account_id: str) -> JSON:
    """The canonical account behind ``account_id``, read from its Chargebee customer.
    https://apidocs.chargebee.com/docs/api/customers#retrieve_a_customer"""
    connector = _connector(ctx, connection)
    customer_id = ctx.services.xref.native_id_for(ACCOUNT, account_id, connection)
    if customer_id is None:
        raise BusinessRuleError(
            f"account {account_id} has no Chargebee customer on connection {connection!r}",
            code="chargebee.account_unlinked",
            remediation="The account was not created from this Chargebee site; check the "
            "cross-reference (syncwright trace) and the event's source connection.",
        )
    answer = connector.client.retrieve(
        "customer", customer_id, timeout=call_timeout(ctx, connector)
    )
    account = account_from_customer(
        answer["customer"],
        ctx.services.xref,
        connection=connection,
        default_subsidiary=connector.options.default_subsidiary,
        mapping=connector.mapping("inbound"),
    )
    return account.model_dump(mode="json")


def customer_params(account: Account, mapping: CompiledMapping | None = None) -> JSON:
    """``POST /customers`` parameters, by the ``customer`` entity of ``mapping`` (default: the
    shipped ``chargebee_outbound``)."""
    return or_shipped(mapping, "chargebee", "outbound").apply(
        "customer", account.model_dump(mode="json")
    )


def _customer_result(
    connector: ChargebeeConnector,
    account: Account,
    params: JSON,
    customer: Mapping[str, Any],
    *,
    created: bool | None,
) -> JSON:
    native_id = str(customer["id"])
    return {
        "native_id": native_id,
        "created": created,
        "email": customer.get("email"),
        "ledger": _ledger(connector, ACCOUNT, account.global_id, native_id, params),
    }


def _linked(ctx: StepContext, connector: ChargebeeConnector, entity: str, gid: str) -> JSON | None:
    """The Chargebee record already linked to ``gid`` on this connection (None if gone)."""
    native_id = ctx.services.xref.native_id_for(entity, gid, connector.name)
    if native_id is None:
        return None
    try:
        answer = connector.client.retrieve(
            "customer" if entity == ACCOUNT else "subscription",
            native_id,
            timeout=call_timeout(ctx, connector),
        )
    except BusinessRuleError as exc:
        if _missing(exc):
            return None
        raise
    found = answer["customer" if entity == ACCOUNT else "subscription"]
    return found if isinstance(found, dict) else None


def create_customer(ctx: StepContext, connection: str, account: JSON) -> JSON:
    """Account -> a Chargebee customer (company, email, billing address, ``meta_data``),
    created once: an account already linked returns its customer (``created: false``)."""
    connector = _connector(ctx, connection)
    parsed = _parse(Account, account, "account")
    params = customer_params(parsed, connector.mapping("outbound"))
    existing = _linked(ctx, connector, ACCOUNT, parsed.global_id)
    if existing is not None:
        return _customer_result(connector, parsed, params, existing, created=False)
    answer = connector.client.request(
        "POST",
        "/customers",
        params,
        idempotency_key=_idempotency_key(ctx, params),
        timeout=call_timeout(ctx, connector),
    )
    customer = answer["customer"]
    ctx.services.xref.link(ACCOUNT, parsed.global_id, connection, str(customer["id"]))
    return _customer_result(connector, parsed, params, customer, created=True)


def probe_customer(ctx: StepContext, connection: str, account: JSON) -> JSON | None:
    """After an uncertain create: the customer whose ``meta_data.syncwright_id`` is the
    account's global id (listed by email when the account has one, else the newest)."""
    connector = _connector(ctx, connection)
    parsed = _parse(Account, account, "account")
    params = customer_params(parsed, connector.mapping("outbound"))
    existing = _linked(ctx, connector, ACCOUNT, parsed.global_id)
    if existing is not None:
        return _customer_result(connector, parsed, params, existing, created=None)
    query: JSON = {"sort_by": {"desc": "created_at"}}
    if parsed.billing_email:
        query["email"] = {"is": parsed.billing_email}
    found = _find_ours(connector, "customer", query, parsed.global_id)
    if found is None:
        return None
    ctx.services.xref.link(ACCOUNT, parsed.global_id, connection, str(found["id"]))
    return _customer_result(connector, parsed, params, found, created=None)


# -- subscriptions ---------------------------------------------------------------------------


def _customer_id(ctx: StepContext, connector: ChargebeeConnector, ref: Ref, account: str) -> str:
    """The customer named by ``customer_ref`` (a previous step's result, ``{"id": ...}``, a
    global id) or, when None, the subscription's account's linked customer."""
    if isinstance(ref, Mapping):
        for key in ("native_id", "id"):
            if ref.get(key):
                return str(ref[key])
        ref = None
    global_id = ref or account
    native_id = ctx.services.xref.native_id_for(ACCOUNT, global_id, connector.name)
    if native_id is None:
        raise BusinessRuleError(
            f"account {global_id} has no Chargebee customer on connection {connector.name!r}",
            code="chargebee.customer_not_synced",
            remediation=f"Create the customer first (create_customer), or set meta_data."
            f"syncwright_id of the existing Chargebee customer to {global_id} (its next event "
            f"links it), {_RETRY}.",
        )
    return str(native_id)


def _item_price_id(ctx: StepContext, connector: ChargebeeConnector, item: SubscriptionItem) -> str:
    """``options.item_prices`` by canonical price id, its native ids, the product id or its
    native ids; else the item price this price is linked to on this connection."""
    prices, xref = connector.item_price_map, ctx.services.xref
    keys = [item.price_id, *sorted(set(xref.links(PRICE, item.price_id).values()))]
    if item.product_id:
        keys += [item.product_id, *sorted(set(xref.links(PRODUCT, item.product_id).values()))]
    for key in keys:
        if key in prices:
            return prices[key]
    linked = xref.native_id_for(PRICE, item.price_id, connector.name)
    if linked is not None:
        return str(linked)
    raise BusinessRuleError(
        f"no Chargebee item price for price {item.price_id}",
        code="chargebee.unmapped_price",
        remediation=f"Map the canonical price (or product, or their native ids) to a Chargebee "
        f"item price id under connections.{connector.name}.options.item_prices, e.g. "
        f"`{item.price_id}: pro-USD-monthly`, {_RETRY}.",
    )


def _check(sub: Subscription, item: SubscriptionItem, price: Mapping[str, Any]) -> None:
    """The item price must bill the subscription's currency and period."""
    problems = []
    if price.get("currency_code") != sub.currency:
        problems.append(f"it is in {price.get('currency_code')}, the subscription {sub.currency}")
    unit, count = price.get("period_unit"), price.get("period") or 1
    period = sub.period
    if (unit, count) != (period.unit.value, period.count):
        problems.append(f"it bills every {count} {unit}, the subscription {period.describe()}")
    if problems:
        raise BusinessRuleError(
            f"Chargebee item price {price.get('id')} does not fit item {item.global_id} of "
            f"subscription {sub.global_id}: {'; '.join(problems)}",
            code="chargebee.price_mismatch",
            remediation="Map the item to a Chargebee item price with the subscription's "
            f"currency and billing period (options.item_prices), {_RETRY}.",
        )


def subscription_params(
    ctx: StepContext, connector: ChargebeeConnector, sub: Subscription
) -> tuple[JSON, dict[str, str]]:
    """``POST /customers/{id}/subscription_for_items`` parameters and item global id -> item
    price id. A negotiated unit amount is sent as ``unit_price`` (a price override)."""
    rows: list[JSON] = []
    chosen: dict[str, str] = {}
    for item in sub.items:
        price_id = _item_price_id(ctx, connector, item)
        try:
            price = connector.client.retrieve(
                "item_price", price_id, timeout=call_timeout(ctx, connector)
            )["item_price"]
        except BusinessRuleError as exc:
            if not _missing(exc):
                raise
            raise BusinessRuleError(
                f"Chargebee item price {price_id} (for price {item.price_id}) does not exist",
                code="chargebee.price_missing",
                remediation=f"Correct connections.{connector.name}.options.item_prices (test "
                f"and live sites have different catalogs), {_RETRY}.",
            ) from exc
        _check(sub, item, price)
        row: JSON = {"item_price_id": price_id, "quantity": item.quantity}
        if Money.of(int(price.get("price") or 0), sub.currency) != item.unit_amount:
            row["unit_price"] = item.unit_amount.amount_minor
        rows.append(row)
        chosen[item.global_id] = price_id
    params: JSON = {
        "subscription_items": rows,
        "meta_data": {SYNCWRIGHT_ID_KEY: sub.global_id},
    }
    if sub.invoice_schedule is not None and sub.invoice_schedule.net_days > 0:
        params["net_term_days"] = sub.invoice_schedule.net_days
    return params, chosen


def _subscription_result(
    ctx: StepContext,
    connector: ChargebeeConnector,
    sub: Subscription,
    found: Mapping[str, Any],
    params: Any,
    *,
    created: bool | None,
    invoice: Mapping[str, Any] | None = None,
) -> JSON:
    """Link the subscription, its items (``<id>:<item price id>``) and the prices used."""
    xref, connection = ctx.services.xref, connector.name
    native_id = str(found["id"])
    xref.link(SUBSCRIPTION, sub.global_id, connection, native_id)
    in_chargebee = {i.get("item_price_id") for i in found.get("subscription_items") or []}
    items: dict[str, str] = {}
    for item in sub.items:
        price_id = xref.native_id_for(PRICE, item.price_id, connection) or (
            connector.item_price_map.get(item.price_id)
        )
        if price_id in in_chargebee:
            items[item.global_id] = f"{native_id}:{price_id}"
            xref.link(SUBSCRIPTION_ITEM, item.global_id, connection, items[item.global_id])
    return {
        "native_id": native_id,
        "created": created,
        "status": found.get("status"),
        "customer": found.get("customer_id"),
        "latest_invoice": invoice.get("id") if invoice else None,
        "items": items,
        "ledger": _ledger(connector, SUBSCRIPTION, sub.global_id, native_id, params),
    }


def create_subscription(
    ctx: StepContext, connection: str, subscription: JSON, customer_ref: Ref = None
) -> JSON:
    """Subscription -> a Chargebee subscription on item prices (``options.item_prices``) for
    the customer; Chargebee invoices the first term and charges the card on file. One already
    linked on this connection is returned instead (``created: false``)."""
    connector = _connector(ctx, connection)
    parsed = _parse(Subscription, subscription, "subscription")
    existing = _linked(ctx, connector, SUBSCRIPTION, parsed.global_id)
    if existing is not None:
        if existing.get("status") in _ENDED:
            raise BusinessRuleError(
                f"subscription {parsed.global_id} is linked to Chargebee subscription "
                f"{existing['id']}, which has ended ({existing.get('status')})",
                code="chargebee.subscription_ended",
                remediation="A restart needs a new canonical subscription; resolve this "
                "exception, or start a new subscription at the source.",
            )
        return _subscription_result(ctx, connector, parsed, existing, {}, created=False)
    customer_id = _customer_id(ctx, connector, customer_ref, parsed.account_id)
    params, chosen = subscription_params(ctx, connector, parsed)
    answer = connector.client.request(
        "POST",
        f"/customers/{customer_id}/subscription_for_items",
        params,
        idempotency_key=_idempotency_key(ctx, params),
        timeout=call_timeout(ctx, connector),
    )
    for item in parsed.items:
        ctx.services.xref.link(PRICE, item.price_id, connection, chosen[item.global_id])
    created = answer["subscription"]
    audit_write(ctx, connection, "chargebee.subscription.create", created.get("id"), params)
    return _subscription_result(
        ctx, connector, parsed, created, params, created=True, invoice=answer.get("invoice")
    )


def probe_subscription(
    ctx: StepContext, connection: str, subscription: JSON, customer_ref: Ref = None
) -> JSON | None:
    """After an uncertain create: the customer's subscription whose ``meta_data.syncwright_id``
    is the subscription's global id."""
    connector = _connector(ctx, connection)
    parsed = _parse(Subscription, subscription, "subscription")
    existing = _linked(ctx, connector, SUBSCRIPTION, parsed.global_id)
    if existing is not None:
        return _subscription_result(ctx, connector, parsed, existing, {}, created=None)
    customer_id = _customer_id(ctx, connector, customer_ref, parsed.account_id)
    query = {"customer_id": {"is": customer_id}, "sort_by": {"desc": "created_at"}}
    found = _find_ours(connector, "subscription", query, parsed.global_id)
    if found is None:
        return None
    audit_write(ctx, connection, "chargebee.subscription.create", found.get("id"), subscription)
    return _subscription_result(ctx, connector, parsed, found, {}, created=None)


def cancel_subscription(
    ctx: StepContext, result: JSON, connection: str, subscription: JSON, customer_ref: Ref = None
) -> None:
    """Compensation for :func:`create_subscription`: cancel now, without credits
    (``cancel_for_items``). One already cancelled, or gone, needs nothing.
    https://apidocs.chargebee.com/docs/api/subscriptions#cancel_subscription_for_items"""
    connector = _connector(ctx, connection)
    native_id = result.get("native_id")
    if not native_id:
        found = _linked(ctx, connector, SUBSCRIPTION, str(subscription.get("global_id") or ""))
        if found is None:
            return
        native_id = found["id"]
    try:
        connector.client.request(
            "POST",
            f"/subscriptions/{native_id}/cancel_for_items",
            {"end_of_term": False, "credit_option_for_current_term_charges": "none"},
            timeout=call_timeout(ctx, connector),
        )
    except BusinessRuleError as exc:
        if _missing(exc) or exc.code == "chargebee.invalid_state_for_request":
            return  # gone, or already cancelled
        raise
    audit_write(ctx, connection, "chargebee.subscription.cancel", native_id, {"id": native_id})

"""Stripe actions used by workflows, written as engine steps ``(StepContext, connection, *args)``.

- :func:`read_account`: a read for enrichment (content enricher).
- :func:`create_customer` (probe :func:`probe_customer`): an account becomes a Stripe customer.
- :func:`create_subscription` (probe :func:`probe_subscription`, compensation
  :func:`cancel_subscription`): a canonical subscription is started in Stripe.

Identity: every object we create carries our global id in ``metadata.syncwright_id`` (items
too), so that (1) a probe finds a write whose answer was lost, and (2) the inbound mapping links
the Stripe id to *our* global id when its events arrive, even before the step that created it
has linked it (``inbound._Mapper.claim``). Every create sends an ``Idempotency-Key``
(https://docs.stripe.com/api/idempotent_requests): the step's key (the same on every retry and
after a crash) plus a digest of the parameters, so a retry of the same request replays Stripe's
saved answer, while a retry after an operator fixed the data (new parameters) is a new request
instead of Stripe's ``idempotency_error``. Before creating, the cross-reference is asked: an
account or subscription already linked to a Stripe object on this connection is not created
again.

Mapping: the customer's and the subscription's parameters come from the connection's outbound
mapping file (shipped: ``mappings/outbound.yaml``, ``stripe_outbound@2``); what the file cannot
decide (which items are metered, whether a trial is still ahead) is worked out here and handed
in (:func:`subscription_params`). See this folder's README.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from syncwright.connectors import (
    audit_write,
    call_timeout,
    connector_for,
    ledger_block,
    parse_canonical,
)
from syncwright.connectors.stripe import payloads as sp
from syncwright.connectors.stripe.inbound import (
    SYNCWRIGHT_ID_KEY,
    account_from_customer,
    stripe_money,
    stripe_period,
)
from syncwright.engine import StepContext
from syncwright.errors import BusinessRuleError
from syncwright.ledger import request_digest
from syncwright.mapping import CompiledMapping, or_shipped
from syncwright.model import Account, Subscription, SubscriptionItem

if TYPE_CHECKING:  # the connector imports this module to declare its actions
    from syncwright.connectors.stripe.client import StripeClient
    from syncwright.connectors.stripe.connector import StripeConnector

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
_ENDED = frozenset({"canceled", "incomplete_expired"})
# A probe without an email to filter on reads at most this many customers, newest first (the
# write it looks for is recent). A miss only means a retry, which the idempotency key makes safe.
PROBE_SCAN_LIMIT = 1000
# Stripe's ceiling for an Idempotency-Key.
_MAX_KEY = 255
_RETRY = "then retry the exception"


def read_account(ctx: StepContext, connection: str, account_id: str) -> dict[str, Any]:
    """The canonical account behind ``account_id``, read from Stripe's customer.

    Used when a subscription or invoice arrives for a customer whose own events were missed,
    so the ERP customer can still be created first.
    https://docs.stripe.com/api/customers/retrieve
    """
    connector = ctx.services.connection(connection)
    customer_id = ctx.services.xref.native_id_for("account", account_id, connection)
    if customer_id is None:
        raise BusinessRuleError(
            f"account {account_id} has no Stripe customer on connection {connection!r}",
            code="stripe.account_unlinked",
            remediation="The account was not created from this Stripe account; check the "
            "cross-reference (syncwright trace) and the event's source connection.",
        )
    customer = connector.client.get_customer(customer_id)
    account = account_from_customer(
        customer,
        ctx.services.xref,
        connection=connection,
        default_subsidiary=connector.options.default_subsidiary or None,
        mapping=connector.mapping("inbound"),
    )
    return account.model_dump(mode="json")


# -- plumbing --------------------------------------------------------------------------------


def _connector(ctx: StepContext, connection: str) -> StripeConnector:
    from syncwright.connectors.stripe.connector import StripeConnector  # it imports this module

    return connector_for(ctx, connection, StripeConnector, label="Stripe")


def _parse(model: type[M], data: Any, what: str) -> M:
    return parse_canonical(model, data, what, vendor="stripe", label="Stripe", retry_hint=_RETRY)


def _idempotency_key(ctx: StepContext, params: Mapping[str, Any]) -> str:
    """The step's key plus a digest of the parameters (see the module doc)."""
    digest = request_digest(params)[:16]
    base = ctx.idempotency_key
    if len(base) + 1 + len(digest) > _MAX_KEY:
        base = hashlib.sha256(base.encode()).hexdigest()
    return f"{base}:{digest}"


def _ledger(
    connector: StripeConnector,
    entity_type: str,
    global_id: str,
    native_id: str,
    params: Any,
    fields: Mapping[str, Any] | None = None,
) -> JSON:
    return ledger_block(
        connector.name,
        entity_type,
        global_id,
        native_id,
        params,
        mapping_version=connector.mapping("outbound").ref,
        fields=fields,
    )


# The canonical account fields a customer carries (customer_params), remembered as written so
# that the customer's own webhook coming back is recognised as our echo.
_CUSTOMER_FIELDS = ("name", "billing_email", "bill_to", "subsidiary")


def _ours(obj: Mapping[str, Any], global_id: str) -> bool:
    metadata = obj.get("metadata")
    return isinstance(metadata, Mapping) and metadata.get(SYNCWRIGHT_ID_KEY) == global_id


def _pages(fetch: Callable[[str | None], dict[str, Any]], limit: int) -> Iterator[dict[str, Any]]:
    """Objects of a Stripe list, page by page (newest first), at most ``limit`` of them."""
    after: str | None = None
    seen = 0
    while seen < limit:
        page = fetch(after)
        data = [d for d in page.get("data") or [] if isinstance(d, dict)]
        for obj in data:
            seen += 1
            yield obj
            if seen >= limit:
                return
        if not page.get("has_more") or not data:
            return
        after = str(data[-1]["id"])


# -- customers -------------------------------------------------------------------------------


def customer_params(account: Account, mapping: CompiledMapping | None = None) -> JSON:
    """``POST /v1/customers`` parameters for an account, by the ``customer`` entity of
    ``mapping`` (default: the shipped ``stripe_outbound``)."""
    mapping = or_shipped(mapping, "stripe", "outbound")
    return mapping.apply("customer", account.model_dump(mode="json"))


def _customer_result(
    connector: StripeConnector,
    account: Account,
    params: JSON,
    customer: Mapping[str, Any],
    *,
    created: bool | None,
) -> JSON:
    native_id = str(customer["id"])
    canonical = account.model_dump(mode="json")
    written = None if created is False else {f: canonical[f] for f in _CUSTOMER_FIELDS}
    return {
        "native_id": native_id,
        "created": created,
        "email": customer.get("email"),
        "ledger": _ledger(connector, ACCOUNT, account.global_id, native_id, params, written),
    }


def _linked_customer(
    ctx: StepContext, connector: StripeConnector, account_id: str
) -> dict[str, Any] | None:
    """The Stripe customer already linked to ``account_id`` on this connection, if any."""
    native_id = ctx.services.xref.native_id_for(ACCOUNT, account_id, connector.name)
    if native_id is None:
        return None
    customer = connector.client.get_customer(native_id, timeout=call_timeout(ctx, connector))
    if customer.get("deleted"):
        raise BusinessRuleError(
            f"account {account_id} is linked to Stripe customer {native_id}, which was deleted",
            code="stripe.customer_deleted",
            remediation=(
                f"Stripe customer {native_id} was deleted; a deleted customer cannot be restored. "
                "Decide whether the account should be billed in Stripe again; if so, the "
                "cross-reference link must be removed by an operator before the retry, "
                "otherwise resolve this exception."
            ),
        )
    return customer


def create_customer(ctx: StepContext, connection: str, account: JSON) -> JSON:
    """Account -> a Stripe customer (name, email, address, ``metadata.syncwright_id`` and
    ``metadata.subsidiary``), created once: an account already linked to a customer on this
    connection returns that customer (``created: false``)."""
    connector = _connector(ctx, connection)
    parsed = _parse(Account, account, "account")
    params = customer_params(parsed, connector.mapping("outbound"))
    existing = _linked_customer(ctx, connector, parsed.global_id)
    if existing is not None:
        return _customer_result(connector, parsed, params, existing, created=False)
    customer = connector.client.create_customer(
        params,
        idempotency_key=_idempotency_key(ctx, params),
        timeout=call_timeout(ctx, connector),
    )
    ctx.services.xref.link(ACCOUNT, parsed.global_id, connection, str(customer["id"]))
    return _customer_result(connector, parsed, params, customer, created=True)


def probe_customer(ctx: StepContext, connection: str, account: JSON) -> JSON | None:
    """After an uncertain create: the customer whose ``metadata.syncwright_id`` is the
    account's global id (listed by email when the account has one, else the newest customers)."""
    connector = _connector(ctx, connection)
    parsed = _parse(Account, account, "account")
    params = customer_params(parsed, connector.mapping("outbound"))
    existing = _linked_customer(ctx, connector, parsed.global_id)
    if existing is not None:
        return _customer_result(connector, parsed, params, existing, created=None)
    client, timeout = connector.client, call_timeout(ctx, connector)
    email = parsed.billing_email

    def page(after: str | None) -> dict[str, Any]:
        return client.list_customers(email=email, starting_after=after, timeout=timeout)

    limit = PROBE_SCAN_LIMIT if email is None else PROBE_SCAN_LIMIT * 10
    found = next((c for c in _pages(page, limit) if _ours(c, parsed.global_id)), None)
    if found is None:
        return None
    ctx.services.xref.link(ACCOUNT, parsed.global_id, connection, str(found["id"]))
    return _customer_result(connector, parsed, params, found, created=None)


# -- subscriptions ---------------------------------------------------------------------------


def _customer_id(ctx: StepContext, connector: StripeConnector, ref: Ref, account_id: str) -> str:
    """The Stripe customer named by ``customer_ref``: a previous step's result (``native_id``),
    ``{"id": "cus_..."}``, a ``cus_...`` id, or a global id; None means the subscription's
    account."""
    if isinstance(ref, Mapping):
        for key in ("native_id", "id"):
            if ref.get(key):
                return str(ref[key])
        ref = None
    if isinstance(ref, str) and ref.startswith("cus_"):
        return ref
    global_id = ref or account_id
    native_id = ctx.services.xref.native_id_for(ACCOUNT, global_id, connector.name)
    if native_id is None:
        raise BusinessRuleError(
            f"account {global_id} has no Stripe customer on connection {connector.name!r}",
            code="stripe.customer_not_synced",
            remediation=(
                f"Create the customer first (create_customer), or link the existing Stripe "
                f"customer by setting its metadata.syncwright_id to {global_id} (its next event "
                f"links it), {_RETRY}."
            ),
        )
    return str(native_id)


def _price_keys(ctx: StepContext, item: SubscriptionItem) -> list[str]:
    """``options.prices`` keys that may name an item's Stripe price, in the order tried: the
    canonical price id, its native ids in other systems, the product id, its native ids."""
    xref = ctx.services.xref
    keys = [item.price_id, *sorted(set(xref.links(PRICE, item.price_id).values()))]
    if item.product_id:
        keys += [item.product_id, *sorted(set(xref.links(PRODUCT, item.product_id).values()))]
    return list(dict.fromkeys(keys))


def _stripe_price(
    ctx: StepContext, connector: StripeConnector, item: SubscriptionItem
) -> str | None:
    prices = connector.price_map
    if item.price_id in prices:
        return prices[item.price_id]
    # A price that came from this Stripe account (or was sent to it before) is linked already.
    linked = ctx.services.xref.native_id_for(PRICE, item.price_id, connector.name)
    if linked is not None:
        return str(linked)
    return next((prices[k] for k in _price_keys(ctx, item) if k in prices), None)


def _check_price(
    connector: StripeConnector,
    subscription: Subscription,
    item: SubscriptionItem,
    price: Mapping[str, Any],
) -> None:
    """The Stripe price must bill what the canonical item says: currency, unit amount and
    interval; otherwise billing and the ERP would disagree on every invoice."""
    price_id = str(price.get("id"))
    where = f"Stripe price {price_id}"
    remediation = (
        f"Map item {item.global_id} (price {item.price_id}) to a Stripe price with the same "
        f"currency, unit amount and interval under connections.{connector.name}.options.prices "
        f"(create one in Stripe if needed), or correct the subscription at the source, {_RETRY}."
    )
    try:
        parsed = sp.Price.model_validate(dict(price))
    except ValidationError as exc:
        raise BusinessRuleError(
            f"{where} is not a recurring per-unit price syncwright can check",
            code="stripe.price_mismatch",
            remediation=remediation,
        ) from exc
    problems: list[str] = []
    if parsed.unit_amount is None:
        problems.append(f"it has no single unit amount (billing_scheme {parsed.billing_scheme})")
    else:
        amount = stripe_money(parsed.unit_amount, parsed.currency, where)
        if amount != item.unit_amount:
            problems.append(f"it charges {amount}, the item {item.unit_amount}")
    try:
        period = stripe_period(parsed, where)
    except BusinessRuleError as exc:
        problems.append(exc.message)
    else:
        if not period.equivalent(subscription.period):
            wanted = subscription.period.describe()
            problems.append(f"it bills {period.describe()}, the subscription {wanted}")
    if problems:
        raise BusinessRuleError(
            f"{where} does not match item {item.global_id} of subscription "
            f"{subscription.global_id}: {'; '.join(problems)}",
            code="stripe.price_mismatch",
            remediation=remediation,
        )


def _items(
    ctx: StepContext, connector: StripeConnector, subscription: Subscription
) -> list[tuple[SubscriptionItem, dict[str, Any]]]:
    """Each canonical item with its Stripe price (checked); every unmapped item reported at
    once, before anything is sent."""
    chosen: list[tuple[SubscriptionItem, str]] = []
    unmapped: list[SubscriptionItem] = []
    for item in subscription.items:
        price_id = _stripe_price(ctx, connector, item)
        if price_id is None:
            unmapped.append(item)
        else:
            chosen.append((item, price_id))
    if unmapped:
        where = f"connections.{connector.name}.options.prices"
        names = ", ".join(
            f"price {i.price_id}" + (f" (product {i.product_id})" if i.product_id else "")
            for i in unmapped
        )
        raise BusinessRuleError(
            f"subscription {subscription.global_id}: no Stripe price for {names}",
            code="stripe.unmapped_price",
            remediation=(
                f"Map each canonical price (or product, or their native ids) to a Stripe price "
                f"id under {where}, e.g. `{unmapped[0].price_id}: price_...`, {_RETRY}."
            ),
        )
    client = connector.client
    out: list[tuple[SubscriptionItem, dict[str, Any]]] = []
    for item, price_id in chosen:
        try:
            price = client.get_price(price_id, timeout=call_timeout(ctx, connector))
        except BusinessRuleError as exc:
            if exc.code != "stripe.resource_missing":
                raise
            raise BusinessRuleError(
                f"subscription {subscription.global_id}: Stripe price {price_id} (for price "
                f"{item.price_id}) does not exist",
                code="stripe.price_missing",
                remediation=(
                    f"Correct the price id under connections.{connector.name}.options.prices "
                    f"(test and live mode have different prices), {_RETRY}."
                ),
            ) from exc
        _check_price(connector, subscription, item, price)
        out.append((item, price))
    return out


def _unix(day: date) -> int:
    return int(datetime.combine(day, time(), UTC).timestamp())


def subscription_params(
    subscription: Subscription,
    customer_id: str,
    items: Sequence[tuple[SubscriptionItem, Mapping[str, Any]]],
    *,
    now: datetime | None = None,
    mapping: CompiledMapping | None = None,
) -> JSON:
    """``POST /v1/subscriptions`` parameters, by the ``subscription`` entity of ``mapping``
    (default: the shipped ``stripe_outbound``). Decided here and handed in: which items are
    metered (by their Stripe price), whether payment terms apply, whether the trial is still
    ahead (by the clock)."""
    lines = [
        {
            "item": item.model_dump(mode="json"),
            "price": str(price["id"]),
            "metered": _metered(price),
        }
        for item, price in items
    ]
    schedule = subscription.invoice_schedule
    moment = now or datetime.now(UTC)
    trial = subscription.trial_end
    record = {
        "subscription": subscription.model_dump(mode="json"),
        "customer": customer_id,
        "lines": lines,
        "terms_days": schedule.net_days if schedule is not None and schedule.net_days > 0 else None,
        "trial_end": _unix(trial) if trial and _unix(trial) > moment.timestamp() else None,
    }
    return or_shipped(mapping, "stripe", "outbound").apply("subscription", record)


def _metered(price: Mapping[str, Any]) -> bool:
    recurring = price.get("recurring")
    return isinstance(recurring, Mapping) and recurring.get("usage_type") == "metered"


def _subscription_result(
    ctx: StepContext,
    connector: StripeConnector,
    subscription: Subscription,
    stripe_sub: Mapping[str, Any],
    params: Any,
    *,
    created: bool | None,
) -> JSON:
    """Link the subscription and its items (and the prices and products used) in the
    cross-reference."""
    xref, connection = ctx.services.xref, connector.name
    native_id = str(stripe_sub["id"])
    xref.link(SUBSCRIPTION, subscription.global_id, connection, native_id)
    by_gid = {item.global_id: item for item in subscription.items}
    items: dict[str, str] = {}
    listing = stripe_sub.get("items")
    for si in listing.get("data") or [] if isinstance(listing, Mapping) else []:
        metadata = si.get("metadata") if isinstance(si, Mapping) else None
        gid = metadata.get(SYNCWRIGHT_ID_KEY) if isinstance(metadata, Mapping) else None
        if gid in by_gid:
            items[gid] = str(si["id"])
            xref.link(SUBSCRIPTION_ITEM, gid, connection, str(si["id"]))
            price_id = sp.expandable_id(si.get("price"))
            if price_id:
                xref.link(PRICE, by_gid[gid].price_id, connection, price_id)
            # The price's product is the item's product: the plan -> support tier rule finds
            # it from a Stripe subscription as it does from the deal (onboarding_plan.tier_for).
            price = si.get("price")
            product_id = (
                sp.expandable_id(price.get("product")) if isinstance(price, Mapping) else None
            )
            if product_id and by_gid[gid].product_id:
                xref.link(PRODUCT, str(by_gid[gid].product_id), connection, product_id)
    return {
        "native_id": native_id,
        "created": created,
        "status": stripe_sub.get("status"),
        "customer": sp.expandable_id(stripe_sub.get("customer")),
        "latest_invoice": sp.expandable_id(stripe_sub.get("latest_invoice")),
        "items": items,
        "ledger": _ledger(connector, SUBSCRIPTION, subscription.global_id, native_id, params),
    }


def _linked_subscription(
    ctx: StepContext, connector: StripeConnector, subscription_id: str
) -> dict[str, Any] | None:
    native_id = ctx.services.xref.native_id_for(SUBSCRIPTION, subscription_id, connector.name)
    if native_id is None:
        return None
    try:
        return connector.client.get_subscription(native_id, timeout=call_timeout(ctx, connector))
    except BusinessRuleError as exc:
        if exc.code == "stripe.resource_missing":
            return None
        raise


def create_subscription(
    ctx: StepContext, connection: str, subscription: JSON, customer_ref: Ref = None
) -> JSON:
    """Subscription -> a Stripe subscription for the customer (``customer_ref`` or the
    account's linked customer), one item per canonical item at the Stripe price mapped through
    ``options.prices``. Returns Stripe's ``status`` (``active``, ``incomplete`` when the first
    payment failed, ``trialing``) and the ``latest_invoice`` id. A subscription already linked
    on this connection is returned instead of created again (``created: false``)."""
    connector = _connector(ctx, connection)
    parsed = _parse(Subscription, subscription, "subscription")
    existing = _linked_subscription(ctx, connector, parsed.global_id)
    if existing is not None:
        if existing.get("status") in _ENDED:
            raise BusinessRuleError(
                f"subscription {parsed.global_id} is linked to Stripe subscription "
                f"{existing['id']}, which has ended ({existing.get('status')})",
                code="stripe.subscription_ended",
                remediation=(
                    "The subscription was already created in Stripe and has since ended; a "
                    "restart needs a new canonical subscription. Resolve this exception, or "
                    "start a new subscription at the source."
                ),
            )
        return _subscription_result(ctx, connector, parsed, existing, {}, created=False)
    customer_id = _customer_id(ctx, connector, customer_ref, parsed.account_id)
    params = subscription_params(
        parsed, customer_id, _items(ctx, connector, parsed), mapping=connector.mapping("outbound")
    )
    created = connector.client.create_subscription(
        params,
        idempotency_key=_idempotency_key(ctx, params),
        timeout=call_timeout(ctx, connector),
    )
    audit_write(ctx, connection, "stripe.subscription.create", created.get("id"), params)
    return _subscription_result(ctx, connector, parsed, created, params, created=True)


def probe_subscription(
    ctx: StepContext, connection: str, subscription: JSON, customer_ref: Ref = None
) -> JSON | None:
    """After an uncertain create: the customer's subscription (any status) whose
    ``metadata.syncwright_id`` is the subscription's global id."""
    connector = _connector(ctx, connection)
    parsed = _parse(Subscription, subscription, "subscription")
    existing = _linked_subscription(ctx, connector, parsed.global_id)
    if existing is not None:
        return _subscription_result(ctx, connector, parsed, existing, {}, created=None)
    customer_id = _customer_id(ctx, connector, customer_ref, parsed.account_id)
    client: StripeClient = connector.client
    timeout = call_timeout(ctx, connector)

    def page(after: str | None) -> dict[str, Any]:
        return client.list_subscriptions(
            customer=customer_id, status="all", starting_after=after, timeout=timeout
        )

    found = next((s for s in _pages(page, PROBE_SCAN_LIMIT) if _ours(s, parsed.global_id)), None)
    if found is None:
        return None
    # The uncertain create landed: this is the write the step made.
    audit_write(ctx, connection, "stripe.subscription.create", found.get("id"), subscription)
    return _subscription_result(ctx, connector, parsed, found, {}, created=None)


def cancel_subscription(
    ctx: StepContext, result: JSON, connection: str, subscription: JSON, customer_ref: Ref = None
) -> None:
    """Compensation for :func:`create_subscription`: cancel the Stripe subscription now
    (``DELETE /v1/subscriptions/{id}``, no proration). One that already ended, or is gone,
    needs nothing."""
    connector = _connector(ctx, connection)
    client, timeout = connector.client, call_timeout(ctx, connector)
    native_id = result.get("native_id")
    if not native_id:
        found = _linked_subscription(ctx, connector, str(subscription.get("global_id") or ""))
        if found is None:
            return
        native_id = found["id"]
    try:
        client.cancel_subscription(str(native_id), timeout=timeout)
        audit_write(ctx, connection, "stripe.subscription.cancel", native_id, {"id": native_id})
    except BusinessRuleError as exc:
        if exc.code == "stripe.resource_missing":
            return
        # Stripe refuses to cancel what already ended (another cancellation won the race).
        current = client.get_subscription(str(native_id), timeout=timeout)
        if current.get("status") in _ENDED:
            return
        raise

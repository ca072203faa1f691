"""Subscriptions: create, change items with prorations, renew, cancel.

Docs: https://docs.stripe.com/billing/subscriptions/overview,
https://docs.stripe.com/billing/subscriptions/prorations,
https://docs.stripe.com/billing/subscriptions/cancel. All functions run under ``st.lock``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import _objects as ob
from ._billing import (
    FINALIZE_DELAY_SECONDS,
    TIMES,
    add_interval,
    add_line,
    charge_outcome,
    customer_default_pm,
    day_label,
    decline_error,
    emit_update,
    finalize_invoice,
    new_invoice,
    new_invoice_pi,
    next_boundary,
    pay_invoice,
    price_of,
    product_name,
    pull_pending_items,
    resolve_payment_method,
    sub_interval,
    sub_items,
    sub_period,
    subscription_item_line,
)
from ._errors import StripeAPIError, invalid_request, parameter_missing, resource_missing
from ._forms import apply_metadata
from ._state import AUTOMATIC, RequestContext, StripeState

# -- subscriptions ---------------------------------------------------------------------------


@dataclass
class ItemSpec:
    """One entry of ``items[]`` on create/update."""

    price: str | None = None
    quantity: int | None = None
    item_id: str | None = None
    deleted: bool = False
    metadata: dict[str, str | None] | None = None
    param: str = "items"

    def name(self, field_name: str) -> str:
        return f"{self.param}[{field_name}]" if self.param else field_name


def check_recurring(st: StripeState, price_id: str, param: str) -> dict[str, Any]:
    price = st.find("price", price_id)
    if price is None:
        raise resource_missing("price", price_id, param)
    if price["type"] != "recurring":
        raise StripeAPIError(
            400,
            "The price specified is set to `type=one_time` but this field only accepts prices "
            "with `type=recurring`.",
            param=param,
        )
    if not price["active"]:
        raise StripeAPIError(
            400,
            "The price specified is inactive. This field only accepts active prices.",
            param=param,
        )
    return price


def _check_uniform(prices: list[dict[str, Any]]) -> None:
    currencies = {p["currency"] for p in prices}
    intervals = {(p["recurring"]["interval"], p["recurring"]["interval_count"]) for p in prices}
    if len(currencies) > 1 or len(intervals) > 1:
        raise StripeAPIError(
            400,
            "Currency and interval fields must match across all plans on this subscription. "
            "Found mismatched fields.",
            param="items",
        )


def create_subscription(
    st: StripeState,
    customer: dict[str, Any],
    items: list[ItemSpec],
    ctx: RequestContext,
    *,
    metadata: dict[str, str] | None = None,
    description: str | None = None,
    default_payment_method: str | None = None,
    collection_method: str = "charge_automatically",
    days_until_due: int | None = None,
    payment_behavior: str = "allow_incomplete",
    trial_end: int | None = None,
    trial_period_days: int | None = None,
    cancel_at_period_end: bool = False,
    cancel_at: int | None = None,
) -> dict[str, Any]:
    at = st.customer_now(customer["id"])
    prices = []
    for i, spec in enumerate(items):
        if spec.price is None:
            raise parameter_missing(f"items[{i}][price]", saved=True)
        prices.append(check_recurring(st, spec.price, f"items[{i}][price]"))
    if not prices:
        raise parameter_missing("items", saved=True)
    _check_uniform(prices)
    if collection_method == "send_invoice" and days_until_due is None:
        raise StripeAPIError(
            400,
            "Missing required param: days_until_due. It is required when collection_method is "
            "send_invoice.",
            code="parameter_missing",
            param="days_until_due",
        )
    if trial_end is None and trial_period_days:
        trial_end = at + 86400 * trial_period_days
    if trial_end is not None and trial_end <= at:
        trial_end = None
    rec = prices[0]["recurring"]
    anchor = trial_end or at
    period_end = trial_end or add_interval(at, rec["interval"], rec["interval_count"], 1)
    pm_id = (
        resolve_payment_method(
            st, default_payment_method, customer["id"], param="default_payment_method"
        )
        if default_payment_method
        else None
    )
    # Decide the outcome before anything is stored, so error_if_incomplete creates nothing.
    first_total = (
        0
        if trial_end
        else sum(
            int(p["unit_amount"] or 0) * int(s.quantity or 1)
            for p, s in zip(prices, items, strict=True)
        )
    )
    charging = (
        collection_method == "charge_automatically" and first_total + int(customer["balance"]) > 0
    )
    outcome = (
        charge_outcome(st, customer, pm_id or customer_default_pm(st, customer, None))
        if charging
        else None
    )
    if charging and outcome is not None and payment_behavior == "error_if_incomplete":
        raise decline_error(outcome)

    sub = ob.subscription(
        ob.new_id("sub"),
        at,
        customer=customer["id"],
        currency=prices[0]["currency"],
        collection_method=collection_method,
        days_until_due=days_until_due,
        default_payment_method=pm_id,
        description=description,
        metadata=metadata,
        billing_cycle_anchor=anchor,
        test_clock=customer["test_clock"],
        trial_start=at if trial_end else None,
        trial_end=trial_end,
    )
    sub["cancel_at_period_end"] = cancel_at_period_end
    sub["cancel_at"] = period_end if cancel_at_period_end else cancel_at
    st.put("subscription", sub)
    for spec, price in zip(items, prices, strict=True):
        si = ob.subscription_item(
            ob.new_id("si"),
            at,
            sub_id=sub["id"],
            price_id=price["id"],
            quantity=spec.quantity if spec.quantity is not None else 1,
            start=at,
            end=period_end,
            metadata={k: v for k, v in (spec.metadata or {}).items() if v is not None},
        )
        st.put("subscription_item", si)
    if trial_end:
        sub["status"] = "trialing"
    elif not charging or (outcome is None and payment_behavior != "default_incomplete"):
        sub["status"] = "active"
    else:
        sub["status"] = "incomplete"
    inv = new_invoice(
        st,
        customer,
        at=at,
        currency=sub["currency"],
        billing_reason="subscription_create",
        sub=sub,
        collection_method=collection_method,
        days_until_due=days_until_due,
        period=(at, at),
    )
    sub["latest_invoice"] = inv["id"]
    st.emit("customer.subscription.created", "subscription", sub, ctx)
    for si in sub_items(st, sub["id"]):
        add_line(
            st, inv, subscription_item_line(st, sub, si, (at, period_end), trial=bool(trial_end))
        )
    st.emit("invoice.created", "invoice", inv, ctx)
    finalize_invoice(st, inv, ctx, at=at)
    if inv["status"] == "open" and collection_method == "charge_automatically":
        if payment_behavior == "default_incomplete":
            # The invoice is not charged now: its PaymentIntent waits for the customer.
            new_invoice_pi(
                st,
                inv,
                ctx,
                at=at,
                amount=inv["amount_remaining"],
                pm_id=pm_id,
                confirm_later=True,
            )
        else:
            pay_invoice(st, inv, ctx, at=at)
    return sub


def _proration_item(
    st: StripeState,
    sub: dict[str, Any],
    si: dict[str, Any],
    price: dict[str, Any],
    quantity: int,
    *,
    credit: bool,
    at: int,
    ctx: RequestContext,
) -> dict[str, Any] | None:
    start, end = si["current_period_start"], si["current_period_end"]
    if end <= start or at >= end:
        return None
    full = int(price["unit_amount"] or 0) * quantity
    amount = round(full * (end - at) / (end - start))
    if amount == 0:
        return None
    name = product_name(st, price)
    word = "Unused" if credit else "Remaining"
    ii = ob.invoice_item(
        ob.new_id("ii"),
        at,
        amount=-amount if credit else amount,
        currency=price["currency"],
        customer=sub["customer"],
        description=f"{word} time on {quantity} {TIMES} {name} after {day_label(at)}",
        subscription=sub["id"],
        subscription_item=si["id"],
        price=price,
        proration=True,
        quantity=quantity,
        period_start=at,
        period_end=end,
        test_clock=sub["test_clock"],
    )
    st.put("invoiceitem", ii)
    st.emit("invoiceitem.created", "invoiceitem", ii, ctx)
    return ii


def update_items(
    st: StripeState,
    sub: dict[str, Any],
    specs: list[ItemSpec],
    ctx: RequestContext,
    *,
    proration_behavior: str,
    proration_date: int | None,
) -> bool:
    """Apply ``items[]`` changes; returns True when a new billing period started now.

    Prorations (unless ``none``) become pending invoice items on the subscription. A change of
    interval resets the billing cycle anchor to now and invoices right away, as Stripe does.
    """
    at = st.customer_now(sub["customer"])
    when = proration_date if proration_date is not None else at
    prorate = proration_behavior != "none" and sub["status"] in ("active", "past_due")
    current = {si["id"]: si for si in sub_items(st, sub["id"])}
    old_interval = sub_interval(st, sub)
    start, end = sub_period(st, sub)
    planned: list[tuple[ItemSpec, dict[str, Any] | None, dict[str, Any] | None]] = []
    for spec in specs:
        si = None
        if spec.item_id is not None:
            si = current.get(spec.item_id)
            if si is None:
                raise resource_missing("subscription item", spec.item_id, spec.name("id"))
        new_price = check_recurring(st, spec.price, spec.name("price")) if spec.price else None
        planned.append((spec, si, new_price))
    # Validate the resulting set of prices before changing anything.
    result_prices = {sid: price_of(st, si["price"]) for sid, si in current.items()}
    new_ones: list[dict[str, Any]] = []
    for spec, si, new_price in planned:
        if si is not None and spec.deleted:
            result_prices.pop(si["id"], None)
        elif si is not None and new_price is not None:
            result_prices[si["id"]] = new_price
        elif si is None:
            if new_price is None:
                raise parameter_missing(spec.name("price"), saved=True)
            new_ones.append(new_price)
    all_prices = list(result_prices.values()) + new_ones
    if not all_prices:
        raise invalid_request("A subscription must have at least one active plan.", param="items")
    currencies = {p["currency"] for p in all_prices}
    if len(currencies) > 1 or currencies != {sub["currency"]}:
        raise invalid_request(
            "Currency fields must match the subscription's currency.", param="items"
        )
    intervals = {(p["recurring"]["interval"], p["recurring"]["interval_count"]) for p in all_prices}
    if len(intervals) > 1:
        _check_uniform(all_prices)
    new_interval = next(iter(intervals))
    reset_cycle = new_interval != old_interval

    for spec, si, new_price in planned:
        if si is None:
            assert new_price is not None
            qty = spec.quantity if spec.quantity is not None else 1
            si = ob.subscription_item(
                ob.new_id("si"),
                at,
                sub_id=sub["id"],
                price_id=new_price["id"],
                quantity=qty,
                start=start,
                end=end,
                metadata={k: v for k, v in (spec.metadata or {}).items() if v is not None},
            )
            st.put("subscription_item", si)
            if prorate and not reset_cycle:
                _proration_item(st, sub, si, new_price, qty, credit=False, at=when, ctx=ctx)
            continue
        old_price = price_of(st, si["price"])
        old_qty = int(si["quantity"])
        if spec.deleted:
            if prorate:
                _proration_item(st, sub, si, old_price, old_qty, credit=True, at=when, ctx=ctx)
            st.remove("subscription_item", si["id"])
            continue
        price = new_price or old_price
        qty = spec.quantity if spec.quantity is not None else old_qty
        if spec.metadata is not None:
            apply_metadata(si["metadata"], spec.metadata)
        if price["id"] == old_price["id"] and qty == old_qty:
            continue
        if prorate:
            _proration_item(st, sub, si, old_price, old_qty, credit=True, at=when, ctx=ctx)
            if not reset_cycle:
                _proration_item(st, sub, si, price, qty, credit=False, at=when, ctx=ctx)
        si["price"] = price["id"]
        si["quantity"] = qty
    if reset_cycle:
        interval, count = new_interval
        new_end = add_interval(at, interval, count, 1)
        sub["billing_cycle_anchor"] = at
        for si in sub_items(st, sub["id"]):
            si["current_period_start"] = at
            si["current_period_end"] = new_end
    return reset_cycle


def invoice_subscription_now(
    st: StripeState,
    sub: dict[str, Any],
    ctx: RequestContext,
    *,
    reason: str,
    include_items: bool,
) -> dict[str, Any] | None:
    """Invoice pending prorations (and, on a cycle reset, the new period) immediately."""
    at = st.customer_now(sub["customer"])
    customer = st.get("customer", sub["customer"])
    pending = [
        ii
        for ii in st.objects["invoiceitem"].values()
        if ii["invoice"] is None
        and ii["parent"]
        and ii["parent"]["subscription_details"]["subscription"] == sub["id"]
    ]
    if not pending and not include_items:
        return None
    start, end = sub_period(st, sub)
    inv = new_invoice(
        st,
        customer,
        at=at,
        currency=sub["currency"],
        billing_reason=reason,
        sub=sub,
        collection_method=sub["collection_method"],
        days_until_due=sub["days_until_due"],
        period=(at, at),
    )
    pull_pending_items(st, inv, ctx, subscription_id=sub["id"])
    if include_items:
        for si in sub_items(st, sub["id"]):
            add_line(st, inv, subscription_item_line(st, sub, si, (start, end)))
    sub["latest_invoice"] = inv["id"]
    st.emit("invoice.created", "invoice", inv, ctx)
    finalize_invoice(st, inv, ctx, at=at)
    if inv["status"] == "open" and inv["collection_method"] == "charge_automatically":
        pay_invoice(st, inv, ctx, at=at)
    return inv


def end_subscription(
    st: StripeState,
    sub: dict[str, Any],
    ctx: RequestContext,
    *,
    at: int,
    reason: str = "cancellation_requested",
    prorate: bool = False,
    invoice_now: bool = False,
    comment: str | None = None,
    feedback: str | None = None,
) -> dict[str, Any]:
    if sub["status"] in ("canceled", "incomplete_expired"):
        raise invalid_request(
            "A canceled subscription can only update its cancellation_details and metadata.",
        )
    if prorate and sub["status"] in ("active", "past_due"):
        for si in sub_items(st, sub["id"]):
            _proration_item(
                st,
                sub,
                si,
                price_of(st, si["price"]),
                int(si["quantity"]),
                credit=True,
                at=at,
                ctx=ctx,
            )
    if invoice_now:
        invoice_subscription_now(st, sub, ctx, reason="subscription_cycle", include_items=False)
    sub["status"] = "canceled"
    sub["canceled_at"] = at
    sub["ended_at"] = at
    sub["cancellation_details"] = {"comment": comment, "feedback": feedback, "reason": reason}
    st.emit("customer.subscription.deleted", "subscription", sub, ctx)
    return sub


def renew_subscription(st: StripeState, sub: dict[str, Any], *, at: int) -> None:
    """The period ended at ``at``: cancel if asked to, else start the next period and invoice."""
    ctx = AUTOMATIC
    if sub["cancel_at_period_end"] or (sub["cancel_at"] is not None and sub["cancel_at"] <= at):
        end_subscription(st, sub, ctx, at=at)
        return
    before = st.render("subscription", sub)
    start, end = sub_period(st, sub)
    interval, count = sub_interval(st, sub)
    new_end = next_boundary(sub["billing_cycle_anchor"], interval, count, at)
    for si in sub_items(st, sub["id"]):
        si["current_period_start"] = end
        si["current_period_end"] = new_end
    if sub["status"] == "trialing":
        sub["status"] = "active"
    customer = st.get("customer", sub["customer"])
    inv = new_invoice(
        st,
        customer,
        at=at,
        currency=sub["currency"],
        billing_reason="subscription_cycle",
        sub=sub,
        collection_method=sub["collection_method"],
        days_until_due=sub["days_until_due"],
        period=(start, end),
    )
    inv["automatically_finalizes_at"] = at + FINALIZE_DELAY_SECONDS
    pull_pending_items(st, inv, ctx, subscription_id=sub["id"])
    for si in sub_items(st, sub["id"]):
        add_line(st, inv, subscription_item_line(st, sub, si, (end, new_end)))
    sub["latest_invoice"] = inv["id"]
    st.emit("invoice.created", "invoice", inv, ctx)
    emit_update(st, "customer.subscription.updated", "subscription", sub, before, ctx)

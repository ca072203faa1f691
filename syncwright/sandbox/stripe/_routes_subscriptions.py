"""Subscriptions and subscription items.

Docs: https://docs.stripe.com/api/subscriptions, https://docs.stripe.com/api/subscription_items,
https://docs.stripe.com/billing/subscriptions/prorations,
https://docs.stripe.com/billing/subscriptions/cancel.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from . import _billing as bl
from . import _subscriptions as subs
from ._errors import StripeAPIError, invalid_request, parameter_missing
from ._forms import Params, apply_metadata, initial_metadata
from ._routing import Call, begin, deleted, json_response
from ._state import RequestContext, StripeState
from ._views import created_filter, fields_match

router = APIRouter()

PRORATION_BEHAVIORS = ("create_prorations", "none", "always_invoice")
PAYMENT_BEHAVIORS = (
    "allow_incomplete",
    "default_incomplete",
    "error_if_incomplete",
    "pending_if_incomplete",
)
# Real Stripe parameters the emulator accepts without modelling them.
IGNORED_SUBSCRIPTION_PARAMS = (
    "automatic_tax",
    "payment_settings",
    "off_session",
    "application_fee_percent",
    "default_tax_rates",
    "on_behalf_of",
    "transfer_data",
    "pending_invoice_item_interval",
    "billing_thresholds",
    "invoice_settings",
    "trial_settings",
    "trial_from_plan",
    "currency",
    "discounts",
    "backdate_start_date",
)
# Real Stripe parameters the emulator refuses on both create and update, rather than ignore.
UNSUPPORTED_SUBSCRIPTION_PARAMS = (
    "add_invoice_items",
    "coupon",
    "promotion_code",
    "default_source",
)


def _unsupported(p: Params, *names: str) -> None:
    for name in names:
        if p.has(name):
            raise StripeAPIError(
                400,
                f"The Syncwright sandbox does not emulate `{name}` on this endpoint.",
                param=name,
                saved=False,
            )


def _item_specs(p: Params, key: str = "items") -> list[subs.ItemSpec] | None:
    entries = p.sub_list(key)
    if entries is None:
        return None
    specs: list[subs.ItemSpec] = []
    for i, entry in enumerate(entries):
        spec = subs.ItemSpec(
            price=entry.text("price"),
            quantity=entry.integer("quantity", minimum=0),
            item_id=entry.text("id"),
            deleted=bool(entry.boolean("deleted")),
            metadata=entry.metadata(),
            param=f"{key}[{i}]",
        )
        entry.ignore("tax_rates", "discounts", "billing_thresholds", "clear_usage")
        _unsupported(entry, "price_data", "plan")
        specs.append(spec)
    return specs


def _timestamp_or_now(p: Params, key: str) -> int | str | None:
    if p.raw.get(key) == "now":
        p.ignore(key)
        return "now"
    return p.integer(key)


# -- subscriptions ---------------------------------------------------------------------------


@router.post("/v1/subscriptions")
def create_subscription(request: Request) -> Response:
    call = begin(request)
    p, st = call.params, call.state
    customer_id = p.req_text("customer")
    specs = _item_specs(p)
    if not specs:
        raise parameter_missing("items")
    metadata = p.metadata()
    description = p.text("description")
    default_pm = p.text("default_payment_method")
    collection = p.choice("collection_method", ("charge_automatically", "send_invoice"))
    days_until_due = p.integer("days_until_due", minimum=0)
    behavior = p.choice("payment_behavior", PAYMENT_BEHAVIORS) or "allow_incomplete"
    trial_end = _timestamp_or_now(p, "trial_end")
    trial_days = p.integer("trial_period_days", minimum=0)
    cancel_at_period_end = bool(p.boolean("cancel_at_period_end"))
    cancel_at = p.integer("cancel_at")
    p.choice("proration_behavior", PRORATION_BEHAVIORS)
    _unsupported(
        p, "billing_cycle_anchor", "billing_cycle_anchor_config", *UNSUPPORTED_SUBSCRIPTION_PARAMS
    )
    p.ignore(*IGNORED_SUBSCRIPTION_PARAMS)
    p.finish()
    with st.lock:
        customer = st.get("customer", customer_id, param="customer")
        sub = subs.create_subscription(
            st,
            customer,
            specs,
            call.ctx,
            metadata=initial_metadata(metadata),
            description=description,
            default_payment_method=default_pm,
            collection_method=collection or "charge_automatically",
            days_until_due=days_until_due,
            payment_behavior=behavior,
            trial_end=None if trial_end in (None, "now") else int(trial_end),
            trial_period_days=None if trial_end == "now" else trial_days,
            cancel_at_period_end=cancel_at_period_end,
            cancel_at=cancel_at,
        )
        return call.ok("subscription", sub)


@router.get("/v1/subscriptions/{sid}")
def retrieve_subscription(request: Request, sid: str) -> Response:
    return begin(request).retrieve("subscription", sid)


def _apply_item_changes(
    st: StripeState,
    sub: dict[str, Any],
    specs: list[subs.ItemSpec],
    ctx: RequestContext,
    *,
    proration_behavior: str,
    proration_date: int | None,
) -> None:
    reset = subs.update_items(
        st,
        sub,
        specs,
        ctx,
        proration_behavior=proration_behavior,
        proration_date=proration_date,
    )
    if reset:
        subs.invoice_subscription_now(
            st, sub, ctx, reason="subscription_update", include_items=True
        )
    elif proration_behavior == "always_invoice":
        subs.invoice_subscription_now(
            st, sub, ctx, reason="subscription_update", include_items=False
        )


@router.post("/v1/subscriptions/{sid}")
def update_subscription(request: Request, sid: str) -> Response:
    call = begin(request)
    p, st = call.params, call.state
    specs = _item_specs(p)
    behavior = p.choice("proration_behavior", PRORATION_BEHAVIORS) or "create_prorations"
    proration_date = p.integer("proration_date")
    cancel_at_period_end = p.boolean("cancel_at_period_end")
    cancel_at_given = p.has("cancel_at")
    cancel_at = p.integer("cancel_at")
    metadata = p.metadata()
    description_given = p.has("description")
    description = p.text("description")
    pm_given = p.has("default_payment_method")
    default_pm = p.text("default_payment_method")
    collection = p.choice("collection_method", ("charge_automatically", "send_invoice"))
    days_until_due = p.integer("days_until_due", minimum=0)
    details = p.sub("cancellation_details")
    comment = details.text("comment") if details else None
    feedback = details.text("feedback") if details else None
    p.choice("payment_behavior", PAYMENT_BEHAVIORS)
    _unsupported(
        p, "trial_end", "billing_cycle_anchor", "pause_collection", *UNSUPPORTED_SUBSCRIPTION_PARAMS
    )
    p.ignore(*IGNORED_SUBSCRIPTION_PARAMS)
    p.finish()
    with st.lock:
        sub = st.get("subscription", sid)
        before = st.render("subscription", sub)
        changes_billing = specs or cancel_at_period_end is not None or cancel_at_given or pm_given
        if sub["status"] in ("canceled", "incomplete_expired") and changes_billing:
            raise invalid_request(
                "A canceled subscription can only update its cancellation_details and metadata."
            )
        if specs:
            _apply_item_changes(
                st, sub, specs, call.ctx, proration_behavior=behavior, proration_date=proration_date
            )
        _, period_end = bl.sub_period(st, sub)
        if cancel_at_period_end is not None:
            sub["cancel_at_period_end"] = cancel_at_period_end
            sub["cancel_at"] = period_end if cancel_at_period_end else None
            sub["canceled_at"] = st.customer_now(sub["customer"]) if cancel_at_period_end else None
        if cancel_at_given:
            sub["cancel_at"] = cancel_at
            sub["cancel_at_period_end"] = cancel_at is not None and cancel_at == period_end
        if description_given:
            sub["description"] = description
        if pm_given:
            sub["default_payment_method"] = (
                bl.resolve_payment_method(
                    st, default_pm, sub["customer"], param="default_payment_method"
                )
                if default_pm
                else None
            )
        if collection is not None:
            sub["collection_method"] = collection
        if days_until_due is not None:
            sub["days_until_due"] = days_until_due
        if details is not None:
            sub["cancellation_details"]["comment"] = comment
            sub["cancellation_details"]["feedback"] = feedback
        apply_metadata(sub["metadata"], metadata)
        return call.updated("subscription", sub, before, event="customer.subscription.updated")


@router.delete("/v1/subscriptions/{sid}")
def cancel_subscription(request: Request, sid: str) -> Response:
    call = begin(request)
    p, st = call.params, call.state
    invoice_now = bool(p.boolean("invoice_now"))
    prorate = bool(p.boolean("prorate"))
    details = p.sub("cancellation_details")
    comment = details.text("comment") if details else None
    feedback = details.text("feedback") if details else None
    p.finish()
    with st.lock:
        sub = st.get("subscription", sid)
        at = st.customer_now(sub["customer"])
        subs.end_subscription(
            st,
            sub,
            call.ctx,
            at=at,
            prorate=prorate,
            invoice_now=invoice_now,
            comment=comment,
            feedback=feedback,
        )
        return call.ok("subscription", sub)


@router.get("/v1/subscriptions")
def list_subscriptions(request: Request) -> Response:
    call = begin(request)
    p, st = call.params, call.state
    customer = p.text("customer")
    price = p.text("price")
    status = p.choice(
        "status",
        (
            "active",
            "all",
            "canceled",
            "ended",
            "incomplete",
            "incomplete_expired",
            "past_due",
            "paused",
            "trialing",
            "unpaid",
        ),
    )
    clock = p.text("test_clock")
    collection = p.text("collection_method")
    created = created_filter(p)
    p.ignore("automatic_tax", "current_period_end", "current_period_start")

    def status_ok(s: dict[str, Any]) -> bool:
        if status is None:
            return s["status"] not in ("canceled", "incomplete_expired")
        if status == "all":
            return True
        if status == "ended":
            return s["status"] in ("canceled", "incomplete_expired")
        return bool(s["status"] == status)

    def has_price(s: dict[str, Any]) -> bool:
        return any(si["price"] == price for si in bl.sub_items(st, s["id"]))

    return call.list_where(
        "subscription",
        "/v1/subscriptions",
        lambda s: (
            fields_match(s, customer=customer, test_clock=clock, collection_method=collection)
            and (price is None or has_price(s))
            and status_ok(s)
            and created(s)
        ),
    )


# -- subscription items ----------------------------------------------------------------------


def _item_call(call: Call) -> tuple[str, int | None]:
    p = call.params
    behavior = p.choice("proration_behavior", PRORATION_BEHAVIORS) or "create_prorations"
    return behavior, p.integer("proration_date")


def _after_item_change(call: Call, sub: dict[str, Any], before: dict[str, Any]) -> None:
    bl.emit_update(
        call.state, "customer.subscription.updated", "subscription", sub, before, call.ctx
    )


@router.post("/v1/subscription_items")
def create_subscription_item(request: Request) -> Response:
    call = begin(request)
    p, st = call.params, call.state
    sid = p.req_text("subscription")
    spec = subs.ItemSpec(
        price=p.req_text("price"),
        quantity=p.integer("quantity", minimum=0),
        metadata=p.metadata(),
        param="",
    )
    behavior, date = _item_call(call)
    p.ignore("payment_behavior", "tax_rates", "discounts", "billing_thresholds")
    _unsupported(p, "price_data", "plan")
    p.finish()
    with st.lock:
        sub = st.get("subscription", sid, param="subscription")
        before = st.render("subscription", sub)
        existing = {si["id"] for si in bl.sub_items(st, sid)}
        _apply_item_changes(
            st, sub, [spec], call.ctx, proration_behavior=behavior, proration_date=date
        )
        _after_item_change(call, sub, before)
        created = [si for si in bl.sub_items(st, sid) if si["id"] not in existing]
        return call.ok("subscription_item", created[-1])


@router.get("/v1/subscription_items/{item_id}")
def retrieve_subscription_item(request: Request, item_id: str) -> Response:
    return begin(request).retrieve("subscription_item", item_id)


@router.post("/v1/subscription_items/{item_id}")
def update_subscription_item(request: Request, item_id: str) -> Response:
    call = begin(request)
    p, st = call.params, call.state
    spec = subs.ItemSpec(
        price=p.text("price"),
        quantity=p.integer("quantity", minimum=0),
        metadata=p.metadata(),
        item_id=item_id,
        param="",
    )
    behavior, date = _item_call(call)
    p.ignore("payment_behavior", "tax_rates", "discounts", "billing_thresholds", "off_session")
    _unsupported(p, "price_data", "plan")
    p.finish()
    with st.lock:
        si = st.get("subscription_item", item_id)
        sub = st.get("subscription", si["subscription"])
        before = st.render("subscription", sub)
        _apply_item_changes(
            st, sub, [spec], call.ctx, proration_behavior=behavior, proration_date=date
        )
        _after_item_change(call, sub, before)
        return call.ok("subscription_item", si)


@router.delete("/v1/subscription_items/{item_id}")
def delete_subscription_item(request: Request, item_id: str) -> Response:
    call = begin(request)
    p, st = call.params, call.state
    behavior, date = _item_call(call)
    p.ignore("clear_usage")
    p.finish()
    with st.lock:
        si = st.get("subscription_item", item_id)
        sub = st.get("subscription", si["subscription"])
        before = st.render("subscription", sub)
        spec = subs.ItemSpec(item_id=item_id, deleted=True, param="")
        _apply_item_changes(
            st, sub, [spec], call.ctx, proration_behavior=behavior, proration_date=date
        )
        _after_item_change(call, sub, before)
        return json_response(deleted(item_id, "subscription_item"))


@router.get("/v1/subscription_items")
def list_subscription_items(request: Request) -> Response:
    call = begin(request)
    p, st = call.params, call.state
    sid = p.req_text("subscription")
    with st.lock:
        st.get("subscription", sid, param="subscription")
        items = list(reversed(bl.sub_items(st, sid)))
        return call.listing(
            "subscription_item",
            items,
            f"/v1/subscription_items?subscription={sid}",
            kind_name="subscription item",
        )

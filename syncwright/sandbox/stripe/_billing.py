"""Stripe Billing's money side: payment methods, invoices, collection, and shared helpers.

All functions run under ``st.lock`` (callers hold it) and take the simulated time ``at`` from the
customer's test clock (or the wall clock). What they model, with the doc each follows:

- Invoice lifecycle: https://docs.stripe.com/invoicing/overview (draft -> open -> paid | void |
  uncollectible; numbers ``<customer prefix>-0001`` assigned at finalization; the customer
  balance applied at finalization).
- Collection: a PaymentIntent per attempt series (``invoice.payments`` when expanded), test
  payment methods deciding the outcome (https://docs.stripe.com/testing#declined-payments).
- Automatic collection retries ("Smart Retries" stand-in): attempts 3, 5 and 7 days apart, then
  the subscription is cancelled (Stripe's default "cancel the subscription" setting):
  https://docs.stripe.com/billing/revenue-recovery/smart-retries.
"""

from __future__ import annotations

import calendar
import copy
import datetime as dt
from typing import Any

from . import _objects as ob
from ._errors import StripeAPIError, card_declined, invalid_request, resource_missing
from ._state import (
    AUTOMATIC,
    PAYMENT_SWITCH_METADATA_KEY,
    TEST_PAYMENT_METHODS,
    RequestContext,
    StripeState,
)

# Stripe writes the multiplication sign (U+00D7) in line descriptions: "2 x Pro" with it.
TIMES = "\u00d7"
FINALIZE_DELAY_SECONDS = 3600
INCOMPLETE_EXPIRY_SECONDS = 23 * 3600
RETRY_SCHEDULE_DAYS = (3, 5, 7)
LIVE_SUB_STATUSES = ("active", "past_due", "trialing", "unpaid")

DECLINES = {
    "generic_decline": ("card_declined", "Your card was declined."),
    "insufficient_funds": ("card_declined", "Your card has insufficient funds."),
    "expired_card": ("expired_card", "Your card has expired."),
}


# -- small helpers ---------------------------------------------------------------------------


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Stripe's ``previous_attributes``: the old values of what changed (hashes recursively)."""
    out: dict[str, Any] = {}
    for key, new in after.items():
        old = before.get(key)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict) and old.get("object") != "list":
            out[key] = {k: old.get(k) for k in set(old) | set(new) if old.get(k) != new.get(k)}
        else:
            out[key] = copy.deepcopy(old)
    return out


def emit_update(
    st: StripeState,
    event_type: str,
    kind: str,
    obj: dict[str, Any],
    before: dict[str, Any],
    ctx: RequestContext,
) -> None:
    """Emit ``*.updated`` with ``previous_attributes`` if anything visible changed."""
    previous = diff(before, st.render(kind, obj))
    if previous:
        st.emit(event_type, kind, obj, ctx, previous)


def money(amount: int, currency: str) -> str:
    symbol = {"usd": "$", "eur": "€", "gbp": "£", "cad": "CA$", "aud": "A$"}.get(currency)
    value = f"{abs(amount) / 100:,.2f}"
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol}{value}" if symbol else f"{sign}{value} {currency.upper()}"


def day_label(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%-d %b %Y")


def add_interval(anchor: int, interval: str, count: int, times: int) -> int:
    """``anchor`` plus ``times * count`` intervals, months clamped to the anchor's day."""
    if interval == "day":
        return anchor + 86400 * count * times
    if interval == "week":
        return anchor + 7 * 86400 * count * times
    base = dt.datetime.fromtimestamp(anchor, dt.UTC)
    months = count * times * (12 if interval == "year" else 1)
    index = base.month - 1 + months
    year, month = base.year + index // 12, index % 12 + 1
    day = min(base.day, calendar.monthrange(year, month)[1])
    return int(base.replace(year=year, month=month, day=day).timestamp())


def next_boundary(anchor: int, interval: str, count: int, after: int) -> int:
    """The first billing-cycle boundary strictly after ``after``."""
    times = 1
    while True:
        candidate = add_interval(anchor, interval, count, times)
        if candidate > after:
            return candidate
        times += 1


def price_of(st: StripeState, price_id: str) -> dict[str, Any]:
    return st.get("price", price_id)


def product_name(st: StripeState, price: dict[str, Any]) -> str:
    prod = st.find("product", price["product"])
    return str(prod["name"]) if prod else str(price["product"])


def interval_label(price: dict[str, Any]) -> str:
    rec = price["recurring"] or {}
    count = rec.get("interval_count", 1)
    return rec.get("interval", "") if count == 1 else f"every {count} {rec.get('interval')}s"


def sub_items(st: StripeState, sub_id: str) -> list[dict[str, Any]]:
    return sorted(
        (si for si in st.objects["subscription_item"].values() if si["subscription"] == sub_id),
        key=st.sort_key,
    )


def sub_period(st: StripeState, sub: dict[str, Any]) -> tuple[int, int]:
    items = sub_items(st, sub["id"])
    if not items:
        return sub["billing_cycle_anchor"], sub["billing_cycle_anchor"]
    return items[0]["current_period_start"], items[0]["current_period_end"]


def sub_interval(st: StripeState, sub: dict[str, Any]) -> tuple[str, int]:
    for si in sub_items(st, sub["id"]):
        rec = price_of(st, si["price"])["recurring"]
        return rec["interval"], rec["interval_count"]
    return "month", 1


# -- payment methods -------------------------------------------------------------------------


def resolve_payment_method(
    st: StripeState, value: str, customer_id: str | None, *, param: str
) -> str:
    """Turn a test token (``pm_card_visa``) or an existing ``pm_...`` id into a stored id.

    Stripe's test tokens create a new PaymentMethod each time they are used; the token decides
    how its charges behave (https://docs.stripe.com/testing#cards).
    """
    if value in TEST_PAYMENT_METHODS:
        behaviour, brand, last4 = TEST_PAYMENT_METHODS[value]
        at = st.customer_now(customer_id)
        pm = ob.payment_method(ob.new_id("pm"), at, brand=brand, last4=last4)
        st.put("payment_method", pm)
        st.payment_behaviour[pm["id"]] = behaviour
        pm_id = str(pm["id"])
    else:
        found = st.find("payment_method", value)
        if found is None:
            raise resource_missing("PaymentMethod", value, param)
        pm_id = value
    if customer_id:
        attach_payment_method(st, pm_id, customer_id, AUTOMATIC)
    return pm_id


def attach_payment_method(
    st: StripeState, pm_id: str, customer_id: str, ctx: RequestContext
) -> dict[str, Any]:
    pm = st.get("payment_method", pm_id)
    if pm["customer"] == customer_id:
        return pm
    if pm["customer"] is not None:
        raise invalid_request(
            "The payment method you provided has already been attached to a customer."
        )
    pm["customer"] = customer_id
    st.emit("payment_method.attached", "payment_method", pm, ctx)
    return pm


def customer_default_pm(
    st: StripeState, customer: dict[str, Any], sub: dict[str, Any] | None
) -> str | None:
    if sub is not None and sub.get("default_payment_method"):
        return str(sub["default_payment_method"])
    found = customer["invoice_settings"].get("default_payment_method")
    return str(found) if found else None


def charge_outcome(st: StripeState, customer: dict[str, Any], pm_id: str | None) -> str | None:
    """None when a charge succeeds, else a decline code (``"missing"`` without a method).

    Precedence: the state's per-customer switch, then ``metadata[sandbox_payment]`` on the
    customer (``fail`` / ``succeed``), then the payment method's test behaviour.
    """
    switch = st.customer_payment_switch.get(customer["id"]) or customer["metadata"].get(
        PAYMENT_SWITCH_METADATA_KEY
    )
    if switch == "fail":
        return "generic_decline"
    if pm_id is None:
        return "missing" if switch != "succeed" else None
    if switch == "succeed":
        return None
    behaviour = st.payment_behaviour.get(pm_id, "succeed")
    return None if behaviour == "succeed" else behaviour


def decline_error(code: str, extra: dict[str, Any] | None = None) -> StripeAPIError:
    if code == "missing":
        return StripeAPIError(
            402,
            "Cannot charge a customer that has no active card",
            type="card_error",
            code="missing",
            param="card",
            extra=extra,
        )
    err_code, message = DECLINES.get(code, DECLINES["generic_decline"])
    err = card_declined(message, decline_code=code, extra=extra)
    err.code = err_code
    return err


def payment_error_object(code: str, pm_id: str | None) -> dict[str, Any]:
    if code == "missing":
        return {
            "code": "payment_method_missing" if pm_id is None else "missing",
            "message": "The customer has no default payment method.",
            "type": "invalid_request_error",
        }
    err_code, message = DECLINES.get(code, DECLINES["generic_decline"])
    return {
        "charge": None,
        "code": err_code,
        "decline_code": code,
        "doc_url": f"https://docs.stripe.com/error-codes/{err_code.replace('_', '-')}",
        "message": message,
        "payment_method": {"id": pm_id, "object": "payment_method", "type": "card"},
        "type": "card_error",
    }


# -- invoices --------------------------------------------------------------------------------


def recompute_invoice(st: StripeState, inv: dict[str, Any]) -> None:
    lines = st.invoice_lines.get(inv["id"], [])
    total = sum(int(line["amount"]) for line in lines)
    inv["subtotal"] = inv["subtotal_excluding_tax"] = total
    inv["total"] = inv["total_excluding_tax"] = total
    if inv["status"] == "draft":
        inv["amount_due"] = max(total, 0)
    else:
        after_balance = max(total + inv["starting_balance"], 0)
        inv["amount_due"] = max(after_balance - inv["pre_payment_credit_notes_amount"], 0)
    inv["amount_remaining"] = max(inv["amount_due"] - inv["amount_paid"], 0)


def new_invoice(
    st: StripeState,
    customer: dict[str, Any],
    *,
    at: int,
    currency: str,
    billing_reason: str,
    sub: dict[str, Any] | None = None,
    collection_method: str = "charge_automatically",
    days_until_due: int | None = None,
    auto_advance: bool = True,
    period: tuple[int, int] | None = None,
    description: str | None = None,
    metadata: dict[str, str] | None = None,
    default_payment_method: str | None = None,
) -> dict[str, Any]:
    inv = ob.invoice(
        ob.new_id("in"),
        at,
        customer_obj=customer,
        currency=currency,
        billing_reason=billing_reason,
        subscription=sub["id"] if sub else None,
        subscription_metadata=sub["metadata"] if sub else None,
        collection_method=collection_method,
        auto_advance=auto_advance,
        period_start=period[0] if period else at,
        period_end=period[1] if period else at,
        description=description,
        metadata=metadata,
        default_payment_method=default_payment_method,
    )
    st.put("invoice", inv)
    st.invoice_lines[inv["id"]] = []
    st.invoice_days_until_due[inv["id"]] = days_until_due
    if customer["currency"] is None:
        customer["currency"] = currency
    return inv


def add_line(st: StripeState, inv: dict[str, Any], line: dict[str, Any]) -> None:
    line["invoice"] = inv["id"]
    st.invoice_lines[inv["id"]].append(line)
    recompute_invoice(st, inv)


def subscription_item_line(
    st: StripeState,
    sub: dict[str, Any],
    si: dict[str, Any],
    period: tuple[int, int],
    *,
    trial: bool = False,
) -> dict[str, Any]:
    price = price_of(st, si["price"])
    qty = int(si["quantity"])
    name = product_name(st, price)
    unit = int(price["unit_amount"] or 0)
    if trial:
        description = f"Trial period for {name}"
        amount = 0
    else:
        description = (
            f"{qty} {TIMES} {name} (at {money(unit, price['currency'])} / {interval_label(price)})"
        )
        amount = unit * qty
    return ob.line_item(
        ob.new_id("il"),
        invoice_id=None,
        amount=amount,
        currency=price["currency"],
        description=description,
        quantity=qty,
        period=period,
        price=price,
        subscription_id=sub["id"],
        subscription_item_id=si["id"],
    )


def invoice_item_line(st: StripeState, ii: dict[str, Any]) -> dict[str, Any]:
    details = ii["parent"]["subscription_details"] if ii["parent"] else None
    price_id = ii["pricing"]["price_details"]["price"] if ii["pricing"] else None
    return ob.line_item(
        ob.new_id("il"),
        invoice_id=None,
        amount=ii["amount"],
        currency=ii["currency"],
        description=ii["description"],
        quantity=ii["quantity"],
        period=(ii["period"]["start"], ii["period"]["end"]),
        price=st.find("price", price_id) if price_id else None,
        subscription_id=details["subscription"] if details else None,
        invoice_item_id=ii["id"],
        proration=ii["proration"],
        metadata=ii["metadata"],
    )


def pull_pending_items(
    st: StripeState,
    inv: dict[str, Any],
    ctx: RequestContext,
    *,
    subscription_id: str | None,
) -> None:
    """Move the customer's pending invoice items onto ``inv`` (a subscription's, or one-offs)."""
    for ii in sorted(st.objects["invoiceitem"].values(), key=st.sort_key):
        if ii["customer"] != inv["customer"] or ii["invoice"] is not None:
            continue
        owner = ii["parent"]["subscription_details"]["subscription"] if ii["parent"] else None
        if owner != subscription_id:
            continue
        before = st.render("invoiceitem", ii)
        ii["invoice"] = inv["id"]
        add_line(st, inv, invoice_item_line(st, ii))
        emit_update(st, "invoiceitem.updated", "invoiceitem", ii, before, ctx)


def finalize_invoice(
    st: StripeState, inv: dict[str, Any], ctx: RequestContext, *, at: int
) -> dict[str, Any]:
    if inv["status"] != "draft":
        raise invalid_request(
            "This invoice is already finalized, you can't re-finalize a non-draft invoice."
        )
    customer = st.get("customer", inv["customer"])
    before_customer = st.render("customer", customer)
    recompute_invoice(st, inv)
    balance = int(customer["balance"])
    inv["starting_balance"] = balance
    combined = int(inv["total"]) + balance
    inv["ending_balance"] = min(combined, 0)
    customer["balance"] = inv["ending_balance"]
    seq = int(customer["next_invoice_sequence"])
    inv["number"] = f"{customer['invoice_prefix']}-{seq:04d}"
    customer["next_invoice_sequence"] = seq + 1
    inv["status"] = "open"
    inv["status_transitions"]["finalized_at"] = at
    inv["effective_at"] = at
    inv["automatically_finalizes_at"] = None
    inv["webhooks_delivered_at"] = at
    if inv["collection_method"] == "send_invoice":
        days = st.invoice_days_until_due.get(inv["id"])
        inv["due_date"] = at + 86400 * int(days if days is not None else 30)
    recompute_invoice(st, inv)
    if balance != customer["balance"]:
        emit_update(st, "customer.updated", "customer", customer, before_customer, ctx)
    st.emit("invoice.finalized", "invoice", inv, ctx)
    if inv["amount_remaining"] == 0:
        mark_paid(st, inv, ctx, at=at)
    return inv


def mark_paid(st: StripeState, inv: dict[str, Any], ctx: RequestContext, *, at: int) -> None:
    inv["status"] = "paid"
    inv["status_transitions"]["paid_at"] = at
    inv["next_payment_attempt"] = None
    inv["auto_advance"] = False
    recompute_invoice(st, inv)
    st.emit("invoice.paid", "invoice", inv, ctx)
    st.emit("invoice.payment_succeeded", "invoice", inv, ctx)
    on_invoice_paid(st, inv, ctx, at=at)


def _invoice_sub(st: StripeState, inv: dict[str, Any]) -> dict[str, Any] | None:
    parent = inv.get("parent") or {}
    details = parent.get("subscription_details") or {}
    return st.find("subscription", details.get("subscription"))


def on_invoice_paid(st: StripeState, inv: dict[str, Any], ctx: RequestContext, *, at: int) -> None:
    sub = _invoice_sub(st, inv)
    if sub is None or sub["latest_invoice"] != inv["id"]:
        return
    if sub["status"] in ("incomplete", "past_due", "unpaid"):
        before = st.render("subscription", sub)
        sub["status"] = "active"
        emit_update(st, "customer.subscription.updated", "subscription", sub, before, ctx)


def _invoice_pi(st: StripeState, inv: dict[str, Any]) -> dict[str, Any] | None:
    payments = st.invoice_payments.get(inv["id"]) or []
    if not payments:
        return None
    return st.find("payment_intent", payments[-1]["payment"]["payment_intent"])


def pay_invoice(
    st: StripeState,
    inv: dict[str, Any],
    ctx: RequestContext,
    *,
    at: int,
    payment_method: str | None = None,
    paid_out_of_band: bool = False,
    raise_on_failure: bool = False,
) -> dict[str, Any]:
    """Attempt to collect ``inv`` (finalizing a draft first, as ``/pay`` does)."""
    if inv["status"] == "draft":
        finalize_invoice(st, inv, ctx, at=at)
    if inv["status"] == "paid":
        if raise_on_failure:
            raise invalid_request("Invoice is already paid")
        return inv
    if inv["status"] != "open":
        raise invalid_request(f"This invoice can no longer be paid: its status is {inv['status']}.")
    if paid_out_of_band:
        inv["amount_paid"] = inv["amount_due"]
        mark_paid(st, inv, ctx, at=at)
        return inv
    customer = st.get("customer", inv["customer"])
    sub = _invoice_sub(st, inv)
    pm_id = (
        payment_method
        or inv.get("default_payment_method")
        or customer_default_pm(st, customer, sub)
    )
    amount = int(inv["amount_remaining"])
    pi = _invoice_pi(st, inv)
    if pi is None or pi["status"] in ("succeeded", "canceled"):
        pi = new_invoice_pi(st, inv, ctx, at=at, amount=amount, pm_id=pm_id)
    pi["payment_method"] = pm_id
    pi["amount"] = amount
    outcome = charge_outcome(st, customer, pm_id)
    inv["attempted"] = True
    inv["attempt_count"] = int(inv["attempt_count"]) + 1
    record = st.invoice_payments[inv["id"]][-1]
    if outcome is None:
        from ._refunds import record_charge  # a cycle: refund routes use the routing helpers

        pi["status"] = "succeeded"
        pi["amount_received"] = amount
        pi["last_payment_error"] = None
        record_charge(st, pi, at)
        st.emit("payment_intent.succeeded", "payment_intent", pi, ctx)
        record["status"] = "paid"
        record["amount_paid"] = amount
        record["status_transitions"]["paid_at"] = at
        inv["amount_paid"] = int(inv["amount_paid"]) + amount
        mark_paid(st, inv, ctx, at=at)
        return inv
    pi["status"] = "requires_payment_method"
    pi["last_payment_error"] = payment_error_object(outcome, pm_id)
    st.emit("payment_intent.payment_failed", "payment_intent", pi, ctx)
    inv["next_payment_attempt"] = _next_attempt(inv, at)
    recompute_invoice(st, inv)
    st.emit("invoice.payment_failed", "invoice", inv, ctx)
    on_invoice_payment_failed(st, inv, ctx, at=at)
    if raise_on_failure:
        raise decline_error(outcome)
    return inv


def new_invoice_pi(
    st: StripeState,
    inv: dict[str, Any],
    ctx: RequestContext,
    *,
    at: int,
    amount: int,
    pm_id: str | None,
    confirm_later: bool = False,
) -> dict[str, Any]:
    """A PaymentIntent collecting ``amount`` of ``inv``, recorded among the invoice's payments.

    ``confirm_later`` (``default_incomplete``): one that already has a payment method waits in
    ``requires_confirmation`` for the customer to confirm it.
    """
    pi = ob.payment_intent(
        ob.new_id("pi"),
        at,
        amount=amount,
        currency=inv["currency"],
        description=pi_description(inv),
        customer=inv["customer"],
        payment_method=pm_id,
    )
    if confirm_later and pm_id:
        pi["status"] = "requires_confirmation"
    st.put("payment_intent", pi)
    st.invoice_payments[inv["id"]].append(
        ob.invoice_payment(
            ob.new_id("inpay"),
            at,
            invoice_id=inv["id"],
            pi_id=pi["id"],
            amount=amount,
            currency=inv["currency"],
        )
    )
    st.emit("payment_intent.created", "payment_intent", pi, ctx)
    return pi


def pi_description(inv: dict[str, Any]) -> str:
    return {
        "subscription_create": "Subscription creation",
        "subscription_cycle": "Subscription cycle",
        "subscription_update": "Subscription update",
    }.get(str(inv["billing_reason"]), "Payment for Invoice")


def _next_attempt(inv: dict[str, Any], at: int) -> int | None:
    if (
        inv["collection_method"] != "charge_automatically"
        or not inv["auto_advance"]
        or inv["billing_reason"] == "subscription_create"
    ):
        return None
    done = int(inv["attempt_count"])
    if done > len(RETRY_SCHEDULE_DAYS):
        return None
    return at + 86400 * RETRY_SCHEDULE_DAYS[done - 1]


def on_invoice_payment_failed(
    st: StripeState, inv: dict[str, Any], ctx: RequestContext, *, at: int
) -> None:
    sub = _invoice_sub(st, inv)
    if sub is None or sub["latest_invoice"] != inv["id"]:
        return
    if inv.get("collection_method") == "send_invoice":
        # Smart Retries and the "cancel after all retries fail" setting are for invoices Stripe
        # charges automatically; an invoice sent to the customer that a payment attempt fails
        # on stays open until its due date, and so does the subscription's status.
        # https://docs.stripe.com/billing/subscriptions/overview#failed-payments
        return
    before = st.render("subscription", sub)
    if inv["next_payment_attempt"] is None and inv["billing_reason"] != "subscription_create":
        # Every retry failed: Stripe's default setting cancels the subscription.
        if sub["status"] in LIVE_SUB_STATUSES:
            from ._subscriptions import end_subscription  # a cycle: subscriptions use invoices

            end_subscription(st, sub, ctx, at=at, reason="payment_failed")
        return
    if sub["status"] in ("active", "trialing"):
        sub["status"] = "past_due"
        emit_update(st, "customer.subscription.updated", "subscription", sub, before, ctx)


def _stop_collection(inv: dict[str, Any], status: str, transition: str, at: int) -> None:
    """Move ``inv`` to ``status`` (stamping ``status_transitions[transition]``); Stripe makes no
    further automatic payment attempts on it."""
    inv["status"] = status
    inv["status_transitions"][transition] = at
    inv["next_payment_attempt"] = None
    inv["auto_advance"] = False


def void_invoice(st: StripeState, inv: dict[str, Any], ctx: RequestContext, *, at: int) -> None:
    if inv["status"] not in ("open", "uncollectible"):
        raise invalid_request(
            f"You can only void open or uncollectible invoices; this invoice is {inv['status']}."
        )
    _stop_collection(inv, "void", "voided_at", at)
    pi = _invoice_pi(st, inv)
    if pi is not None and pi["status"] not in ("succeeded", "canceled"):
        pi["status"] = "canceled"
        pi["canceled_at"] = at
        pi["cancellation_reason"] = "void_invoice"
        st.emit("payment_intent.canceled", "payment_intent", pi, ctx)
    st.emit("invoice.voided", "invoice", inv, ctx)


def mark_uncollectible(
    st: StripeState, inv: dict[str, Any], ctx: RequestContext, *, at: int
) -> None:
    if inv["status"] != "open":
        raise invalid_request(
            f"You can only mark open invoices as uncollectible; this invoice is {inv['status']}."
        )
    _stop_collection(inv, "uncollectible", "marked_uncollectible_at", at)
    st.emit("invoice.marked_uncollectible", "invoice", inv, ctx)

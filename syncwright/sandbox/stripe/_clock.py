"""Time: what falls due when a test clock advances, or when real time passes.

Docs: https://docs.stripe.com/billing/testing/test-clocks. Due work runs in time order: period
ends (renew or cancel), incomplete subscriptions expiring after 23 hours, renewal drafts
finalizing an hour after creation, and payment retries.
"""

from __future__ import annotations

from typing import Any

from ._billing import (
    INCOMPLETE_EXPIRY_SECONDS,
    LIVE_SUB_STATUSES,
    add_interval,
    emit_update,
    finalize_invoice,
    pay_invoice,
    sub_interval,
    sub_period,
    void_invoice,
)
from ._errors import StripeAPIError
from ._state import AUTOMATIC, RequestContext, StripeState
from ._subscriptions import end_subscription, renew_subscription

# -- time: due work, test clocks -------------------------------------------------------------


def _in_scope(st: StripeState, customer_id: str, clock_id: str | None) -> bool:
    cust = st.find("customer", customer_id)
    if cust is None:
        return False
    return cust.get("test_clock") == clock_id


def _due_actions(
    st: StripeState, clock_id: str | None, until: int
) -> list[tuple[int, int, str, str]]:
    actions: list[tuple[int, int, str, str]] = []
    for sub in st.objects["subscription"].values():
        if not _in_scope(st, sub["customer"], clock_id):
            continue
        if sub["status"] == "incomplete":
            expiry = int(sub["created"]) + INCOMPLETE_EXPIRY_SECONDS
            if expiry <= until:
                actions.append((expiry, 0, "expire", sub["id"]))
        elif sub["status"] in LIVE_SUB_STATUSES:
            _, end = sub_period(st, sub)
            if (
                sub["cancel_at"] is not None
                and sub["cancel_at"] < end
                and sub["cancel_at"] <= until
            ):
                actions.append((int(sub["cancel_at"]), 1, "cancel", sub["id"]))
            elif end <= until:
                actions.append((end, 1, "renew", sub["id"]))
    for inv in st.objects["invoice"].values():
        if not _in_scope(st, inv["customer"], clock_id):
            continue
        due = inv.get("automatically_finalizes_at")
        if inv["status"] == "draft" and due is not None and due <= until:
            actions.append((int(due), 2, "finalize", inv["id"]))
        retry = inv.get("next_payment_attempt")
        if inv["status"] == "open" and retry is not None and retry <= until:
            actions.append((int(retry), 3, "retry", inv["id"]))
    return actions


def run_due(st: StripeState, clock_id: str | None, until: int) -> None:
    """Perform, in time order, everything that falls due up to ``until``."""
    clock = st.find("test_clock", clock_id) if clock_id else None
    for _ in range(10_000):
        actions = _due_actions(st, clock_id, until)
        if not actions:
            return
        when, _, action, oid = min(actions)
        if clock is not None:
            clock["frozen_time"] = max(int(clock["frozen_time"]), when)
        if action == "renew":
            renew_subscription(st, st.get("subscription", oid), at=when)
        elif action == "cancel":
            end_subscription(st, st.get("subscription", oid), AUTOMATIC, at=when)
        elif action == "expire":
            _expire_incomplete(st, st.get("subscription", oid), at=when)
        elif action == "finalize":
            inv = st.get("invoice", oid)
            finalize_invoice(st, inv, AUTOMATIC, at=when)
            if inv["status"] == "open" and inv["collection_method"] == "charge_automatically":
                pay_invoice(st, inv, AUTOMATIC, at=when)
        elif action == "retry":
            pay_invoice(st, st.get("invoice", oid), AUTOMATIC, at=when)
    raise RuntimeError("test clock advance did not converge")


def _expire_incomplete(st: StripeState, sub: dict[str, Any], *, at: int) -> None:
    before = st.render("subscription", sub)
    sub["status"] = "incomplete_expired"
    sub["ended_at"] = at
    inv = st.find("invoice", sub["latest_invoice"])
    if inv is not None and inv["status"] == "open":
        void_invoice(st, inv, AUTOMATIC, at=at)
    emit_update(st, "customer.subscription.updated", "subscription", sub, before, AUTOMATIC)


def tick(st: StripeState) -> None:
    """Let real time pass for objects not on a test clock (called before each API request)."""
    run_due(st, None, st.wall_now())


def attach_customer(st: StripeState, clock: dict[str, Any], customer: dict[str, Any]) -> None:
    """``customer`` on test clock create: an existing customer (with its subscriptions,
    invoices and invoice items) moves onto the new clock for good. Its billing so far ran on
    real time, so the clock may not start before now."""
    if customer.get("test_clock"):
        raise StripeAPIError(
            400,
            f"Customer {customer['id']} is already attached to test clock "
            f"{customer['test_clock']}; a customer cannot move to another clock.",
            param="customer",
        )
    if int(clock["frozen_time"]) < st.wall_now():
        raise StripeAPIError(
            400,
            "The frozen_time of a test clock attached to an existing customer cannot be in the "
            "past.",
            param="frozen_time",
        )
    for kind in ("subscription", "invoice", "invoiceitem"):
        for obj in st.objects[kind].values():
            if obj.get("customer") == customer["id"] and "test_clock" in obj:
                obj["test_clock"] = clock["id"]
    customer["test_clock"] = clock["id"]


def advance_clock(
    st: StripeState, clock: dict[str, Any], frozen_time: int, ctx: RequestContext
) -> dict[str, Any]:
    current = int(clock["frozen_time"])
    if frozen_time <= current:
        raise StripeAPIError(
            400,
            "The frozen_time must be after the test clock's current frozen_time.",
            param="frozen_time",
        )
    shortest: int | None = None
    for sub in st.objects["subscription"].values():
        if sub["status"] in LIVE_SUB_STATUSES and _in_scope(st, sub["customer"], clock["id"]):
            interval, count = sub_interval(st, sub)
            span = add_interval(current, interval, count, 2) - current
            shortest = span if shortest is None else min(shortest, span)
    if shortest is not None and frozen_time - current > shortest:
        raise StripeAPIError(
            400,
            "Cannot advance a test clock more than two intervals of the shortest subscription "
            "interval on it at once.",
            param="frozen_time",
        )
    clock["status"] = "advancing"
    st.emit("test_helpers.test_clock.advancing", "test_clock", clock, ctx)
    run_due(st, clock["id"], frozen_time)
    clock["frozen_time"] = frozen_time
    clock["status"] = "ready"
    st.emit("test_helpers.test_clock.ready", "test_clock", clock, ctx)
    return clock

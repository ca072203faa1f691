"""How many NetSuite requests each billing step makes: references come from the cross-reference,
transactions are one upsert with their sublists replaced, reads happen only where an answer
depends on them (read-backs, what is still due when less is open than a credit)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import TYPE_CHECKING

from syncwright.connectors.netsuite.outbound import (
    apply_payment,
    close_sales_order,
    mark_dunning,
    upsert_credit_memo,
    upsert_customer,
    upsert_invoice,
    upsert_sales_order,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.connectors.netsuite.conftest import NsWorld


def _requests(world: NsWorld, step: Callable[[], object]) -> Counter[str]:
    """The requests NetSuite counted (by kind) while ``step`` ran."""
    before = Counter(world.emulator.sandbox.stats()["requests_by_kind"])
    step()
    return Counter(world.emulator.sandbox.stats()["requests_by_kind"]) - before


def test_each_billing_step_asks_only_what_it_does_not_know(ns_world: NsWorld) -> None:
    world = ns_world
    account = world.account("acct_req", subsidiary="Parent Company", currency="USD")
    subscription = world.subscription(
        "sub_req", "acct_req", [("price_pro", 1, 9900)], currency="USD"
    )
    invoice = world.invoice(
        "inv_req", "acct_req", [("price_pro", 1, 9900)], currency="USD", subscription_id="sub_req"
    )
    paid = world.invoice(
        "inv_req",
        "acct_req",
        [("price_pro", 1, 9900)],
        currency="USD",
        subscription_id="sub_req",
        paid=True,
    )

    def run(step: Callable[..., object], *args: object) -> Callable[[], object]:
        return lambda: step(world.ctx(), "netsuite", *args)

    assert _requests(world, run(upsert_customer, account)) == {"PUT customer/eid": 1}
    assert _requests(world, run(upsert_sales_order, subscription)) == {"PUT salesOrder/eid": 1}
    assert _requests(world, run(upsert_invoice, invoice)) == {
        "PUT invoice/eid": 1,
        "GET invoice/id": 1,  # the read-back: what NetSuite booked is the result
    }
    assert _requests(world, run(mark_dunning, invoice, 1, "card_declined")) == {
        "PATCH invoice/id": 1
    }
    assert _requests(world, run(apply_payment, paid)) == {
        "PUT customerPayment/eid": 1,
        "GET invoice/id": 1,  # the invoice's standing after the payment
    }
    assert _requests(world, run(close_sales_order, subscription, "2026-03-01")) == {
        "POST suiteql": 1,  # the order's line numbers
        "PATCH salesOrder/id": 1,
    }
    order = world.state.find_by_external_id("salesOrder", "sub_req")
    booked = world.state.find_by_external_id("invoice", "inv_req")
    assert booked["createdFrom"] == order["id"]
    assert booked["status"] == "B"
    assert booked["custbody_dunning_attempts"] == 1


def test_a_credit_reads_the_memo_only_when_less_is_open_than_it_credits(
    ns_world: NsWorld,
) -> None:
    world = ns_world
    upsert_customer(world.ctx(), "netsuite", world.account("acct_cr"))
    invoice = world.invoice("inv_cr", "acct_cr", [("price_pro", 1, 5000)])
    written = upsert_invoice(world.ctx(), "netsuite", invoice)
    small = world.credit_note("cn_small", "acct_cr", "inv_cr", 1000)
    sent = _requests(world, lambda: upsert_credit_memo(world.ctx(), "netsuite", small))
    assert sent == {"GET invoice/id": 1, "PUT creditMemo/eid": 1, "GET creditMemo/id": 1}

    # 40.00 open, 60.00 credited: is any of what is open this memo's own, from before?
    big = world.credit_note("cn_big", "acct_cr", "inv_cr", 6000)
    first: dict[str, object] = {}
    sent = _requests(world, lambda: first.update(upsert_credit_memo(world.ctx(), "netsuite", big)))
    assert sent["GET creditMemo/eid"] == 1
    assert first["applied"] == {"amount_minor": 4000, "currency": "GBP"}
    # A replay: nothing is open now, but what the memo applied counts as open again.
    again = upsert_credit_memo(world.ctx(), "netsuite", big)
    assert again["native_id"] == first["native_id"]
    assert again["applied"] == {"amount_minor": 4000, "currency": "GBP"}
    assert world.state.get("invoice", written["native_id"])["amountRemaining"] == Decimal("0.00")


def test_a_stale_link_is_resolved_again_in_netsuite(ns_world: NsWorld) -> None:
    """The customer was deleted in NetSuite and created again under a new internal id: the
    cross-reference still names the old one, NetSuite refuses the order that names it (nothing
    written), and the step asks NetSuite by external id and writes the order once."""
    world = ns_world
    account = world.account("acct_stale")
    first = upsert_customer(world.ctx(), "netsuite", account)
    state = world.state
    body = {k: v for k, v in state.get("customer", first["native_id"]).items() if k != "id"}
    state.delete("customer", first["native_id"])
    recreated, _created = state.upsert("customer", "acct_stale", body)
    assert recreated != first["native_id"]

    subscription = world.subscription("sub_stale", "acct_stale", [("price_std", 1, 1234)])
    sent: Counter[str] = Counter()
    sent += _requests(world, lambda: upsert_sales_order(world.ctx(), "netsuite", subscription))
    assert sent == {"PUT salesOrder/eid": 2, "GET customer/eid": 1}  # refused, then written
    assert [state.get("salesOrder", i)["entity"] for i in state.ids("salesOrder")] == [recreated]


def test_a_payment_reads_what_is_due_only_when_netsuite_refuses_more(ns_world: NsWorld) -> None:
    world = ns_world
    upsert_customer(world.ctx(), "netsuite", world.account("acct_due"))
    upsert_invoice(
        world.ctx(), "netsuite", world.invoice("inv_due", "acct_due", [("price_pro", 1, 9900)])
    )
    note = world.credit_note("cn_due", "acct_due", "inv_due", 1000)
    upsert_credit_memo(world.ctx(), "netsuite", note)
    paid = world.invoice("inv_due", "acct_due", [("price_pro", 1, 9900)], paid=True)
    result: dict[str, object] = {}
    sent = _requests(world, lambda: result.update(apply_payment(world.ctx(), "netsuite", paid)))
    assert sent == {
        "PUT customerPayment/eid": 2,  # 99.00 refused (89.00 due), then 89.00 applied
        "GET customerPayment/eid": 1,  # did this payment apply some of it before?
        "GET invoice/id": 2,  # what is due; the invoice's standing after
    }
    booked = world.state.get("customerPayment", str(result["native_id"]))
    assert (booked["payment"], booked["applied"]) == (Decimal("99.00"), Decimal("89.00"))

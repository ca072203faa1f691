"""The customer's life after the first invoice on the second vendors, end to end through the
emulators' own records: Stripe -> Business Central and Chargebee -> NetSuite, two customers
each. One upgrades and is then cancelled (the ERP order's quantity follows, then its lines are
closed); the other's card is declined (dunning in the ERP), then the payment goes through (the
ERP's invoice is paid, the dunning undone). On Business Central, finance then puts a customer
on hold with new payment terms, and billing (Stripe) shows it (the ERP as a source)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from syncwright.demo.billing_world import BillingWorld
from syncwright.sandbox import ServerThread
from syncwright.sandbox.chargebee import ChargebeeState
from tests.connectors.chargebee._support import PRO_PRICE, make_catalog, sdk_for
from tests.e2e._second_vendor_worlds import (  # noqa: F401 - chargebee_world: a fixture
    World,
    chargebee_world,
    open_world,
)

SETTLE = 90.0


def _no_exceptions(runtime: Any) -> None:
    assert runtime.exceptions.count_open() == 0, [
        (r.code, r.message) for r in runtime.exceptions.list(status="open")
    ]


# -- Stripe -> Business Central --------------------------------------------------------------


@pytest.fixture
def bc_world(tmp_path: Path) -> Iterator[World]:
    with open_world(
        tmp_path,
        bc_options="      payment_journal: CASHRCPT\n",
        bc_poll_seconds=1,
    ) as opened:
        yield opened


def _bc_customer(world: World, name: str) -> dict[str, Any]:
    [found] = [c for c in world.rows("customers") if c["displayName"] == name]
    return found


def _bc_order_quantities(world: World, customer: dict[str, Any]) -> list[tuple[float, float]]:
    [order] = [o for o in world.rows("salesOrders") if o["customerId"] == customer["id"]]
    lines = [line for line in world.rows("salesOrderLines") if line["documentId"] == order["id"]]
    return [(line["quantity"], line.get("invoiceQuantity", line["quantity"])) for line in lines]


def test_stripe_lifecycle_reaches_business_central(bc_world: World) -> None:
    world = bc_world
    v1 = world.stripe.v1
    price = v1.prices.create(
        {
            "product": v1.products.create({"name": "Syncwright Cloud"}).id,
            "unit_amount": 3900,
            "currency": "gbp",
            "recurring": {"interval": "month"},
        }
    )
    card = {"payment_method": "pm_card_visa"}
    card_default = {"invoice_settings": {"default_payment_method": "pm_card_visa"}}
    up = v1.customers.create({"name": "Upgrade Ltd", **card, **card_default})
    late = v1.customers.create({"name": "Late Payer Ltd", **card, **card_default})
    up_sub = v1.subscriptions.create({"customer": up.id, "items": [{"price": price.id}]})
    v1.subscriptions.update(
        up_sub.id,
        {
            "items": [{"id": up_sub["items"].data[0].id, "quantity": 3}],
            "proration_behavior": "none",
        },
    )
    world.stripe_state.set_payment_behaviour(late.id, "fail")
    v1.subscriptions.create({"customer": late.id, "items": [{"price": price.id, "quantity": 2}]})
    world.wait_settled(SETTLE)
    _no_exceptions(world.runtime)
    assert _bc_order_quantities(world, _bc_customer(world, "Upgrade Ltd")) == [(3, 3)]
    assert _bc_customer(world, "Late Payer Ltd")["blocked"] == "Ship"  # dunning
    [late_invoice] = v1.invoices.list({"customer": late.id}).data
    assert late_invoice.status == "open" and late_invoice.attempt_count == 1

    world.stripe_state.set_payment_behaviour(late.id, "succeed")
    v1.invoices.pay(str(late_invoice.id))
    v1.subscriptions.cancel(up_sub.id)
    world.wait_settled(SETTLE)
    _no_exceptions(world.runtime)
    late_customer = _bc_customer(world, "Late Payer Ltd")
    assert late_customer["blocked"] == " " and late_customer["balanceDue"] == 0
    [invoice] = [i for i in world.rows("salesInvoices") if i["customerId"] == late_customer["id"]]
    assert invoice["status"] == "Paid" and invoice["totalAmountIncludingTax"] == 78
    assert all(q == (3, 0) for q in _bc_order_quantities(world, _bc_customer(world, "Upgrade Ltd")))

    # Finance puts the upgraded customer on hold with Net 60 terms in Business Central.
    connector = world.runtime.connection("bc")
    client = connector.client  # type: ignore[attr-defined]
    terms = client.find("paymentTerms", "code", "NET60")
    held = client.get("customers", _bc_customer(world, "Upgrade Ltd")["id"])
    client.update("customers", held, {"blocked": "Invoice", "paymentTermsId": terms["id"]})
    _wait_for(lambda: _metadata(world, up.id).get("credit_status") == "hold")
    world.wait_settled(SETTLE)
    assert _metadata(world, up.id)["payment_terms"] == "Net 60 days"
    # The dunning block syncwright set and lifted was its own write: no hold reached billing.
    assert _metadata(world, late.id).get("credit_status") in (None, "good")
    _no_exceptions(world.runtime)


def _metadata(world: World, customer: str) -> dict[str, Any]:
    metadata: dict[str, Any] = world.stripe.v1.customers.retrieve(customer).metadata.to_dict()
    return metadata


def _wait_for(condition: Callable[[], bool], timeout: float = SETTLE) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the change never arrived"
        time.sleep(0.3)


# -- Chargebee -> NetSuite -------------------------------------------------------------------


def _ns_invoice(world: BillingWorld, global_id: str) -> dict[str, Any]:
    with world.netsuite_client() as netsuite:
        found = netsuite.get_by_external_id("invoice", global_id)
        assert found is not None
        record: dict[str, Any] = netsuite.get("invoice", str(found["id"]))
        return record


def _ns_order_lines(world: BillingWorld, global_id: str) -> list[dict[str, Any]]:
    with world.netsuite_client() as netsuite:
        rows = list(netsuite.suiteql("SELECT id, externalid, recordtype FROM transaction"))
        [order] = [
            r for r in rows if r["recordtype"] == "salesorder" and r["externalid"] == global_id
        ]
        return [
            line
            for line in netsuite.suiteql(
                "SELECT transaction, item, quantity, isclosed FROM transactionline"
            )
            if line["transaction"] == order["id"]
        ]


def test_chargebee_lifecycle_reaches_netsuite(
    chargebee_world: tuple[BillingWorld, ChargebeeState, ServerThread],  # noqa: F811
) -> None:
    world, state, server = chargebee_world
    runtime = world.start_syncwright()
    sdk = sdk_for(server.url)
    make_catalog(sdk)
    up = sdk.Customer.create({"company": "Upgrade Inc", "email": "ap@up.example"}).customer
    up_sub = sdk.Subscription.create_with_items(
        up.id, {"subscription_items": [{"item_price_id": PRO_PRICE, "quantity": 1}]}
    ).subscription
    sdk.Subscription.update_for_items(
        up_sub.id, {"subscription_items": [{"item_price_id": PRO_PRICE, "quantity": 3}]}
    )
    late = sdk.Customer.create({"company": "Late Inc", "email": "ap@late.example"}).customer
    state.set_payment_behaviour(late.id, "fail")
    late_created = sdk.Subscription.create_with_items(
        late.id, {"subscription_items": [{"item_price_id": PRO_PRICE, "quantity": 2}]}
    )
    assert state.webhooks.drain(30)
    world.wait_settled(SETTLE)
    _no_exceptions(runtime)
    xref = runtime.xref
    late_invoice = xref.global_id_for("invoice", "chargebee", late_created.invoice.id)
    assert late_invoice is not None
    dunning = _ns_invoice(world, late_invoice)
    assert dunning["custbody_dunning_attempts"] == 1
    assert "card" in str(dunning["custbody_dunning_status"]).lower()
    up_global = xref.global_id_for("subscription", "chargebee", up_sub.id)
    assert up_global is not None
    assert [int(line["quantity"]) for line in _ns_order_lines(world, up_global)] == [3]

    state.set_payment_behaviour(late.id, None)
    paid = sdk.Invoice.collect_payment(late_created.invoice.id).invoice
    assert paid.status == "paid"
    sdk.Subscription.cancel_for_items(
        up_sub.id, {"end_of_term": False, "credit_option_for_current_term_charges": "none"}
    )
    assert state.webhooks.drain(30)
    world.wait_settled(SETTLE)
    _no_exceptions(runtime)
    assert float(_ns_invoice(world, late_invoice).get("amountRemaining") or 0) == 0
    assert all(line["isclosed"] == "T" for line in _ns_order_lines(world, up_global))

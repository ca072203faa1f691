"""The payload models accept Stripe's own fixtures and everything the emulator emits."""

from __future__ import annotations

from typing import Any

import httpx
import pydantic
import pytest
import stripe

from syncwright.connectors.stripe.payloads import (
    MODELED_OBJECT_TYPES,
    Customer,
    DeletedObject,
    Event,
    Invoice,
    Subscription,
    UnsupportedStripeObjectError,
    expandable_id,
    parse_stripe_object,
)
from syncwright.sandbox import ServerThread
from syncwright.sandbox.stripe import StripeState
from tests._vendor import vendor_json

FIXTURES = "stripe/fixtures3.json"
API_KEY = "sk_test_syncwright_emulator"


def _fixtures() -> dict[str, dict[str, Any]]:
    resources: dict[str, dict[str, Any]] = vendor_json(FIXTURES)["resources"]
    return resources


def test_every_modelled_fixture_parses() -> None:
    resources = _fixtures()
    modelled = {k: v for k, v in resources.items() if v.get("object") in MODELED_OBJECT_TYPES}
    # customer, product, price, subscription(+item), invoice(+line), invoiceitem,
    # payment_intent, credit_note(+line), event and the deleted_* twins.
    assert len(modelled) >= 15
    for name, data in modelled.items():
        parsed = parse_stripe_object(data)
        assert parsed.id == data["id"], name
        if data.get("deleted"):
            assert isinstance(parsed, DeletedObject)


def test_fixture_fields_we_use() -> None:
    resources = _fixtures()
    sub = parse_stripe_object(resources["subscription"])
    assert isinstance(sub, Subscription)
    assert sub.items.data[0].price.unit_amount == 2000
    assert expandable_id(sub.customer) == "cus_QXg1o8vcGmoR32"
    inv = parse_stripe_object(resources["invoice"])
    assert isinstance(inv, Invoice)
    assert inv.lines.data[0].proration is True
    event = parse_stripe_object(resources["event"])
    assert isinstance(event, Event) and event.type == "plan.created"
    with pytest.raises(UnsupportedStripeObjectError):
        event.parsed_object()  # a plan: not modelled


def test_models_are_strict_on_used_fields_and_tolerant_otherwise() -> None:
    base = {
        "id": "cus_1",
        "object": "customer",
        "created": 1,
        "livemode": False,
        "brand_new_field": {"x": 1},
    }
    parsed = parse_stripe_object(base)
    assert isinstance(parsed, Customer) and parsed.model_extra == {"brand_new_field": {"x": 1}}
    with pytest.raises(pydantic.ValidationError):
        parse_stripe_object({**base, "created": "1"})
    with pytest.raises(pydantic.ValidationError):
        parse_stripe_object({"id": "cus_1", "object": "customer"})
    with pytest.raises(UnsupportedStripeObjectError):
        parse_stripe_object({"id": "dp_1", "object": "dispute"})


def test_everything_the_emulator_emits_parses(
    stripe_client: stripe.StripeClient,
    stripe_server: ServerThread,
    stripe_state: StripeState,
    catalog: Any,
) -> None:
    clock = stripe_client.v1.test_helpers.test_clocks.create({"frozen_time": 1_767_225_600})
    customer = stripe_client.v1.customers.create(
        {
            "name": "P",
            "payment_method": "pm_card_visa",
            "test_clock": clock.id,
            "invoice_settings": {"default_payment_method": "pm_card_visa"},
        }
    )
    sub = stripe_client.v1.subscriptions.create(
        {"customer": customer.id, "items": [{"price": catalog.monthly.id}]}
    )
    stripe_client.v1.test_helpers.test_clocks.advance(
        clock.id, {"frozen_time": 1_767_225_600 + 5 * 86400}
    )
    stripe_client.v1.subscriptions.update(
        sub.id, {"items": [{"id": sub["items"].data[0].id, "quantity": 4}]}
    )
    inv = stripe_client.v1.invoices.retrieve(sub.latest_invoice)
    stripe_client.v1.credit_notes.create({"invoice": inv.id, "amount": 500})
    paid = stripe_client.v1.payment_intents.create(
        {
            "amount": 700,
            "currency": "usd",
            "customer": customer.id,
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )
    stripe_client.v1.refunds.create({"payment_intent": paid.id, "amount": 200})
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        stripe_client.v1.refunds.create({"payment_intent": paid.id, "amount": 501})
    assert too_much.value.code == "amount_too_large"
    rest = stripe_client.v1.refunds.create({"charge": str(paid.latest_charge)})
    assert rest.amount == 500
    charge = stripe_client.v1.charges.retrieve(str(paid.latest_charge))
    assert charge.refunded is True and charge.amount_refunded == 700
    stripe_client.v1.test_helpers.test_clocks.advance(
        clock.id, {"frozen_time": 1_767_225_600 + 40 * 86400}
    )
    stripe_client.v1.subscriptions.cancel(sub.id)
    stripe_client.v1.customers.delete(stripe_client.v1.customers.create({"name": "gone"}).id)

    headers = {"Authorization": f"Bearer {API_KEY}"}
    seen: set[str] = set()
    with httpx.Client(base_url=stripe_server.url, headers=headers) as http:
        for path in (
            "/v1/customers",
            "/v1/products",
            "/v1/prices",
            "/v1/subscriptions?status=all",
            f"/v1/subscription_items?subscription={sub.id}",
            "/v1/invoices",
            "/v1/invoiceitems",
            "/v1/payment_intents",
            "/v1/credit_notes",
            "/v1/charges",
            "/v1/refunds",
            f"/v1/invoices/{inv.id}/lines",
        ):
            sep = "&" if "?" in path else "?"
            body = http.get(f"{path}{sep}limit=100").raise_for_status().json()
            for obj in body["data"]:
                parsed = parse_stripe_object(obj)
                seen.add(parsed.object)
        events = http.get("/v1/events", params={"limit": 100}).raise_for_status().json()["data"]
    for raw in events:
        event = parse_stripe_object(raw)
        assert isinstance(event, Event)
        if event.data.object["object"] in MODELED_OBJECT_TYPES:
            event.parsed_object()
            seen.add(event.data.object["object"])
    assert {
        "customer",
        "product",
        "price",
        "subscription",
        "subscription_item",
        "invoice",
        "line_item",
        "invoiceitem",
        "payment_intent",
        "credit_note",
        "charge",
        "refund",
    } <= seen

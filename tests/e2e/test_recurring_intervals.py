"""Every interval a billing system allows is canonical: a weekly and a two-yearly Stripe
subscription reach syncwright; NetSuite takes the two-yearly one and parks the weekly one with
remediation (its sales orders bill on month-based schedules)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syncwright.demo.billing_world import BillingWorld, start_billing_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[BillingWorld]:
    started = start_billing_world(tmp_path / "world", ns_timeout=5.0, poll_interval=1.0)
    try:
        yield started
    finally:
        started.close()


def test_weekly_parks_at_the_erp_and_two_yearly_flows(world: BillingWorld) -> None:
    runtime = world.start_syncwright()
    client = world.stripe.v1
    product = client.products.create({"name": "Syncwright Cloud"})
    subscriptions = {}
    for label, recurring in (
        ("weekly", {"interval": "week"}),
        ("biennial", {"interval": "year", "interval_count": 2}),
    ):
        price = client.prices.create(
            {"product": product.id, "unit_amount": 1500, "currency": "usd", "recurring": recurring}
        )
        customer = client.customers.create(
            {
                "name": f"{label.title()} Customer Inc",
                "email": f"billing@{label}.example",
                "payment_method": "pm_card_visa",
                "invoice_settings": {"default_payment_method": "pm_card_visa"},
                "metadata": {"subsidiary": "Parent Company"},
            }
        )
        sub = client.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}]})
        subscriptions[label] = sub.id
    world.wait_settled(300)

    def global_id(label: str) -> str:
        found = runtime.xref.global_id_for("subscription", "stripe", subscriptions[label])
        assert found is not None
        return found

    orders = {record.get("externalId"): record for record in world.netsuite.state.all("salesOrder")}
    assert global_id("biennial") in orders  # every two years: NetSuite holds it
    assert global_id("weekly") not in orders
    parked = [
        r
        for r in runtime.exceptions.list(status="open")
        if r.code == "netsuite.interval_unsupported"
    ]
    assert parked, [r.code for r in runtime.exceptions.list(status="open")]
    assert all("every week" in r.message and "monthly or yearly" in r.remediation for r in parked)

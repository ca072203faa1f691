"""Match-and-link: Stripe events about objects syncwright created resolve to *our* global ids
(the ones in ``metadata.syncwright_id``), also when the event is normalized before the create
step could link them -- no second global id, so no duplicate record downstream."""

from __future__ import annotations

import json
from typing import Any

import stripe

from syncwright.connectors.stripe.connector import StripeConnector
from syncwright.runtime import Runtime
from syncwright.sandbox.stripe import StripeState
from tests.connectors.stripe._support import (
    CONNECTION,
    RuntimeFactory,
    accept,
    normalize_pending,
    poll_everything,
)
from tests.connectors.stripe.conftest import (
    Catalog,
    StepContextFactory,
    account,
    run,
    subscription,
)


def _events(runtime: Runtime, only: set[str] | None = None) -> dict[str, list[Any]]:
    """Poll every Stripe event into the inbox (``only`` these Stripe types) and normalize."""
    connector = runtime.connection(CONNECTION)
    assert isinstance(connector, StripeConnector)
    polled, _ = poll_everything(connector)
    if only is not None:
        polled = [p for p in polled if json.loads(p.body)["type"] in only]
    accept(runtime, polled)
    grouped: dict[str, list[Any]] = {}
    for _delivery, events in normalize_pending(runtime):
        for event in events:
            grouped.setdefault(event.type, []).append(event)
    return grouped


def test_events_of_created_objects_resolve_to_our_ids(
    sdk: stripe.StripeClient,
    billing: Runtime,
    catalog: Catalog,
    step_ctx: StepContextFactory,
    stripe_state: StripeState,
) -> None:
    customer = run(billing, step_ctx(billing), "create_customer", account())
    stripe_state.set_payment_behaviour(customer["native_id"], "succeed")
    run(billing, step_ctx(billing), "create_subscription", subscription(), customer)

    events = _events(billing)
    (upserted,) = events["syncwright.account.upserted.v1"]
    assert upserted.data.account.global_id == "acct_gid_1"
    (created,) = events["syncwright.subscription.created.v1"]
    (activated,) = events["syncwright.subscription.activated.v1"]
    for event in (created, activated):
        sub = event.data.subscription
        assert event.subject == sub.global_id == "sub_gid_1"
        assert sub.account_id == "acct_gid_1" and event.entitykey == "account:acct_gid_1"
        assert [i.global_id for i in sub.items] == ["sub_gid_1_item_0"]
        assert [i.price_id for i in sub.items] == ["price_gid_pro"]
    (paid,) = events["syncwright.invoice.paid.v1"]
    assert paid.data.invoice.subscription_id == "sub_gid_1"
    assert paid.data.invoice.account_id == "acct_gid_1"


def test_an_event_racing_the_create_step_resolves_to_our_id(
    sdk: stripe.StripeClient,
    make_runtime: RuntimeFactory,
    catalog: Catalog,
    step_ctx: StepContextFactory,
    stripe_state: StripeState,
) -> None:
    """Our POSTs landed in Stripe, but their events are normalized before the steps linked
    anything (the create steps' answers are still on their way)."""
    customer = sdk.v1.customers.create(
        {"name": "Acme Corp", "email": "ap@acme.test", "metadata": {"syncwright_id": "acct_race"}}
    )
    stripe_state.set_payment_behaviour(customer.id, "succeed")
    made = sdk.v1.subscriptions.create(
        {
            "customer": customer.id,
            "items": [
                {"price": catalog.pro, "quantity": 2, "metadata": {"syncwright_id": "sub_race_i0"}}
            ],
            "metadata": {"syncwright_id": "sub_race"},
        }
    )

    # An invoice event alone (it arrived first): its subscription resolves to our id through
    # the subscription metadata the invoice carries, its customer through the customer's own
    # link once that event is seen -- here, not yet: a fresh id is minted for the account only.
    invoice_first = make_runtime(options={"prices": {"price_gid_pro": catalog.pro}})
    (paid,) = _events(invoice_first, {"invoice.paid"})["syncwright.invoice.paid.v1"]
    assert paid.data.invoice.subscription_id == "sub_race"

    runtime = make_runtime(options={"prices": {"price_gid_pro": catalog.pro}})
    events = _events(runtime)
    (upserted,) = events["syncwright.account.upserted.v1"]
    assert upserted.data.account.global_id == "acct_race"
    (created,) = events["syncwright.subscription.created.v1"]
    assert created.subject == "sub_race" and created.data.subscription.account_id == "acct_race"
    assert [i.global_id for i in created.data.subscription.items] == ["sub_race_i0"]

    # The create steps then find the objects linked and create nothing more.
    again = run(runtime, step_ctx(runtime), "create_customer", account("acct_race"))
    assert again["native_id"] == customer.id and again["created"] is False
    sub = subscription("sub_race", "acct_race", items=[("price_gid_pro", "prod_gid_pro", 2, 3000)])
    result = run(runtime, step_ctx(runtime), "create_subscription", sub)
    assert result["native_id"] == made.id and result["created"] is False
    assert len(sdk.v1.customers.list({"limit": 100}).data) == 1
    assert len(sdk.v1.subscriptions.list({"status": "all"}).data) == 1


def test_a_native_id_already_linked_keeps_its_global_id(
    sdk: stripe.StripeClient, runtime: Runtime
) -> None:
    customer = sdk.v1.customers.create(
        {"name": "Old Co", "metadata": {"syncwright_id": "acct_new"}}
    )
    runtime.xref.link("account", "acct_old", CONNECTION, customer.id)
    (upserted,) = _events(runtime)["syncwright.account.upserted.v1"]
    assert upserted.data.account.global_id == "acct_old"

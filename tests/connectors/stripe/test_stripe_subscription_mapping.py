"""Stripe subscriptions are mapped by the connection's mapping files, both ways: the shipped
files (``stripe_inbound@2``, ``stripe_outbound@2``) declare them, a user's file replaces them,
and the ledger names the version a step used."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import stripe
from typer.testing import CliRunner

from syncwright.cli import app
from syncwright.config import load_settings
from syncwright.mapping import or_shipped
from syncwright.runtime import Runtime
from syncwright.sandbox import ServerThread
from tests._vendor import vendor_json
from tests.connectors.stripe._support import CONNECTION, write_stripe_config
from tests.connectors.stripe.conftest import Catalog, StepContextFactory, account, run, subscription

SHIPPED = resources.files("syncwright.connectors.stripe") / "mappings"


def test_the_shipped_files_declare_the_subscription_both_ways() -> None:
    inbound = or_shipped(None, "stripe", "inbound")
    outbound = or_shipped(None, "stripe", "outbound")
    assert (inbound.ref, outbound.ref) == ("stripe_inbound@2", "stripe_outbound@2")
    record = {
        "subscription": subscription(
            items=[("price_gid_pro", "prod_gid_pro", 2, 3000)],
            cancel_at_period_end=True,
            invoice_schedule={"frequency": "monthly", "net_days": 30},
        ),
        "customer": "cus_1",
        "lines": [
            {"item": {"global_id": "i1", "quantity": 2}, "price": "price_a", "metered": False},
            {"item": {"global_id": "i2", "quantity": 1}, "price": "price_m", "metered": True},
        ],
        "terms_days": 30,
        "trial_end": None,
    }
    assert outbound.apply("subscription", record) == {
        "customer": "cus_1",
        "items": [
            {"price": "price_a", "metadata": {"syncwright_id": "i1"}, "quantity": 2},
            # Stripe refuses a quantity on a metered price: none is sent.
            {"price": "price_m", "metadata": {"syncwright_id": "i2"}},
        ],
        "metadata": {"syncwright_id": "sub_gid_1"},
        "collection_method": "send_invoice",
        "days_until_due": 30,
        "cancel_at_period_end": True,
    }
    # Without payment terms, a trial or a cancellation, those parameters are left out.
    plain = {**record, "terms_days": None, "subscription": subscription()}
    assert set(outbound.apply("subscription", plain)) == {"customer", "items", "metadata"}


def _user_outbound(directory: Path) -> Path:
    """The shipped outbound file at version 3, tagging each subscription with its origin."""
    text = (SHIPPED / "outbound.yaml").read_text()
    text = text.replace("version: 2\n", "version: 3\n", 1).replace(
        "      metadata.syncwright_id: subscription.global_id\n",
        "      metadata.syncwright_id: subscription.global_id\n"
        "      metadata.origin: {const: syncwright}\n",
        1,
    )
    path = directory / "stripe_outbound_v3.yaml"
    path.write_text(text)
    return path


def test_a_users_outbound_file_shapes_the_subscription_and_its_ledger_version(
    tmp_path: Path,
    stripe_server: ServerThread,
    sdk: stripe.StripeClient,
    catalog: Catalog,
    step_ctx: StepContextFactory,
) -> None:
    options = {"default_subsidiary": "US-1", "prices": {"price_gid_pro": catalog.pro}}
    config = write_stripe_config(tmp_path, base_url=stripe_server.url, options=options)
    mapping = _user_outbound(tmp_path)
    config.write_text(
        config.read_text()
        + f"mappings:\n  - {{name: stripe_outbound, connection: {CONNECTION}, version: 3, "
        f"path: {mapping.name}}}\n"
    )
    with Runtime(load_settings(config)) as runtime:
        customer = run(runtime, step_ctx(runtime), "create_customer", account())
        result = run(runtime, step_ctx(runtime), "create_subscription", subscription(), customer)
    made = sdk.v1.subscriptions.retrieve(result["native_id"])
    assert made.metadata.to_dict() == {"syncwright_id": "sub_gid_1", "origin": "syncwright"}
    assert result["ledger"]["mapping_version"] == "stripe_outbound@3"
    assert customer["ledger"]["mapping_version"] == "stripe_outbound@3"


def test_mapping_test_shows_a_stripe_subscription_from_a_sample_payload(tmp_path: Path) -> None:
    # The fixture subscription as Stripe delivers it; what the connector works out and hands in
    # (the current period, renewal, timing) is not in a payload, so a dry run shows it as null.
    fixture = vendor_json("stripe/fixtures3.json")["resources"]["subscription"]
    payload = tmp_path / "subscription.json"
    payload.write_text(
        json.dumps({"type": "customer.subscription.created", "data": {"object": fixture}})
    )
    done = CliRunner().invoke(
        app, ["mapping", "test", str(SHIPPED / "inbound.yaml"), "--file", str(payload), "--json"]
    )
    out = json.loads(done.output)
    assert out["mapping"] == "stripe_inbound@2" and out["entity"] == "subscription", out
    result = out["result"]
    price = fixture["items"]["data"][0]["price"]
    assert result["global_id"] == f"(new subscription: (sample)/{fixture['id']})"
    assert result["billing_frequency"] == {"month": "monthly", "year": "annual"}.get(
        price["recurring"]["interval"], "custom"
    )
    (item,) = result["items"]
    assert item["unit_amount"] == {
        "amount_minor": price["unit_amount"],
        "currency": price["currency"].upper(),
    }
    assert result["plan_id"] == item["product_id"]
    assert result["term_start"] is None  # handed in by the connector, not in the payload

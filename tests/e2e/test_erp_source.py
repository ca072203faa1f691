"""The ERP as a source, over the Salesforce, NetSuite and Stripe emulators: a credit hold, new
payment terms, a legal name, a tax registration and financial dimensions set in NetSuite
directly show on the CRM account and on the Stripe customer; our own writes do not come back,
and a poll that finds no change starts nothing. Every check reads the emulators' own records."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from syncwright.demo.quote_to_cash import (
    Deal,
    QuoteToCashWorld,
    close_deals,
    start_quote_to_cash_world,
    wait_onboarded,
)
from syncwright.intake.cursors import CursorStore
from tests._support import wait_until

OWNERSHIP = """\
ownership:
  account:
    system: salesforce
    fields: {legal_name: netsuite, tax_ids: netsuite, credit_status: netsuite,
             payment_terms: netsuite, financial_dimensions: netsuite}
routing:
  erp:
    - {name: americas, when: {billing_country: [US, CA]}, connection: netsuite}
"""
ERP_WORKFLOW = "account.erp_to_crm_and_billing"


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[QuoteToCashWorld, list[Deal]]]:
    started = start_quote_to_cash_world(tmp_path_factory.mktemp("erp_source"))
    try:
        billing = started.billing
        billing.settings_args["netsuite_options"] = (
            "      poll_streams: [customers]\n      poll_interval_seconds: 1\n"
        )
        billing.settings_args["extra_sections"] = OWNERSHIP
        billing.start_syncwright()
        deals = close_deals(started, 2)
        # A French customer: no routing rule covers France.
        deals += close_deals(started, 1, country="FR", start=2)
        wait_onboarded(started, deals)
        yield started, deals
    finally:
        started.close()


def _ids(world: QuoteToCashWorld, deal: Deal) -> tuple[str, str, str]:
    """(global id, NetSuite customer id, Stripe customer id) of a deal's account."""
    runtime = world.billing.runtime
    assert runtime is not None
    gid = runtime.xref.global_id_for("account", "salesforce", deal.account)
    assert gid is not None
    netsuite = runtime.xref.native_id_for("account", gid, "netsuite")
    stripe = runtime.xref.native_id_for("account", gid, "stripe")
    assert netsuite and stripe
    return gid, netsuite, stripe


def _erp_runs(world: QuoteToCashWorld) -> list[str]:
    engine = world.billing.engine
    assert engine is not None
    return [w for w in engine.statuses() if w.endswith(ERP_WORKFLOW)]


def _stripe_customer(world: QuoteToCashWorld, customer: str) -> dict[str, Any]:
    found: dict[str, Any] = world.billing.stripe.v1.customers.retrieve(customer).to_dict()
    return found


def test_credit_hold_set_in_netsuite_shows_in_crm_and_billing(
    world: tuple[QuoteToCashWorld, list[Deal]],
) -> None:
    q2c, deals = world
    held, other, _ = deals
    _, ns_id, stripe_id = _ids(q2c, held)
    _, other_ns, other_stripe = _ids(q2c, other)
    runtime = q2c.billing.runtime
    assert runtime is not None
    # Onboarding's own customer writes came back through the poll: nothing started.
    assert _erp_runs(q2c) == []

    # Finance puts the customer on hold in NetSuite, with new terms, legal name and tax number.
    with q2c.billing.netsuite_client() as netsuite:
        netsuite.update(
            "customer",
            ns_id,
            {
                "creditHoldOverride": "ON",
                "terms": {"id": "4"},  # Net 60
                "companyName": "Prospect Holdings Inc.",
                "taxRegNumber": "US-EIN-12-3456789",
            },
        )
    crm = q2c.sdk()

    def shown() -> bool:
        account = crm.get("Account", held.account)
        return bool(
            account.get("Credit_Status__c") == "Hold"
            and _stripe_customer(q2c, stripe_id)["metadata"].get("credit_status") == "hold"
        )

    wait_until(shown, timeout=120, what="the credit hold in Salesforce and Stripe")
    q2c.billing.wait_settled(120)

    account = crm.get("Account", held.account)
    assert account["Credit_Status__c"] == "Hold"
    assert account["Payment_Terms__c"] == "Net 60"
    assert account["Legal_Name__c"] == "Prospect Holdings Inc."
    assert account["Tax_Id__c"] == "US-EIN-12-3456789"
    assert account["Name"] == "Prospect 0000 Corp"  # the CRM's own name is the CRM's
    customer = _stripe_customer(q2c, stripe_id)
    assert customer["name"] == "Prospect Holdings Inc."
    metadata = customer["metadata"]
    assert (metadata["credit_status"], metadata["payment_terms"], metadata["tax_id"]) == (
        "hold",
        "Net 60",
        "US-EIN-12-3456789",
    )
    # The other customer is untouched everywhere.
    assert crm.get("Account", other.account).get("Credit_Status__c") is None
    assert "credit_status" not in _stripe_customer(q2c, other_stripe)["metadata"]
    with q2c.billing.netsuite_client() as netsuite:
        assert netsuite.get("customer", other_ns).get("creditHoldOverride") != "ON"
    # One run for the one change; Stripe's customer.updated echo of our write started none.
    assert len(_erp_runs(q2c)) == 1
    assert {r.code for r in runtime.exceptions.list(status="open")} == {"routing.no_route"}


def test_financial_dimensions_set_in_netsuite_show_in_crm_and_billing(
    world: tuple[QuoteToCashWorld, list[Deal]],
) -> None:
    """NetSuite's department / class / location of a customer, by name, on the Salesforce
    account and in the Stripe customer's metadata; a dimension finance clears is cleared."""
    q2c, deals = world
    booked = deals[1]
    _, ns_id, stripe_id = _ids(q2c, booked)
    runs_before = len(_erp_runs(q2c))
    with q2c.billing.netsuite_client() as netsuite:
        names = {
            table: {r["id"]: r["name"] for r in netsuite.suiteql(f"SELECT id, name FROM {table}")}
            for table in ("department", "classification", "location")
        }
        netsuite.update(
            "customer",
            ns_id,
            {"department": {"id": "2"}, "class": {"id": "1"}, "location": {"id": "2"}},
        )
    crm = q2c.sdk()
    wanted = (names["department"]["2"], names["classification"]["1"], names["location"]["2"])

    def dimensions() -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        account = crm.get("Account", booked.account)
        metadata = _stripe_customer(q2c, stripe_id)["metadata"]
        return (
            (account.get("Department__c"), account.get("Class__c"), account.get("Location__c")),
            tuple(metadata.get(k) for k in ("department", "classification", "location")),
        )

    wait_until(lambda: dimensions() == (wanted, wanted), timeout=120, what="the dimensions")
    # Finance moves the customer to another class and clears its location.
    with q2c.billing.netsuite_client() as netsuite:
        netsuite.update("customer", ns_id, {"class": {"id": "2"}, "location": None})
    moved = (wanted[0], names["classification"]["2"], None)
    wait_until(lambda: dimensions() == (moved, moved), timeout=120, what="the new class")
    q2c.billing.wait_settled(120)
    assert dimensions() == (moved, moved)
    assert len(_erp_runs(q2c)) == runs_before + 2  # one per change, none for echoes


def test_an_unrouted_customer_parks_before_any_write(
    world: tuple[QuoteToCashWorld, list[Deal]],
) -> None:
    q2c, deals = world
    runtime = q2c.billing.runtime
    assert runtime is not None
    french = deals[2]
    gid = runtime.xref.global_id_for("account", "salesforce", french.account)
    assert gid is not None
    (parked,) = runtime.exceptions.list(status="open")
    assert parked.code == "routing.no_route"
    assert "billing_country=FR" in parked.remediation and "routing.erp" in parked.remediation
    # Nothing anywhere: no NetSuite customer, no Stripe customer, no ERP id on the CRM account.
    with q2c.billing.netsuite_client() as netsuite:
        externals = {
            r.get("externalid") for r in netsuite.suiteql("SELECT externalid FROM customer")
        }
    assert gid not in externals
    assert runtime.xref.native_id_for("account", gid, "stripe") is None
    assert not q2c.sdk().get("Account", french.account).get("ERP_Id__c")
    # The routed customers were onboarded in full.
    for deal in deals[:2]:
        routed = runtime.xref.global_id_for("account", "salesforce", deal.account)
        assert routed in externals


def test_a_poll_without_changes_starts_nothing(
    world: tuple[QuoteToCashWorld, list[Deal]],
) -> None:
    q2c, _ = world
    runtime, poller = q2c.billing.runtime, q2c.billing.poller
    assert runtime is not None and poller is not None
    q2c.billing.wait_settled(120)
    before = len(_erp_runs(q2c))
    assert poller.poll_once("netsuite", "customers").read == 0
    # Even reading every customer again from the start (a lost cursor) is absorbed.
    CursorStore(runtime.db).set("netsuite", "customers", "2000-01-01T00:00:00Z|")
    again = poller.poll_once("netsuite", "customers")
    assert again.read >= 2 and again.accepted == 0
    q2c.billing.wait_settled(60)
    assert len(_erp_runs(q2c)) == before

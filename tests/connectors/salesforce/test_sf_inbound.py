"""CDC events from the emulator normalized into canonical change events: a closed-won
opportunity, account changes, echo suppression, ownership, and what parks."""

from __future__ import annotations

from typing import Any

import pytest
from simple_salesforce import Salesforce

from syncwright.connectors.salesforce.inbound import is_echo
from syncwright.errors import BusinessRuleError
from syncwright.model import DealStage, Money, SubscriptionStatus
from syncwright.sandbox.salesforce import CustomField
from tests.connectors.salesforce._support import (
    CONNECTION,
    Org,
    World,
    delivery_of,
    header,
    seed_catalog,
)
from tests.connectors.salesforce.conftest import WorldFactory

ADDRESS = {
    "BillingStreet": "1 Market St\nSuite 300",
    "BillingCity": "San Francisco",
    "BillingState": "CA",
    "BillingPostalCode": "94105",
    "BillingCountry": "US",
}


def _won_deal(sf: Salesforce, org: Org) -> dict[str, Any]:
    """An opportunity with two products (one discounted), then moved to Closed Won."""
    catalog = seed_catalog(sf, org, {"Platform": 1200.50, "Seats": 100})
    account = sf.Account.create({"Name": "Acme Corp", **ADDRESS})["id"]
    opp = sf.Opportunity.create(
        {
            "Name": "Acme - 2026",
            "AccountId": account,
            "StageName": "Negotiation/Review",
            "CloseDate": "2026-03-31",
        }
    )["id"]
    platform = sf.OpportunityLineItem.create(
        {
            "OpportunityId": opp,
            "PricebookEntryId": catalog["Platform"][1],
            "Quantity": 3,
            "UnitPrice": 1200.50,
        }
    )["id"]
    seats = sf.OpportunityLineItem.create(
        {
            "OpportunityId": opp,
            "PricebookEntryId": catalog["Seats"][1],
            "Quantity": 2,
            "UnitPrice": 100,
            "Discount": 10,
            "Description": "Seats, 10% off",
        }
    )["id"]
    start = org.mark()
    sf.Opportunity.update(opp, {"StageName": "Closed Won"})
    return {
        "account": account,
        "opp": opp,
        "lines": (platform, seats),
        "catalog": catalog,
        "start": start,
    }


def test_closed_won_becomes_one_deal_event(world: World, org: Org, sf: Salesforce) -> None:
    seeded = _won_deal(sf, org)
    # Building the deal (line items roll Amount up into Opportunity UPDATEs) closes nothing:
    # only the account's own CREATE maps.
    before_close = [e for e in org.cdc(0) if e["event"]["replayId"] <= seeded["start"]]
    assert {header(e)["entityName"] for e in before_close} >= {"Opportunity", "Account"}
    assert [e.type for e in world.normalize_all(before_close)] == ["syncwright.account.upserted.v1"]

    (won,) = org.cdc(seeded["start"])
    assert "StageName" in header(won)["changedFields"]
    (event,) = world.normalize(won, correlation_id="cor-won")

    account_gid = world.gid("account", seeded["account"])
    deal_gid = world.gid("deal", seeded["opp"])
    assert account_gid and deal_gid
    assert event.type == "syncwright.deal.closed_won.v1"
    assert event.id == f"{CONNECTION}:{won['event']['replayId']}:0"
    assert event.entitykey == f"account:{account_gid}"
    assert event.subject == deal_gid and event.correlationid == "cor-won"
    deal = event.data.deal
    assert deal.account_id == account_gid and deal.stage is DealStage.CLOSED_WON
    assert deal.name == "Acme - 2026" and str(deal.close_date) == "2026-03-31"
    assert deal.currency == "USD"
    assert deal.amount == Money.of(360150 + 18000, "USD")
    platform, seats = deal.lines
    assert platform.product_id == world.gid("product", seeded["catalog"]["Platform"][0])
    assert seats.product_id == world.gid("product", seeded["catalog"]["Seats"][0])
    assert platform.price_id == world.gid("price", seeded["catalog"]["Platform"][1])
    assert platform.global_id == world.gid("deal_line", seeded["lines"][0])
    assert (platform.quantity, platform.unit_amount) == (3, Money.of(120050, "USD"))
    # Discount 10% on 2 x 100.00: the negotiated unit amount is 90.00.
    assert (seats.quantity, seats.unit_amount) == (2, Money.of(9000, "USD"))
    assert seats.description == "Seats, 10% off"
    assert sum(line.amount.amount_minor for line in deal.lines) == deal.amount.amount_minor

    # Deterministic: the same delivery normalizes to the same events.
    (again,) = world.normalize(won, correlation_id="cor-won")
    assert again.model_dump() == event.model_dump()


def test_an_opportunity_created_won_and_later_edits(world: World, org: Org, sf: Salesforce) -> None:
    account = sf.Account.create({"Name": "Globex"})["id"]
    start = org.mark()
    opp = sf.Opportunity.create(
        {
            "Name": "Globex",
            "AccountId": account,
            "StageName": "Closed Won",
            "CloseDate": "2026-02-01",
        }
    )["id"]
    sf.Opportunity.update(opp, {"Description": "signed"})  # won already: not a new close
    created, edited = org.cdc(start)
    (event,) = world.normalize(created)
    assert event.data.deal.lines == () and event.data.deal.amount is None
    assert world.normalize(edited) == []


def test_a_deal_reopened_since_the_event_is_skipped(world: World, org: Org, sf: Salesforce) -> None:
    account = sf.Account.create({"Name": "Initech"})["id"]
    opp = sf.Opportunity.create(
        {
            "Name": "Initech",
            "AccountId": account,
            "StageName": "Prospecting",
            "CloseDate": "2026-02-01",
        }
    )["id"]
    start = org.mark()
    sf.Opportunity.update(opp, {"StageName": "Closed Won"})
    sf.Opportunity.update(opp, {"StageName": "Negotiation/Review"})
    won, reopened = org.cdc(start)
    assert world.normalize(won) == [] and world.normalize(reopened) == []


def test_a_deal_without_account_parks(world: World, org: Org, sf: Salesforce) -> None:
    start = org.mark()
    sf.Opportunity.create({"Name": "Orphan", "StageName": "Closed Won", "CloseDate": "2026-02-01"})
    (created,) = org.cdc(start)
    with pytest.raises(BusinessRuleError) as err:
        world.normalize(created)
    assert err.value.code == "salesforce.deal_without_account"


def test_account_create_and_owned_changes(world: World, org: Org, sf: Salesforce) -> None:
    start = org.mark()
    account = sf.Account.create({"Name": "Acme Corp", "Website": "acme.test", **ADDRESS})["id"]
    (created,) = org.cdc(start)
    (first,) = world.normalize(created)
    gid = world.gid("account", account)
    assert first.type == "syncwright.account.upserted.v1"
    assert first.entitykey == f"account:{gid}" and first.subject == gid
    acct = first.data.account
    assert acct.name == "Acme Corp" and acct.website == "acme.test"
    assert acct.subsidiary == "US-1" and acct.currency == "USD"
    assert acct.bill_to is not None
    assert acct.bill_to.model_dump() == {
        "line1": "1 Market St",
        "line2": "Suite 300",
        "city": "San Francisco",
        "region": "CA",
        "postal_code": "94105",
        "country": "US",
    }
    assert first.data.changed_fields == ()

    start = org.mark()
    sf.Account.update(account, {"BillingCity": "Oakland", "Phone": "555"})
    sf.Account.update(account, {"Phone": "556"})  # not a field the CRM side syncs
    moved, phoned = org.cdc(start)
    (second,) = world.normalize(moved)
    assert second.data.changed_fields == ("bill_to",)
    assert second.data.account.bill_to is not None
    assert second.data.account.bill_to.city == "Oakland"
    assert world.normalize(phoned) == []


def test_our_own_writes_come_back_as_nothing(world: World, org: Org, sf: Salesforce) -> None:
    account = sf.Account.create({"Name": "Acme"})["id"]
    start = org.mark()
    # Even a CRM-owned field: written by syncwright (client=syncwright), it is an echo.
    world.connector.client.update("Account", account, {"Name": "Acme Renamed"})
    world.runtime.xref.link("account", "acct_echo", CONNECTION, account)
    world.connector.action("update_account_billing").run(
        world.ctx(),
        CONNECTION,
        "acct_echo",
        {"subscription_status": SubscriptionStatus.ACTIVE.value, "erp_id": "C-1"},
    )
    renamed, billed = org.cdc(start)
    for event in (renamed, billed):
        assert is_echo(header(event), "syncwright")
        assert world.normalize(event) == []
    assert not is_echo(
        {"changeOrigin": "com/salesforce/api/rest/59.0;client=syncwright2"}, "syncwright"
    )


def test_billing_fields_written_by_others_start_nothing(
    world: World, org: Org, sf: Salesforce
) -> None:
    account = sf.Account.create({"Name": "Acme"})["id"]
    start = org.mark()
    # No call options header (a data loader, a flow): ownership is what stops the loop.
    sf.Account.update(account, {"ERP_Id__c": "C-77", "ACV__c": 1200.5})
    sf.Account.update(account, {"Subscription_Status__c": "Active"})
    events = org.cdc(start)
    assert len(events) == 2 and not any(is_echo(header(e), "syncwright") for e in events)
    assert world.normalize_all(events) == []


def test_legal_entity_field_feeds_the_subsidiary(make_world: WorldFactory, fresh_org: Org) -> None:
    fresh_org.state.declare_field(CustomField("Account", "Legal_Entity__c", "string", length=80))
    world = make_world(fresh_org)
    sf = fresh_org.sdk()
    account = sf.Account.create({"Name": "Acme GmbH"})["id"]
    start = fresh_org.mark()
    sf.Account.update(account, {"Legal_Entity__c": "DE-1"})
    (event,) = world.normalize_all(fresh_org.cdc(start))
    assert event.data.account.subsidiary == "DE-1"
    assert event.data.changed_fields == ("subsidiary",)


def test_incomplete_address_and_bad_payloads_park(world: World, org: Org, sf: Salesforce) -> None:
    start = org.mark()
    sf.Account.create({"Name": "Halfway", "BillingCity": "Lyon"})
    sf.Account.create(
        {
            "Name": "Wordy",
            "BillingStreet": "1 Rue",
            "BillingCity": "Lyon",
            "BillingCountry": "France",
        }
    )
    halfway, wordy = org.cdc(start)
    with pytest.raises(BusinessRuleError) as err:
        world.normalize(halfway)
    assert (
        err.value.code == "salesforce.address_incomplete" and "BillingStreet" in err.value.message
    )
    with pytest.raises(BusinessRuleError) as err:
        world.normalize(wordy)
    assert err.value.code == "salesforce.country_unmapped"

    for body in ("not json", '{"payload": {}}'):
        with pytest.raises(BusinessRuleError) as err:
            world.connector.normalize(delivery_of(body))
        assert err.value.code == "salesforce.payload_invalid"


def test_other_objects_and_deletes_are_ignored(world: World, org: Org, sf: Salesforce) -> None:
    start = org.mark()
    account = sf.Account.create({"Name": "Gone"})["id"]
    sf.Contact.create({"LastName": "Doe", "AccountId": account})
    sf.Account.delete(account)
    created, contact, deleted = org.cdc(start)[:3]
    assert world.normalize(contact) == [] and world.normalize(deleted) == []
    # The account was deleted after its CREATE event: the fresh read finds nothing to sync.
    assert world.normalize(created) == []

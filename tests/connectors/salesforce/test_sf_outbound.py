"""Salesforce actions as engine steps (a StepContext over a real Runtime): the billing write,
its probe, the reads, and what parks."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from simple_salesforce import Salesforce

import syncwright.connectors.salesforce
from syncwright.config import load_settings
from syncwright.connectors.salesforce.outbound import (
    probe_account_billing,
    read_account,
    read_deal,
    update_account_billing,
)
from syncwright.errors import BusinessRuleError
from syncwright.ledger import request_digest
from syncwright.runtime import Runtime
from syncwright.sandbox.salesforce import CustomField
from tests.connectors.salesforce._support import (
    CONNECTION,
    Org,
    World,
    seed_catalog,
    write_sf_config,
)
from tests.connectors.salesforce.conftest import WorldFactory

FIELDS = ["Subscription_Status__c", "ACV__c", "ERP_Id__c"]


def _linked_account(world: World, sf: Salesforce, gid: str = "acct_1", **values: Any) -> str:
    native = sf.Account.create({"Name": "Acme", **values})["id"]
    world.runtime.xref.link("account", gid, CONNECTION, native)
    return str(native)


def _billing(status: str = "active", acv_minor: int = 1_200_050) -> dict[str, Any]:
    return {
        "subscription_status": status,
        "acv": {"amount_minor": acv_minor, "currency": "USD"},
        "erp_id": "CUST-1001",
    }


def test_update_account_billing_writes_and_is_idempotent(
    world: World, org: Org, sf: Salesforce
) -> None:
    native = _linked_account(world, sf)
    action = world.connector.action("update_account_billing")
    assert action.run is update_account_billing and action.probe is probe_account_billing

    result = update_account_billing(world.ctx(), CONNECTION, "acct_1", _billing())
    record = sf.Account.get(native)
    assert record["Subscription_Status__c"] == "Active"
    assert Decimal(str(record["ACV__c"])) == Decimal("12000.50")
    assert record["ERP_Id__c"] == "CUST-1001"
    body = {"Subscription_Status__c": "Active", "ACV__c": 12000.5, "ERP_Id__c": "CUST-1001"}
    assert result == {
        "native_id": native,
        "written": body,
        "skipped": [],
        "ledger": {
            "connection": CONNECTION,
            "entity_type": "account",
            "global_id": "acct_1",
            "native_ids": {CONNECTION: native},
            "request_digest": request_digest(body),
            "mapping_version": "salesforce_outbound@1",
        },
    }
    stamp = sf.Account.get(native)["SystemModstamp"]
    # The same values again: a retry (or a replay) sends nothing and changes nothing.
    repeated = update_account_billing(world.ctx(), CONNECTION, "acct_1", _billing())
    assert repeated["written"] == {} and repeated["native_id"] == native
    again = sf.Account.get(native)
    assert {k: again[k] for k in FIELDS} == {k: record[k] for k in FIELDS}
    assert again["SystemModstamp"] == stamp
    # One changed value: only that field is sent (a partial PATCH).
    moved = update_account_billing(world.ctx(), CONNECTION, "acct_1", _billing(status="past_due"))
    assert moved["written"] == {"Subscription_Status__c": "Past Due"}
    assert sf.Account.get(native)["ACV__c"] == record["ACV__c"]

    # None clears a field.
    update_account_billing(world.ctx(), CONNECTION, "acct_1", {"acv": None})
    assert sf.Account.get(native)["ACV__c"] is None


def test_probe_tells_whether_the_write_landed(world: World, sf: Salesforce) -> None:
    _linked_account(world, sf)
    ctx = world.ctx()
    assert probe_account_billing(ctx, CONNECTION, "acct_1", _billing()) is None
    written = update_account_billing(ctx, CONNECTION, "acct_1", _billing())
    assert probe_account_billing(ctx, CONNECTION, "acct_1", _billing()) == written
    assert probe_account_billing(ctx, CONNECTION, "acct_1", _billing(status="past_due")) is None


def test_invoice_fields_are_written_once_the_org_has_them(
    make_world: WorldFactory, fresh_org: Org
) -> None:
    world = make_world(fresh_org, options={"describe_cache_seconds": 0})
    sf = fresh_org.sdk()
    native = _linked_account(world, sf)
    invoice = {"last_invoice_number": "INV-7", "last_invoice_status": "past_due"}
    skipped = update_account_billing(world.ctx(), CONNECTION, "acct_1", invoice)
    assert skipped["written"] == {} and skipped["skipped"] == list(invoice)

    # Declared through the emulator's public API, as an admin would add them in Setup.
    for name in ("Last_Invoice_Number__c", "Last_Invoice_Status__c"):
        fresh_org.state.declare_field(CustomField("Account", name, "string", length=40))
    written = update_account_billing(world.ctx(), CONNECTION, "acct_1", invoice)
    assert written["skipped"] == []
    record = sf.Account.get(native)
    assert record["Last_Invoice_Number__c"] == "INV-7"
    assert record["Last_Invoice_Status__c"] == "Past Due"


def test_what_parks(make_world: WorldFactory, world: World, org: Org, sf: Salesforce) -> None:
    _linked_account(world, sf)

    def code(account: str, fields: dict[str, Any], target: World = world) -> str:
        with pytest.raises(BusinessRuleError) as err:
            update_account_billing(target.ctx(), CONNECTION, account, fields)
        assert err.value.remediation
        return err.value.code

    assert code("acct_unknown", _billing()) == "salesforce.account_unlinked"
    assert code("acct_1", {"seats": 3}) == "salesforce.billing_field_unknown"
    assert code("acct_1", {"subscription_status": "paused"}) == "salesforce.status_unmapped"
    eur = {"acv": {"amount_minor": 100, "currency": "EUR"}}
    assert code("acct_1", eur) == "salesforce.currency_mismatch"
    assert code("acct_1", {"acv": "12.00"}) == "salesforce.billing_value_invalid"
    renamed = make_world(org, options={"billing_fields": {"erp_id": "NetSuite_Id__c"}})
    renamed.runtime.xref.link("account", "acct_1", CONNECTION, org.state.rows("Account")[0]["Id"])
    assert code("acct_1", {"erp_id": "C-1"}, renamed) == "salesforce.field_missing"
    # An org-specific picklist value for a status, and a unique ERP id held by another account.
    mapped = make_world(org, options={"subscription_status_values": {"paused": "Past Due"}})
    mapped.runtime.xref.link("account", "acct_1", CONNECTION, org.state.rows("Account")[0]["Id"])
    update_account_billing(mapped.ctx(), CONNECTION, "acct_1", {"subscription_status": "paused"})
    _linked_account(world, sf, "acct_2")
    update_account_billing(world.ctx(), CONNECTION, "acct_1", {"erp_id": "DUP-1"})
    assert code("acct_2", {"erp_id": "DUP-1"}) == "salesforce.duplicate_value"


def test_read_account_and_deal(world: World, org: Org, sf: Salesforce) -> None:
    native = _linked_account(
        world,
        sf,
        BillingStreet="Hauptstr. 1",
        BillingCity="Berlin",
        BillingCountry="DE",
        Website="acme.de",
    )
    account = read_account(world.ctx(), CONNECTION, "acct_1")
    assert account["global_id"] == "acct_1" and account["name"] == "Acme"
    assert account["bill_to"]["country"] == "DE" and account["subsidiary"] == "US-1"

    catalog = seed_catalog(sf, org, {"Platform": 500})
    opp = sf.Opportunity.create(
        {"Name": "Acme", "AccountId": native, "StageName": "Prospecting", "CloseDate": "2026-06-30"}
    )["id"]
    sf.OpportunityLineItem.create(
        {"OpportunityId": opp, "PricebookEntryId": catalog["Platform"][1], "Quantity": 4}
    )
    world.runtime.xref.link("deal", "deal_1", CONNECTION, opp)
    deal = read_deal(world.ctx(), CONNECTION, "deal_1")
    assert deal["global_id"] == "deal_1" and deal["account_id"] == "acct_1"
    assert deal["stage"] == "open" and deal["amount"] == {"amount_minor": 200000, "currency": "USD"}
    (line,) = deal["lines"]
    assert line["quantity"] == 4 and line["unit_amount"]["amount_minor"] == 50000
    assert line["product_id"] == world.gid("product", catalog["Platform"][0])
    with pytest.raises(BusinessRuleError) as err:
        read_deal(world.ctx(), CONNECTION, "deal_unknown")
    assert err.value.code == "salesforce.deal_unlinked"


def test_a_new_billing_key_is_one_line_of_the_outbound_mapping(
    tmp_path: Path, world: World, org: Org, sf: Salesforce
) -> None:
    shipped = Path(syncwright.connectors.salesforce.__file__).parent / "mappings" / "outbound.yaml"
    text = shipped.read_text().replace("version: 1\n", "version: 2\n", 1)
    mine = tmp_path / "salesforce_outbound_v2.yaml"
    mine.write_text(text + "      Site: {from: region, transform: string}\n")
    config = write_sf_config(tmp_path, url=org.url, certfile=org.certfile)
    config.write_text(
        config.read_text()
        + f"mappings:\n  - {{name: salesforce_outbound, connection: {CONNECTION}, version: 2, "
        f"path: {mine}}}\n"
    )
    runtime = Runtime(load_settings(config))
    try:
        extended = World(runtime, org)
        native = _linked_account(extended, sf, "acct_site")
        fields = {"region": "EMEA"}
        result = update_account_billing(extended.ctx(), CONNECTION, "acct_site", fields)
        assert sf.Account.get(native)["Site"] == "EMEA"
        assert result["ledger"]["mapping_version"] == "salesforce_outbound@2"
        # The shipped mapping has no such key.
        world.runtime.xref.link("account", "acct_site", CONNECTION, native)
        with pytest.raises(BusinessRuleError) as err:
            update_account_billing(world.ctx(), CONNECTION, "acct_site", fields)
        assert err.value.code == "salesforce.billing_field_unknown"
    finally:
        runtime.close()

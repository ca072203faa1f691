"""read_account, read_deal and update_account_billing against the emulator; errors classified."""

from __future__ import annotations

from pathlib import Path

import pytest
from hubspot import HubSpot

from syncwright.config import load_settings
from syncwright.connectors.hubspot.client import HubSpotClient
from syncwright.errors import AuthError, BusinessRuleError, TransientError
from syncwright.runtime import Runtime
from syncwright.sandbox.hubspot import DEFAULT_ACCESS_TOKEN
from tests.connectors.hubspot import _seed
from tests.connectors.hubspot.conftest import CONNECTION, Portal, World, write_config

BILLING = {
    "subscription_status": "active",
    "acv": {"amount_minor": 1_200_050, "currency": "USD"},
    "erp_id": "CUST-1001",
    "last_invoice_status": "past_due",
}


def _linked(world: World, hs: HubSpot) -> tuple[str, _seed.SeededDeal]:
    seeded = _seed.won_deal(hs)
    world.runtime.xref.link("account", "acct_1", CONNECTION, seeded.company)
    world.runtime.xref.link("deal", "deal_1", CONNECTION, seeded.deal)
    return "acct_1", seeded


def test_reads_return_canonical_records(hs_world: World, hs: HubSpot) -> None:
    _linked(hs_world, hs)
    action = hs_world.connector.action
    account = action("read_account").run(hs_world.ctx(), CONNECTION, "acct_1")
    assert account["global_id"] == "acct_1" and account["bill_to"]["city"] == "San Francisco"
    deal = action("read_deal").run(hs_world.ctx(), CONNECTION, "deal_1")
    assert deal["account_id"] == "acct_1" and len(deal["lines"]) == 2
    with pytest.raises(BusinessRuleError) as unlinked:
        action("read_account").run(hs_world.ctx(), CONNECTION, "acct_unknown")
    assert unlinked.value.code == "hubspot.account_unlinked"


def test_billing_write_is_idempotent_probed_and_compensated(
    hs_world: World, hs: HubSpot, portal: Portal
) -> None:
    _, seeded = _linked(hs_world, hs)
    action = hs_world.connector.action("update_account_billing")
    first = action.run(hs_world.ctx(), CONNECTION, "acct_1", BILLING)
    assert first["written"] == {
        "syncwright_subscription_status": "Active",
        "syncwright_acv": "12000.50",
        "syncwright_erp_id": "CUST-1001",
        "syncwright_last_invoice_status": "Past Due",
    }
    held = portal.emulator.state.get("companies", seeded.company).properties
    assert held["syncwright_acv"] == "12000.50" and held["syncwright_erp_id"] == "CUST-1001"
    writes = portal.emulator.stats.by_route["PATCH /crm/v3/objects/{object_type}/{object_id}"]
    again = action.run(hs_world.ctx(), CONNECTION, "acct_1", BILLING)
    assert again["written"] == {}
    assert (
        portal.emulator.stats.by_route["PATCH /crm/v3/objects/{object_type}/{object_id}"] == writes
    )  # nothing sent the second time
    assert action.probe is not None and action.compensate is not None
    assert action.probe(hs_world.ctx(), CONNECTION, "acct_1", BILLING) is not None
    action.compensate(hs_world.ctx(), first, CONNECTION, "acct_1", BILLING)
    held = portal.emulator.state.get("companies", seeded.company).properties
    assert held["syncwright_subscription_status"] == "Cancelled" and held["syncwright_acv"] == ""
    assert action.probe(hs_world.ctx(), CONNECTION, "acct_1", BILLING) is None


def test_missing_properties_are_skipped_or_park(
    hs_world: World, hs: HubSpot, portal: Portal
) -> None:
    _linked(hs_world, hs)
    portal.emulator.state.remove_property("companies", "syncwright_last_invoice_status")
    portal.emulator.state.remove_property("companies", "syncwright_erp_id")
    action = hs_world.connector.action("update_account_billing")
    result = action.run(hs_world.ctx(), CONNECTION, "acct_1", {"last_invoice_status": "paid"})
    assert result["skipped"] == ["last_invoice_status"] and result["written"] == {}
    with pytest.raises(BusinessRuleError) as missing:
        action.run(hs_world.ctx(), CONNECTION, "acct_1", {"erp_id": "C-1"})
    assert missing.value.code == "hubspot.property_missing" and "Settings" in (
        missing.value.remediation or ""
    )
    with pytest.raises(BusinessRuleError) as currency:
        action.run(
            hs_world.ctx(),
            CONNECTION,
            "acct_1",
            {"acv": {"amount_minor": 100, "currency": "EUR"}},
        )
    assert currency.value.code == "hubspot.currency_mismatch"


def test_errors_are_classified_with_retry_after(portal: Portal) -> None:
    with (
        HubSpotClient(portal.url, "pat-wrong", timeout=5) as wrong,
        pytest.raises(AuthError) as auth,
    ):
        wrong.get("companies", "1", ["name"])
    assert auth.value.code == "hubspot.INVALID_AUTHENTICATION"
    with HubSpotClient(portal.url, DEFAULT_ACCESS_TOKEN, timeout=5) as client:
        with pytest.raises(BusinessRuleError) as missing:
            client.get("companies", "1", ["name"])
        assert missing.value.code == "hubspot.OBJECT_NOT_FOUND"
        with portal.admin() as admin:
            admin.post("/_sandbox/rate-limit", json={"storm": 1})
        with pytest.raises(TransientError) as limited:
            client.get("companies", "1", ["name"])
        assert limited.value.code == "hubspot.RATE_LIMITS" and limited.value.retry_after == 1.0
        assert "TEN_SECONDLY_ROLLING" in str(limited.value)
        with portal.admin() as admin:
            admin.post("/_sandbox/rate-limit", json={"storm": 1, "policy": "DAILY"})
        with pytest.raises(TransientError) as daily:
            client.get("companies", "1", ["name"])
        assert daily.value.retry_after is not None and 0 < daily.value.retry_after <= 86_400
        with pytest.raises(BusinessRuleError) as malformed:
            client.get("companies", "1/../2", ["name"])
        assert malformed.value.code == "hubspot.malformed_id"
    assert DEFAULT_ACCESS_TOKEN not in repr(client)


def test_a_public_app_reads_and_writes_through_oauth(
    portal: Portal, hs: HubSpot, tmp_path: Path
) -> None:
    runtime = Runtime(load_settings(write_config(tmp_path, portal.url, oauth=True)))
    try:
        world = World(runtime, portal)
        _linked(world, hs)
        read = world.connector.action("read_account")
        assert read.run(world.ctx(), CONNECTION, "acct_1")["global_id"] == "acct_1"
        # The access token runs out early (revoked, clock skew): renewed once, call succeeds.
        portal.emulator.oauth.expire_all()
        written = world.connector.action("update_account_billing").run(
            world.ctx(), CONNECTION, "acct_1", {"erp_id": "C-9"}
        )
        assert written["written"] == {"syncwright_erp_id": "C-9"}
    finally:
        runtime.close()

"""NetSuite connector: customers, configuration, the unmapped-subsidiary and lost-response paths."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from syncwright.config import load_settings
from syncwright.connectors._base import connector_class
from syncwright.connectors.netsuite.connector import NetSuiteConnector, account_from_host
from syncwright.connectors.netsuite.outbound import probe_customer, upsert_customer
from syncwright.errors import BusinessRuleError, ConfigError, UncertainOutcomeError
from syncwright.ledger import request_digest
from syncwright.runtime import Runtime
from syncwright.sandbox import FaultPlan
from tests._support import wait_until

if TYPE_CHECKING:
    from tests.connectors.netsuite.conftest import Emulator, NsWorld


def test_registered_from_config(ns_world: NsWorld) -> None:
    assert connector_class("netsuite") is NetSuiteConnector
    connector = ns_world.connector
    assert connector.webhook_verifier() is None
    assert connector.account == "TSTDRV1"
    assert connector.limiter.limit == 5
    assert connector.client is connector.client  # one client per connection


def test_actions_by_canonical_name(ns_world: NsWorld) -> None:
    connector = ns_world.connector
    assert sorted(connector.actions) == [
        "apply_payment",
        "book_refund",
        "check_credit",
        "check_customer",
        "check_products",
        "check_tax",
        "close_sales_order",
        "mark_dunning",
        "upsert_account",
        "upsert_credit_memo",
        "upsert_invoice",
        "upsert_sales_order",
    ]
    action = connector.action("upsert_account")
    assert (action.run, action.probe) == (upsert_customer, probe_customer)
    assert connector.action("upsert_sales_order").compensate is not None
    result = action.run(ns_world.ctx("netsuite.upsert_account"), "netsuite", ns_world.account("a0"))
    assert ns_world.state.get("customer", result["native_id"])["externalId"] == "a0"
    with pytest.raises(ConfigError):
        connector.action("set_entitlement")


def test_customer_upsert_twice_is_one_record(ns_world: NsWorld) -> None:
    state = ns_world.state
    before = len(state.ids("customer"))
    account = ns_world.account("acct_1")
    first = upsert_customer(ns_world.ctx("erp.upsert_customer"), "netsuite", account)
    renamed = {**account, "legal_name": "Client acct_1 Holdings Ltd"}
    second = upsert_customer(ns_world.ctx("erp.upsert_customer"), "netsuite", renamed)

    assert first["native_id"] == second["native_id"]
    assert len(state.ids("customer")) == before + 1
    record = state.find_by_external_id("customer", "acct_1")
    assert record["companyName"] == "Client acct_1 Holdings Ltd"
    assert record["subsidiary"] == "2"
    assert record["currency"] == "2"
    assert record["email"] == "ap@acct_1.test"
    assert record["taxRegNumber"] == "GB123456789"
    assert record["defaultAddress"] == "1 High Street\nLondon EC1A 1AA\nGB"
    assert record["isInactive"] is False

    ledger = second["ledger"]
    assert ledger["entity_type"] == "account"
    assert ledger["global_id"] == "acct_1"
    assert ledger["native_ids"] == {"netsuite": second["native_id"]}
    assert ledger["mapping_version"] == "netsuite_outbound@1"
    assert len(ledger["request_digest"]) == 64
    assert ledger["request_digest"] != request_digest(first)
    xref = ns_world.runtime.xref
    assert xref.native_id_for("account", "acct_1", "netsuite") == first["native_id"]


def test_unmapped_subsidiary_parks_with_remediation_and_writes_nothing(ns_world: NsWorld) -> None:
    sandbox = ns_world.emulator.sandbox
    requests_before = sandbox.requests
    customers = len(ns_world.state.ids("customer"))
    account = ns_world.account("acct_2", subsidiary="Syncwright Pty Ltd")
    with pytest.raises(BusinessRuleError) as caught:
        upsert_customer(ns_world.ctx(), "netsuite", account)
    error = caught.value
    assert error.code == "netsuite.unmapped_subsidiary"
    assert error.remediation == (
        "map legal entity Syncwright Pty Ltd to a NetSuite subsidiary under "
        "connections.netsuite.options.subsidiaries, or create it, then retry"
    )
    assert sandbox.requests == requests_before  # refused before any request
    assert len(ns_world.state.ids("customer")) == customers
    assert ns_world.runtime.xref.links("account", "acct_2") == {}


def test_mapping_is_case_insensitive_and_unmapped_currency_parks(ns_world: NsWorld) -> None:
    account = ns_world.account("acct_3", subsidiary="syncwright  gmbh", currency="EUR")
    result = upsert_customer(ns_world.ctx(), "netsuite", account)
    assert ns_world.state.get("customer", result["native_id"])["subsidiary"] == "3"
    with pytest.raises(BusinessRuleError) as caught:
        upsert_customer(ns_world.ctx(), "netsuite", {**account, "currency": "CHF"})
    assert caught.value.code == "netsuite.unmapped_currency"
    assert "connections.netsuite.options.currencies" in caught.value.remediation


def test_invalid_canonical_account_parks(ns_world: NsWorld) -> None:
    with pytest.raises(BusinessRuleError) as caught:
        upsert_customer(ns_world.ctx(), "netsuite", {"global_id": "acct_x"})
    assert caught.value.code == "netsuite.invalid_canonical"
    assert "name" in caught.value.message


def test_lost_response_then_probe_finds_the_record(emulator: Emulator, tmp_path: Path) -> None:
    from tests.connectors.netsuite.conftest import make_ns_world

    world = make_ns_world(emulator, tmp_path, timeout_seconds=0.5)
    try:
        emulator.sandbox.configure_faults(FaultPlan(lost_response_rate=1.0, stall_seconds=1.0))
        account = world.account("acct_lost")
        with pytest.raises(UncertainOutcomeError):
            upsert_customer(world.ctx("erp.upsert_customer"), "netsuite", account)
        assert emulator.sandbox.faults.injected["lost_response"] == 1
        # NetSuite still counts the request we gave up on: so does our limiter, for a while.
        limiter = world.connector.limiter
        assert limiter.in_flight == 1
        wait_until(lambda: limiter.in_flight == 0, timeout=5, what="slot given back")
        emulator.sandbox.configure_faults(FaultPlan())

        # The write landed although its answer was lost: the probe finds this very version.
        found = probe_customer(world.ctx("erp.upsert_customer"), "netsuite", account)
        assert found is not None
        record = emulator.sandbox.state.find_by_external_id("customer", "acct_lost")
        assert found["native_id"] == record["id"]
        assert world.runtime.xref.native_id_for("account", "acct_lost", "netsuite") == record["id"]
        # A different version is not taken for it.
        changed = {**account, "legal_name": "Someone Else Ltd"}
        assert probe_customer(world.ctx(), "netsuite", changed) is None
        # And nothing was created twice when the step runs again.
        again = upsert_customer(world.ctx("erp.upsert_customer"), "netsuite", account)
        assert again["native_id"] == record["id"]
        assert (
            len(
                emulator.sandbox.state.ids("customer", lambda r: r.get("externalId") == "acct_lost")
            )
            == 1
        )
    finally:
        world.runtime.close()
        # Let the held answer go out, so the next test starts with no request in flight.
        governor = emulator.sandbox.governor
        wait_until(lambda: governor.in_flight == 0, timeout=10, what="emulator idle")


def test_probe_of_a_missing_record_is_none(ns_world: NsWorld) -> None:
    assert probe_customer(ns_world.ctx(), "netsuite", ns_world.account("acct_never")) is None


def test_config_errors(tmp_path: Path, emulator: Emulator) -> None:
    from tests.connectors.netsuite.conftest import write_ns_config

    path = write_ns_config(
        tmp_path,
        url=emulator.url,
        credentials=emulator.credentials,
        jpy_currency="9",
        jp_subsidiary="9",
        extra_options="      default_item: [1, 2]\n",
    )
    with pytest.raises(ConfigError) as caught:
        Runtime(load_settings(path), upgrade=False)
    # The config check (the connector's options model) stops it before the connector starts.
    (problem,) = caught.value.problems
    assert problem.startswith(
        "connections.netsuite.options.default_item: must be a NetSuite internal id (a number"
    )

    text = path.read_text().replace("      default_item: [1, 2]\n", "")
    text = text.replace('      token_secret: "file:secrets/ns_token_secret"\n', "")
    path.write_text(text)
    with Runtime(load_settings(path), upgrade=False) as runtime:
        connector = runtime.connection("netsuite")
        assert isinstance(connector, NetSuiteConnector)
        with pytest.raises(ConfigError) as missing:
            _ = connector.client
        assert missing.value.problems == ["connections.netsuite.credentials.token_secret: not set"]


def test_account_from_host() -> None:
    assert account_from_host("https://1234567-sb1.suitetalk.api.netsuite.com") == "1234567_SB1"
    assert account_from_host("http://127.0.0.1:8040") is None

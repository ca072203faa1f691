"""The Salesforce connector passes the connector contract against the Salesforce emulator.

Its intake is polling (CDC replay, or SOQL), so it takes no webhooks. No CDC payload captured
from a real org is among the vendor artifacts, so its inbound samples are the change events the
emulator emits, which follow Salesforce's documented CDC format
(``tests/vendor/salesforce/pubsub/CDC-EVENT-FORMAT.facts.json``); the header fields are checked
against that document below."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from simple_salesforce import Salesforce

from syncwright.connectors import Delivery
from syncwright.connectors.salesforce.client import SalesforceCredentials
from syncwright.sandbox import FaultPlan
from syncwright.sandbox.salesforce import DEFAULT_CLIENT_ID
from syncwright.sandbox.salesforce._pubsub import PubSubServer
from tests.connectors.salesforce._support import CONNECTION, Org, World, delivery_of, header
from tests.connectors.salesforce.conftest import (  # noqa: F401 - fixtures used by this module
    WorldFactory,
    _shared_org,
    make_world,
    org,
    pubsub,
    sf,
)
from tests.contract.conftest import delivery, vendor_json
from tests.contract.connector_contract import ActionScript, ConnectorContract, ContractWorld

MISSING_ACCOUNT = "001000000000001AAA"
ECHO_ORIGIN = "com/salesforce/api/rest/59.0;client=syncwright"


class TestSalesforceConnector(ConnectorContract):
    required_actions = frozenset({"read_account", "read_deal", "update_account_billing"})

    @pytest.fixture
    def sf_world(self, make_world: WorldFactory, org: Org, pubsub: PubSubServer) -> World:
        # Change events over the Pub/Sub API (the cdc stream is the first polled).
        return make_world(org, options={"pubsub_endpoint": pubsub.endpoint})

    @pytest.fixture
    def world(self, sf_world: World) -> ContractWorld:
        return ContractWorld(sf_world.connector, lambda step: sf_world.ctx(step))

    @pytest.fixture
    def secrets(self, sf_world: World) -> list[str]:
        credentials = sf_world.runtime.settings.connections[CONNECTION].credentials
        return [credentials["client_secret"].reveal(), credentials["password"].reveal()]

    @pytest.fixture
    def action_script(self, sf_world: World, sf: Salesforce) -> ActionScript:
        account = sf.Account.create({"Name": "Contract Co", "BillingCountry": "US"})["id"]
        opp = sf.Opportunity.create(
            {
                "Name": "Contract deal",
                "AccountId": account,
                "StageName": "Prospecting",
                "CloseDate": "2026-06-30",
            }
        )["id"]
        sf_world.runtime.xref.link("account", "acct_k", CONNECTION, account)
        sf_world.runtime.xref.link("deal", "deal_k", CONNECTION, opp)
        billing = {
            "subscription_status": "active",
            "acv": {"amount_minor": 1_200_050, "currency": "USD"},
            "erp_id": "CUST-1001",
        }
        escalation = {
            "id": "case_k:escalation",
            "reason": "credit_request",
            "subject": "Credit for the outage",
            "reference": "zendesk ticket 35436",
            "priority": "high",
            "opened_at": "2026-06-01T10:00:00Z",
        }
        return [
            ("read_account", ("acct_k",)),
            ("read_deal", ("deal_k",)),
            ("update_account_billing", ("acct_k", billing)),
            ("escalate_case", ("acct_k", escalation)),
        ]

    @pytest.fixture
    def error_cases(self, org: Org) -> dict[str, Callable[[], Any]]:
        def with_client(call: Callable[[Any], Any], **kwargs: Any) -> Callable[[], Any]:
            def run() -> Any:
                with org.client(**kwargs) as client:
                    return call(client)

            return run

        def account() -> str:
            return str(org.state.insert("Account", {"Name": "Acme"}))

        def limit_used_up(client: Any) -> Any:
            client.authenticate()
            used = org.state.api_used
            org.state.reset_api_usage(used, used)  # the daily allocation is used up
            try:
                return client.get("Account", account(), ["Name"])
            finally:
                org.state.reset_api_usage(0, 100_000)

        def with_faults(plan: FaultPlan, call: Callable[[Any], Any]) -> Callable[[Any], Any]:
            def run(client: Any) -> Any:
                target = account()
                client.authenticate()
                org.faults.configure(plan)
                try:
                    return call((client, target))
                finally:
                    org.faults.configure(FaultPlan())

            return run

        wrong = SalesforceCredentials(DEFAULT_CLIENT_ID, "not-the-secret", "someone", "pw-XYZ")
        return {
            "oauth.invalid_client": with_client(
                lambda c: c.get("Account", MISSING_ACCOUNT), credentials=wrong
            ),
            "not_found": with_client(lambda c: c.get("Account", MISSING_ACCOUNT)),
            "invalid_field": with_client(lambda c: c.get("Account", account(), ["Nope__c"])),
            "malformed_id": with_client(lambda c: c.get("Account", "001'; DROP")),
            "required_field_missing": with_client(
                lambda c: c.upsert("Account", "ERP_Id__c", "C-1", {"Website": "x"})
            ),
            "request_limit_exceeded": with_client(limit_used_up),
            "unknown_exception": with_client(
                with_faults(
                    FaultPlan(error_5xx_rate=1.0, only_methods=frozenset({"GET"})),
                    lambda ct: ct[0].get("Account", ct[1]),
                )
            ),
            "write_outcome_unknown": with_client(
                with_faults(
                    FaultPlan(
                        lost_response_rate=1.0,
                        stall_seconds=2.0,
                        only_methods=frozenset({"PATCH"}),
                    ),
                    lambda ct: ct[0].update("Account", ct[1], {"Name": "Applied"}),
                ),
                timeout=0.5,
            ),
        }

    @pytest.fixture
    def new_stream_event(self, org: Org) -> Callable[[], None]:
        org.state.insert("Account", {"Name": "Before the cursor"})
        return lambda: org.state.insert("Account", {"Name": "After the cursor"}) and None

    @pytest.fixture
    def vendor_samples(self, org: Org, sf: Salesforce) -> list[Delivery]:
        account = sf.Account.create({"Name": "Sample Co", "BillingCountry": "US"})["id"]
        sf.Account.update(account, {"Website": "sample.example"})
        events = org.cdc(0)
        assert events
        return [delivery_of(event, correlation_id="cor_contract") for event in events]

    @pytest.fixture
    def ignored_delivery(self, org: Org) -> Delivery:
        # Our own write coming back (echo): acknowledged, never synced again.
        org.state.insert("Account", {"Name": "Echo"})
        (event,) = org.cdc(0)
        event["payload"]["ChangeEventHeader"]["changeOrigin"] = ECHO_ORIGIN
        return delivery_of(event)

    @pytest.fixture
    def malformed_delivery(self) -> Delivery:
        return delivery(CONNECTION, "2", "Account.UPDATE", b'{"payload": {}}')


def test_emulated_change_events_carry_the_documented_header(org: Org) -> None:
    """The samples above stand in for a captured payload only because their header is the one
    Salesforce documents (the vendor's CDC facts, copied into tests/vendor)."""
    documented = json.dumps(vendor_json("salesforce/pubsub/CDC-EVENT-FORMAT.facts.json"))
    org.state.insert("Account", {"Name": "Header Co"})
    (event,) = org.cdc(0)
    for field in header(event):
        assert f'"{field}"' in documented, f"{field} is not in Salesforce's CDC header"

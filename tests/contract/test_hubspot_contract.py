"""The HubSpot connector passes the connector contract against the HubSpot emulator.

Its vendor samples are HubSpot's own published example batch (the v1 request-validation page,
a ``contact.creation`` event, which maps to nothing) and batches the emulator emits for a new
company and a won deal; the emulator's event fields are checked against HubSpot's documented
field list in tests/sandbox/hubspot/test_hs_webhooks.py."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from hubspot import HubSpot

from syncwright.connectors import Delivery
from syncwright.connectors.hubspot.auth import OAuthRefreshAuth
from syncwright.connectors.hubspot.client import HubSpotClient
from syncwright.connectors.hubspot.signature import sign_v3
from syncwright.sandbox import FaultPlan
from syncwright.sandbox.hubspot import (
    DEFAULT_ACCESS_TOKEN,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_OAUTH_CLIENT_ID,
)
from tests.connectors.hubspot import _seed
from tests.connectors.hubspot.conftest import (  # noqa: F401 - fixtures used by this module
    CONNECTION,
    Portal,
    World,
    _hubspot_portal,
    delivery_of,
    event,
    hs,
    hs_world,
    portal,
)
from tests.contract.conftest import delivery
from tests.contract.connector_contract import ActionScript, ConnectorContract, ContractWorld

# https://developers.hubspot.com/docs/faq/v1-request-validation (the example request body)
HUBSPOT_EXAMPLE_BATCH = (
    '[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,'
    '"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM",'
    '"changeFlag":"NEW","appId":54321}]'
)


class TestHubSpotConnector(ConnectorContract):
    required_actions = frozenset({"read_account", "read_deal", "update_account_billing"})

    @pytest.fixture
    def world(self, hs_world: World) -> ContractWorld:
        return ContractWorld(hs_world.connector, hs_world.ctx)

    @pytest.fixture
    def secrets(self) -> list[str]:
        return [DEFAULT_ACCESS_TOKEN, DEFAULT_CLIENT_SECRET]

    @pytest.fixture
    def action_script(self, hs_world: World, hs: HubSpot) -> ActionScript:
        seeded = _seed.won_deal(hs)
        hs_world.runtime.xref.link("account", "acct_k", CONNECTION, seeded.company)
        hs_world.runtime.xref.link("deal", "deal_k", CONNECTION, seeded.deal)
        billing = {
            "subscription_status": "active",
            "acv": {"amount_minor": 1_200_050, "currency": "USD"},
            "erp_id": "CUST-1001",
        }
        return [
            ("read_account", ("acct_k",)),
            ("read_deal", ("deal_k",)),
            ("update_account_billing", ("acct_k", billing)),
        ]

    @pytest.fixture
    def error_cases(self, portal: Portal) -> dict[str, Callable[[], Any]]:
        def call(action: Callable[[HubSpotClient], Any], **kwargs: Any) -> Callable[[], Any]:
            def run() -> Any:
                token = kwargs.pop("token", DEFAULT_ACCESS_TOKEN)
                with HubSpotClient(portal.url, token, timeout=kwargs.get("timeout", 5)) as c:
                    return action(c)

            return run

        def company() -> str:
            return portal.emulator.state.create("companies", {"name": "Acme"}).id

        def faulted(plan: FaultPlan, action: Callable[[HubSpotClient, str], Any]) -> Any:
            def run(client: HubSpotClient) -> Any:
                target = company()
                portal.emulator.faults.configure(plan)
                try:
                    return action(client, target)
                finally:
                    portal.emulator.faults.configure(FaultPlan())

            return run

        def storm(client: HubSpotClient) -> Any:
            portal.emulator.limiter.storm(1)
            return client.get("companies", company(), ["name"])

        def oauth_refused() -> Any:
            auth = OAuthRefreshAuth(
                f"{portal.url}/oauth/v1/token",
                DEFAULT_OAUTH_CLIENT_ID,
                DEFAULT_CLIENT_SECRET,
                "revoked-refresh-token",
            )
            with HubSpotClient(portal.url, auth=auth, timeout=5) as client:
                return client.get("companies", "1", ["name"])

        return {
            "INVALID_AUTHENTICATION": call(
                lambda c: c.get("companies", "1", ["name"]), token="pat-na1-wrong"
            ),
            "oauth.BAD_REFRESH_TOKEN": oauth_refused,
            "OBJECT_NOT_FOUND": call(lambda c: c.get("companies", "999", ["name"])),
            "VALIDATION_ERROR": call(lambda c: c.update("companies", company(), {"colour": "x"})),
            "RATE_LIMITS": call(storm),
            "INTERNAL_ERROR": call(
                faulted(
                    FaultPlan(error_5xx_rate=1.0, only_methods=frozenset({"GET"})),
                    lambda c, t: c.get("companies", t, ["name"]),
                )
            ),
            "uncertain": call(
                faulted(
                    FaultPlan(
                        lost_response_rate=1.0, stall_seconds=2.0, only_methods=frozenset({"PATCH"})
                    ),
                    lambda c, t: c.update("companies", t, {"name": "Applied"}),
                ),
                timeout=0.5,
            ),
        }

    @pytest.fixture
    def new_stream_event(self, hs: HubSpot) -> Callable[[], None]:
        _seed.won_deal(hs)
        return lambda: _seed.won_deal(hs) and None

    @pytest.fixture
    def signed_webhook(self) -> tuple[bytes, dict[str, str]]:
        body = HUBSPOT_EXAMPLE_BATCH.encode()
        stamp = str(int(time.time() * 1000))
        uri = "https://sync.example.com/hooks/hubspot"
        return body, {
            "X-HubSpot-Signature-v3": sign_v3(DEFAULT_CLIENT_SECRET, "POST", uri, body, stamp),
            "X-HubSpot-Request-Timestamp": stamp,
            "host": "sync.example.com",
        }

    @pytest.fixture
    def vendor_samples(self, portal: Portal, hs: HubSpot) -> list[Delivery]:
        hooks = portal.emulator.webhooks
        hooks.subscriptions.clear()
        hooks.target_url = None  # collected, not sent
        hooks.subscribe("company.creation")
        hooks.subscribe("deal.propertyChange", "dealstage")
        _seed.won_deal(hs)
        emitted = hooks.pending()
        hooks.reset()
        hooks.subscriptions.clear()
        samples = [
            delivery(CONNECTION, "doc-1", "contact.creation", HUBSPOT_EXAMPLE_BATCH.encode())
        ]
        samples += [delivery_of([e], event_id=f"emitted-{n}") for n, e in enumerate(emitted)]
        assert {e["subscriptionType"] for e in emitted} == {
            "company.creation",
            "deal.propertyChange",
        }
        return samples

    @pytest.fixture
    def ignored_delivery(self, hs: HubSpot) -> Delivery:
        company = _seed.company(hs)
        # A billing property syncwright itself writes: its webhook starts nothing.
        return delivery_of([event("company.propertyChange", company, "syncwright_erp_id", "C-1")])

    @pytest.fixture
    def malformed_delivery(self) -> Delivery:
        return delivery(CONNECTION, "m-1", "unknown", json.dumps({"objectId": 1}).encode())

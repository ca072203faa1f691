"""The Stripe connector passes the connector contract against the Stripe emulator; its inbound
mapping meets Stripe's own resource fixtures (``tests/vendor/stripe/fixtures3.json``)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import stripe

from syncwright.connectors import Delivery
from syncwright.connectors.stripe.inbound import MAPPED_EVENT_TYPES
from syncwright.connectors.stripe.signature import sign_stripe_payload
from syncwright.runtime import Runtime
from syncwright.sandbox import FaultInjector, FaultPlan, ServerThread
from tests.connectors.stripe._support import API_KEY, CONNECTION, RuntimeFactory
from tests.connectors.stripe.conftest import (  # noqa: F401 - fixtures used by this module
    Catalog,
    account,
    catalog,
    make_runtime,
    sdk,
    stripe_faults,
    stripe_server,
    stripe_state,
    subscription,
)
from tests.connectors.stripe.test_stripe_inbound import OBJECT_OF
from tests.contract.conftest import delivery, step_context, vendor_json
from tests.contract.connector_contract import ActionScript, ConnectorContract, ContractWorld

SECRET = "whsec_contract_stripe_secret"


def _event(event_id: str, event_type: str, obj: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": 1767225600,
            "api_version": "2026-10-28.endive",
            "livemode": False,
            "pending_webhooks": 1,
            "data": {"object": obj},
        }
    ).encode()


# A subscription in trial: live without a card, so the renewal has one to extend.
TRIAL = {"status": "trialing", "trial_end": "2099-01-01T00:00:00Z"}


class TestStripeConnector(ConnectorContract):
    required_actions = frozenset({"read_account", "create_customer", "create_subscription"})

    @pytest.fixture
    def runtime(self, make_runtime: RuntimeFactory, catalog: Catalog) -> Runtime:
        return make_runtime(
            webhook_secrets=[SECRET],
            options={"default_subsidiary": "US-1", "prices": {"price_gid_pro": catalog.pro}},
        )

    @pytest.fixture
    def world(self, runtime: Runtime) -> ContractWorld:
        return ContractWorld(
            runtime.connection(CONNECTION), lambda step: step_context(runtime, step)
        )

    @pytest.fixture
    def secrets(self) -> list[str]:
        return [SECRET, API_KEY]

    @pytest.fixture
    def action_script(self) -> ActionScript:
        return [
            ("create_customer", (account("acct_k"),)),
            ("read_account", ("acct_k",)),  # the customer the first step linked
            # In trial (the customer has no card yet): a live subscription the renewal extends.
            ("create_subscription", (subscription("sub_k", "acct_k", **TRIAL),)),
            ("read_subscription", ("sub_k",)),  # the subscription the step above linked
            ("read_receivables", ("acct_k",)),
            # A renewal of that subscription with one more seat, billed from the next period.
            (
                "renew_subscription",
                ("acct_k", subscription("ren_k", "acct_k", [("price_gid_pro", None, 3, 3000)])),
            ),
            (
                "update_customer",
                ("acct_k", {"legal_name": "Acct K Holdings", "credit_status": "hold"}),
            ),
        ]

    @pytest.fixture
    def error_cases(
        self,
        world: ContractWorld,
        make_runtime: RuntimeFactory,
        stripe_server: ServerThread,
        stripe_faults: FaultInjector,
    ) -> dict[str, Callable[[], Any]]:
        client = world.connector.client  # type: ignore[attr-defined]

        def wrong_key() -> Any:
            other = make_runtime(api_key="sk_test_not_the_key_000000000000")
            return other.connection(CONNECTION).client.get_customer("cus_x")  # type: ignore[attr-defined]

        def rate_limited() -> Any:
            url = f"{stripe_server.url}/_sandbox/rate_limit"
            httpx.post(url, json={"per_second": 1}, timeout=5, trust_env=False)
            try:
                for _ in range(10):
                    client.list_events(limit=1)
            finally:
                httpx.post(url, json={"per_second": None}, timeout=5, trust_env=False)

        def server_error() -> Any:
            stripe_faults.configure(FaultPlan(error_5xx_rate=1.0, only_methods=frozenset({"GET"})))
            try:
                return client.get_customer("cus_x")
            finally:
                stripe_faults.configure(FaultPlan())

        return {
            # https://docs.stripe.com/error-codes#resource-missing
            "resource_missing": lambda: client.get_invoice("in_does_not_exist"),
            # https://docs.stripe.com/api/errors: 401 carries type invalid_request_error
            "invalid_request_error": wrong_key,
            # https://docs.stripe.com/rate-limits: 429, code rate_limit
            "rate_limit": rate_limited,
            # https://docs.stripe.com/api/errors: 500-504, type api_error
            "api_error": server_error,
        }

    @pytest.fixture
    def new_stream_event(self, sdk: stripe.StripeClient) -> Callable[[], None]:
        sdk.v1.customers.create({"name": "Before the cursor"})
        return lambda: sdk.v1.customers.create({"name": f"After {time.monotonic_ns()}"}) and None

    @pytest.fixture
    def signed_webhook(self) -> tuple[bytes, dict[str, str]]:
        body = _event("evt_sig", "customer.created", {"id": "cus_1", "object": "customer"})
        return body, {"stripe-signature": sign_stripe_payload(body, SECRET, int(time.time()))}

    @pytest.fixture
    def vendor_samples(self) -> list[Delivery]:
        """Every mapped event type around the object Stripe's own fixtures give for it."""
        resources = vendor_json("stripe/fixtures3.json")["resources"]
        return [
            delivery(
                CONNECTION,
                f"evt_fx_{n}",
                event_type,
                _event(f"evt_fx_{n}", event_type, resources[OBJECT_OF[event_type]]),
            )
            for n, event_type in enumerate(MAPPED_EVENT_TYPES)
        ]

    @pytest.fixture
    def ignored_delivery(self) -> Delivery:
        body = _event("evt_i", "charge.succeeded", {"id": "ch_1", "object": "charge"})
        return delivery(CONNECTION, "evt_i", "charge.succeeded", body)

    @pytest.fixture
    def malformed_delivery(self) -> Delivery:
        body = _event("evt_m", "customer.created", {"object": "customer"})
        return delivery(CONNECTION, "evt_m", "customer.created", body)

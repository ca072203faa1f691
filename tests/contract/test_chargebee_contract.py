"""The Chargebee connector passes the connector contract against the Chargebee emulator.

Chargebee publishes no sample event payloads (its OpenAPI specs carry no examples); the
``vendor_samples`` are the events the emulator raised for a lifecycle driven by Chargebee's own
SDK, and ``tests/sandbox/chargebee`` checks those against the envelope and error schemas of
Chargebee's spec (``tests/vendor/chargebee``)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import chargebee
import httpx
import pytest

from syncwright.connectors import Delivery
from syncwright.runtime import Runtime
from syncwright.sandbox import FaultInjector, FaultPlan, ServerThread
from syncwright.sandbox.chargebee import ChargebeeState
from tests.connectors.chargebee._support import (
    API_KEY,
    CONNECTION,
    PRO_PRICE,
    WEBHOOK_PASSWORD,
    WEBHOOK_USER,
    RuntimeFactory,
    account,
    subscription,
)
from tests.connectors.chargebee.conftest import (  # noqa: F401 - fixtures used by this module
    cb_faults,
    cb_sdk,
    cb_server,
    cb_state,
    make_runtime,
)
from tests.contract.conftest import delivery, step_context
from tests.contract.connector_contract import ActionScript, ConnectorContract, ContractWorld

HOOK_SECRET = f"{WEBHOOK_USER}:{WEBHOOK_PASSWORD}"


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def lifecycle(sdk: chargebee.Chargebee, server: ServerThread) -> None:
    """Every event type the connector maps, raised by the emulator from SDK calls."""
    customer = sdk.Customer.create({"company": "Globex", "email": "ap@globex.test"}).customer
    sub = sdk.Subscription.create_with_items(
        customer.id, {"subscription_items": [{"item_price_id": PRO_PRICE, "quantity": 2}]}
    ).subscription
    sdk.Customer.update(customer.id, {"company": "Globex Inc"})
    sdk.Subscription.update_for_items(
        sub.id, {"subscription_items": [{"item_price_id": PRO_PRICE, "quantity": 1}]}
    )
    httpx.post(
        f"{server.url}/_sandbox/customers/{customer.id}/payment_behavior",
        json={"behavior": "fail"},
        trust_env=False,
    )
    httpx.post(f"{server.url}/_sandbox/subscriptions/{sub.id}/renew", trust_env=False)
    sdk.Subscription.cancel_for_items(sub.id, {"credit_option_for_current_term_charges": "full"})


class TestChargebeeConnector(ConnectorContract):
    required_actions = frozenset({"read_account", "create_customer", "create_subscription"})

    @pytest.fixture
    def runtime(self, make_runtime: RuntimeFactory, cb_sdk: chargebee.Chargebee) -> Runtime:
        return make_runtime(
            webhook_secrets=[HOOK_SECRET],
            options={
                "default_subsidiary": "US-1",
                "item_prices": {"price_gid_pro": PRO_PRICE},
                "verify_webhooks_by_refetch": True,
            },
        )

    @pytest.fixture
    def world(self, runtime: Runtime) -> ContractWorld:
        return ContractWorld(
            runtime.connection(CONNECTION), lambda step: step_context(runtime, step)
        )

    @pytest.fixture
    def secrets(self) -> list[str]:
        return [API_KEY, WEBHOOK_PASSWORD]

    @pytest.fixture
    def action_script(self) -> ActionScript:
        return [
            ("create_customer", (account("acct_k"),)),
            ("read_account", ("acct_k",)),
            ("create_subscription", (subscription("sub_k", "acct_k"),)),
            ("read_subscription", ("sub_k",)),
            ("read_receivables", ("acct_k",)),
            ("update_customer", ("acct_k", {"legal_name": "Kappa Ltd", "credit_status": "hold"})),
        ]

    @pytest.fixture
    def error_cases(
        self,
        world: ContractWorld,
        make_runtime: RuntimeFactory,
        cb_server: ServerThread,
        cb_faults: FaultInjector,
    ) -> dict[str, Callable[[], Any]]:
        client = world.connector.client  # type: ignore[attr-defined]

        def wrong_key() -> Any:
            other = make_runtime(api_key="test_not_the_key")
            return other.connection(CONNECTION).client.retrieve("customer", "x")  # type: ignore[attr-defined]

        def rate_limited() -> Any:
            url = f"{cb_server.url}/_sandbox/rate_limit"
            httpx.post(url, json={"per_minute": 2}, timeout=5, trust_env=False)
            try:
                for _ in range(5):
                    client.list_page("event", {"limit": 1})
            finally:
                httpx.post(url, json={"per_minute": None}, timeout=5, trust_env=False)

        def unavailable() -> Any:
            cb_faults.configure(FaultPlan(error_5xx_rate=1.0, only_methods=frozenset({"GET"})))
            try:
                return client.retrieve("customer", "x")
            finally:
                cb_faults.configure(FaultPlan())

        # The 429 last: its Retry-After (the rest of the emulator's minute) blocks this
        # connection's later requests, as it must, and would hold up the cases after it.
        return {
            "resource_not_found": lambda: client.retrieve("invoice", "does-not-exist"),
            "param_wrong_value": lambda: client.list_page("event", {"limit": 500}),
            "api_authentication_failed": wrong_key,
            "internal_temporary_error": unavailable,
            "api_request_limit_exceeded": rate_limited,
        }

    @pytest.fixture
    def new_stream_event(self, cb_sdk: chargebee.Chargebee) -> Callable[[], None]:
        cb_sdk.Customer.create({"company": "Before the cursor"})
        return lambda: cb_sdk.Customer.create({"company": f"After {time.monotonic_ns()}"}) and None

    @pytest.fixture
    def signed_webhook(self, cb_sdk: chargebee.Chargebee, cb_state: ChargebeeState) -> Any:
        cb_sdk.Customer.create({"company": "Hooked"})
        body = json.dumps(cb_state.events[-1]).encode()
        return body, {"authorization": _basic(WEBHOOK_USER, WEBHOOK_PASSWORD)}

    @pytest.fixture
    def tampered_webhook(self, signed_webhook: Any) -> Any:
        body, headers = signed_webhook
        event = json.loads(body)
        event["content"]["customer"]["company"] = "Tampered"
        return json.dumps(event).encode(), headers

    @pytest.fixture
    def vendor_samples(
        self, cb_sdk: chargebee.Chargebee, cb_server: ServerThread, cb_state: ChargebeeState
    ) -> list[Delivery]:
        lifecycle(cb_sdk, cb_server)
        return [
            delivery(CONNECTION, e["id"], e["event_type"], json.dumps(e).encode())
            for e in cb_state.events
        ]

    @pytest.fixture
    def ignored_delivery(self) -> Delivery:
        body = {"id": "ev_i", "event_type": "card_added", "api_version": "v2", "content": {}}
        return delivery(CONNECTION, "ev_i", "card_added", json.dumps(body).encode())

    @pytest.fixture
    def malformed_delivery(self) -> Delivery:
        body = {
            "id": "ev_m",
            "event_type": "customer_created",
            "api_version": "v2",
            "content": {"customer": {"first_name": "No id"}},
        }
        return delivery(CONNECTION, "ev_m", "customer_created", json.dumps(body).encode())

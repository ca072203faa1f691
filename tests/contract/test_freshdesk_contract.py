"""The Freshdesk connector passes the connector contract against the Freshdesk emulator: it
writes entitlements, authenticates automation-rule webhooks by a shared secret (Freshdesk
signs nothing), maps tickets to cases, and polls tickets by ``updated_since``. The vendor
samples are python-freshdesk's recorded API bodies (``tests/vendor/freshdesk``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from syncwright.connectors import Delivery
from syncwright.runtime import Runtime
from tests.connectors.freshdesk.conftest import (  # noqa: F401 - fixtures used by this module
    API_KEY,
    CONNECTION,
    HOOK_SECRET,
    Freshdesk,
    RuntimeFactory,
    _freshdesk_server,
    account,
    entitlement,
    freshdesk,
    make_runtime,
)
from tests.contract.conftest import delivery, step_context, vendor_json
from tests.contract.connector_contract import ActionScript, ConnectorContract, ContractWorld

SAMPLES = "freshdesk/python-freshdesk.v2-sample-responses.json"


class TestFreshdeskConnector(ConnectorContract):
    required_actions = frozenset({"upsert_entitlement"})

    @pytest.fixture
    def runtime(self, make_runtime: RuntimeFactory, freshdesk: Freshdesk) -> Runtime:
        freshdesk.seed()
        return make_runtime()

    @pytest.fixture
    def world(self, runtime: Runtime) -> ContractWorld:
        return ContractWorld(
            runtime.connection(CONNECTION), lambda step: step_context(runtime, step)
        )

    @pytest.fixture
    def secrets(self) -> list[str]:
        return [HOOK_SECRET, API_KEY]

    @pytest.fixture
    def action_script(self) -> ActionScript:
        contact = {
            "global_id": "cont_k",
            "account_id": "acct_k",
            "first_name": "Pat",
            "last_name": "Lee",
            "email": "pat.lee@acct-k.example",
        }
        return [
            ("upsert_entitlement", (entitlement("acct_k"), account("acct_k"))),
            ("upsert_contact", (contact,)),  # joins the organization the entitlement made
        ]

    @pytest.fixture
    def error_cases(
        self, runtime: Runtime, make_runtime: RuntimeFactory, freshdesk: Freshdesk
    ) -> dict[str, Callable[[], Any]]:
        upsert = runtime.connection(CONNECTION).action("upsert_entitlement").run
        client = runtime.connection(CONNECTION).client  # type: ignore[attr-defined]

        def run(on: Runtime, ent: dict[str, Any], acct: dict[str, Any]) -> Any:
            return upsert(step_context(on, "x"), CONNECTION, ent, acct)

        def duplicate() -> Any:
            with freshdesk.api() as api:
                api.post("/companies", json={"name": "Customer acct_d"}).raise_for_status()
            return run(runtime, entitlement("acct_d"), account("acct_d"))

        def storm() -> Any:
            freshdesk.faults(rate_limit_storm={"requests": 1, "retry_after": 1})
            return client.list_sla_policies()

        def unavailable() -> Any:
            freshdesk.faults(error_5xx_rate=1.0, only_methods=["GET"])
            try:
                return client.list_sla_policies()
            finally:
                freshdesk.faults(error_5xx_rate=0.0)

        return {
            "invalid_credentials": lambda: run(
                make_runtime(api_key="not-the-key"), entitlement("acct_a"), account("acct_a")
            ),
            # the connection names a company field Freshdesk does not have
            "invalid_field": lambda: run(
                make_runtime(options="tier_field: no_such_field"),
                entitlement("acct_f"),
                account("acct_f"),
            ),
            # the tier field is a dropdown without "platinum"
            "invalid_value": lambda: run(
                runtime, entitlement("acct_i", tier="platinum"), account("acct_i")
            ),
            "duplicate_value": duplicate,
            "http_404": lambda: client.update_company(999_999, {"name": "Gone"}),
            "http_429": storm,
            "http_503": unavailable,
        }

    @pytest.fixture
    def signed_webhook(self) -> tuple[bytes, dict[str, str]]:
        body = json.dumps({"freshdesk_webhook": {"ticket_id": 1}}).encode()
        return body, {"X-Syncwright-Webhook-Secret": HOOK_SECRET}

    @pytest.fixture
    def tampered_webhook(self) -> tuple[bytes, dict[str, str]]:
        """Freshdesk signs no bytes (a shared secret header or basic auth, set on the rule):
        what must be refused is a delivery with a wrong secret."""
        body = json.dumps({"freshdesk_webhook": {"ticket_id": 1}}).encode()
        return body, {"X-Syncwright-Webhook-Secret": HOOK_SECRET + "x"}

    @pytest.fixture
    def vendor_samples(self) -> list[Delivery]:
        samples = vendor_json(SAMPLES)
        tickets = [samples["ticket_1.json"], *samples["all_tickets.json"]]
        tickets += samples["search_tickets.json"]["results"]
        out = [
            delivery(
                CONNECTION,
                f"ticket:{t['id']}:{t['updated_at']}",
                "ticket.updated",
                json.dumps(t).encode(),
            )
            for t in tickets
        ]
        company = samples["company.json"]  # not a ticket: acknowledged, mapped to nothing
        out.append(delivery(CONNECTION, "company:1", "unknown", json.dumps(company).encode()))
        return out

    @pytest.fixture
    def ignored_delivery(self) -> Delivery:
        contact = vendor_json(SAMPLES)["contact.json"]
        return delivery(CONNECTION, "contact:1", "unknown", json.dumps(contact).encode())

    @pytest.fixture
    def malformed_delivery(self) -> Delivery:
        body = json.dumps({"freshdesk_webhook": {"ticket_id": "{{ticket.id}}"}}).encode()
        return delivery(CONNECTION, "webhook:x", "ticket.webhook", body)

    @pytest.fixture
    def new_stream_event(self, freshdesk: Freshdesk) -> Callable[[], None]:
        def make() -> None:
            with freshdesk.api() as api:
                created = api.post(
                    "/tickets",
                    json={"subject": "New", "email": "n@x.test", "description": "d"},
                )
                created.raise_for_status()

        return make

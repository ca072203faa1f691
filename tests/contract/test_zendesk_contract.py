"""The Zendesk connector passes the connector contract against the Zendesk emulator. It writes
entitlements and verifies Zendesk's webhook signatures; it declares no inbound mapping, so
Zendesk's own webhook examples (``tests/vendor/zendesk/webhooks``) map to nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from syncwright.connectors import Delivery
from syncwright.connectors.zendesk.signature import sign_zendesk_payload
from syncwright.runtime import Runtime
from tests.connectors.zendesk.conftest import (  # noqa: F401 - fixtures used by this module
    CONNECTION,
    TOKEN,
    RuntimeFactory,
    Zendesk,
    _zendesk_server,
    account,
    entitlement,
    extra_zendesk,
    make_runtime,
    zendesk,
)
from tests.contract.conftest import VENDOR_DIR, delivery, step_context
from tests.contract.connector_contract import ActionScript, ConnectorContract, ContractWorld

HOOK_SECRET = "zendesk-webhook-signing-secret"  # what write_zendesk_config writes


class TestZendeskConnector(ConnectorContract):
    required_actions = frozenset({"upsert_entitlement"})

    @pytest.fixture
    def runtime(self, make_runtime: RuntimeFactory, zendesk: Zendesk) -> Runtime:
        zendesk.seed_fields()  # the organization fields an admin creates first
        return make_runtime()

    @pytest.fixture
    def world(self, runtime: Runtime) -> ContractWorld:
        return ContractWorld(
            runtime.connection(CONNECTION), lambda step: step_context(runtime, step)
        )

    @pytest.fixture
    def secrets(self) -> list[str]:
        return [HOOK_SECRET, TOKEN]

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
        self,
        runtime: Runtime,
        make_runtime: RuntimeFactory,
        zendesk: Zendesk,
        extra_zendesk: Callable[..., Zendesk],
        tmp_path: Path,
    ) -> dict[str, Callable[[], Any]]:
        upsert = runtime.connection(CONNECTION).action("upsert_entitlement").run

        def run(on: Runtime, ent: dict[str, Any], acct: dict[str, Any]) -> Any:
            return upsert(step_context(on, "x"), CONNECTION, ent, acct)

        def rate_limited() -> Any:
            tiny = extra_zendesk(requests_per_minute=3)
            tiny.seed_fields()  # two of the three requests this minute
            return run(make_runtime(base_url=tiny.url), entitlement("acct_r"), account("acct_r"))

        def unavailable() -> Any:
            zendesk.faults(error_5xx_rate=1.0, only_methods=["GET"])
            try:
                client = runtime.connection(CONNECTION).client  # type: ignore[attr-defined]
                return client.list_organization_fields()
            finally:
                zendesk.faults(error_5xx_rate=0.0)

        def missing() -> Any:
            client = runtime.connection(CONNECTION).client  # type: ignore[attr-defined]
            return client.update_organization(999_999, {"name": "Gone"})

        return {
            # https://developer.zendesk.com/api-reference/introduction/requests/ (401, no code)
            "http_401": lambda: run(
                make_runtime(token="not-the-token"), entitlement("acct_a"), account("acct_a")
            ),
            "RecordNotFound": missing,
            # the tier field is a drop-down without "platinum"
            "RecordInvalid": lambda: run(
                runtime, entitlement("acct_i", tier="platinum"), account("acct_i")
            ),
            "RateLimited": rate_limited,
            "ServiceUnavailable": unavailable,
        }

    @pytest.fixture
    def signed_webhook(self) -> tuple[bytes, dict[str, str]]:
        body = (VENDOR_DIR / "zendesk/webhooks/user.active_changed.doc-example.json").read_bytes()
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # Zendesk sends ISO-8601
        return body, {
            "x-zendesk-webhook-signature": sign_zendesk_payload(body, HOOK_SECRET, stamp),
            "x-zendesk-webhook-signature-timestamp": stamp,
        }

    @pytest.fixture
    def vendor_samples(self) -> list[Delivery]:
        samples = sorted((VENDOR_DIR / "zendesk/webhooks").glob("*.json"))
        assert samples, "the Zendesk webhook examples are missing from tests/vendor"
        out = []
        for path in samples:
            body = json.loads(path.read_text())
            out.append(delivery(CONNECTION, str(body["id"]), body["type"], path.read_bytes()))
        return out

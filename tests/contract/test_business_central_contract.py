"""The Business Central connector passes the connector contract against its emulator:
every ERP action with its probe and compensation, Microsoft's documented error codes, the
``customers`` poll stream's cursor, clientState-checked webhooks, and Microsoft's own webhook
notification example mapped (or left alone) as documented."""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from syncwright.connectors import Delivery
from syncwright.connectors.business_central.outbound import customer_number
from syncwright.sandbox import FaultPlan
from syncwright.sandbox.business_central import COMPANY_ID
from tests.connectors.business_central.conftest import (  # noqa: F401 - fixtures used here
    CONNECTION,
    WEBHOOK_SECRET,
    BcEmulator,
    BcWorld,
    _bc_emulator,
    bc_emulator,
    make_bc_world,
)
from tests.contract.conftest import delivery, vendor_json
from tests.contract.connector_contract import ActionScript, ConnectorContract, ContractWorld

# The item id of Microsoft's notification example (items are not mapped inbound).
ITEM_ID = "26814998-936a-401c-81c1-0e848a64971d"


class TestBusinessCentralConnector(ConnectorContract):
    required_actions = frozenset(
        {
            "upsert_account",
            "upsert_sales_order",
            "close_sales_order",
            "upsert_invoice",
            "apply_payment",
            "upsert_credit_memo",
            "check_credit",
            "check_customer",
            "check_products",
            "check_tax",
        }
    )
    webhook_body_signed = False

    @pytest.fixture
    def bc(self, bc_emulator: BcEmulator, tmp_path: Path) -> Iterator[BcWorld]:
        # Journal lines left for finance to post: a posted payment cannot be compensated (the
        # contract undoes every write); posting is tested in tests/connectors/business_central.
        world = make_bc_world(bc_emulator, tmp_path, {"post_payments": "false"})
        yield world
        world.runtime.close()

    @pytest.fixture
    def world(self, bc: BcWorld) -> ContractWorld:
        return ContractWorld(bc.connector, lambda step: bc.ctx(step))

    @pytest.fixture
    def secrets(self, bc_emulator: BcEmulator) -> list[str]:
        return [bc_emulator.client_secret, WEBHOOK_SECRET]

    @pytest.fixture
    def action_script(self, bc: BcWorld) -> ActionScript:
        account = bc.account("acct_k")
        lines = [("price_std", 3, 1234)]  # 37.02 GBP + 20 % UK VAT = 44.42
        subscription = bc.subscription("sub_k", "acct_k", lines)
        invoice = bc.invoice("inv_k", "acct_k", lines, tax_minor=740)
        cancelled = {**subscription, "status": "cancelled", "cancelled_at": "2026-06-15T12:00:00Z"}
        deal = bc.deal("deal_k", "acct_k", [("prod_std", "price_std", 3, 1234)])
        subject = {"account": account, "deal": deal}
        return [
            ("upsert_account", (account,)),
            ("upsert_sales_order", (subscription,)),
            ("upsert_invoice", (invoice,)),
            ("mark_dunning", (invoice, 1, "card_declined")),
            ("apply_payment", (bc.payment("pay_k", "acct_k", 3242, "inv_k"),)),
            # 10.00 GBP + 20 % UK VAT, as the customer's tax area computes it
            (
                "upsert_credit_memo",
                (bc.credit_note("cn_k", "acct_k", "inv_k", 1000, tax_minor=200),),
            ),
            ("close_sales_order", (cancelled,)),
            ("check_credit", (subject,)),
            ("check_customer", (subject,)),
            ("check_products", (subject,)),
            ("check_tax", (subject,)),
        ]

    @pytest.fixture
    def error_cases(self, bc: BcWorld, bc_emulator: BcEmulator) -> dict[str, Callable[[], Any]]:
        client = bc.connector.client
        sandbox = bc_emulator.sandbox

        def wrong_secret() -> Any:
            from syncwright.connectors.business_central._auth import EntraClientCredentials

            context = ssl.create_default_context(cafile=bc_emulator.certfile)
            with httpx.Client(verify=context) as http:
                auth = EntraClientCredentials(
                    client._auth.token_url, bc_emulator.client_id, "wrong", http=http
                )
                return auth.token()

        def stale_etag() -> Any:
            customer = client.create("customers", {"displayName": "Etag"})
            client.update("customers", customer, {"email": "a@b.co"})
            return client.update("customers", customer, {"email": "c@d.co"})

        def server_error() -> Any:
            sandbox.faults.configure(FaultPlan(error_5xx_rate=1.0))
            try:
                return client.create("customers", {"displayName": "Never"})
            finally:
                sandbox.faults.configure(FaultPlan())

        def duplicate() -> Any:
            client.create("customers", {"number": "DUP-1", "displayName": "Dup"})
            return client.create("customers", {"number": "DUP-1", "displayName": "Dup"})

        return {
            "Authentication_InvalidCredentials": wrong_secret,
            "BadRequest_NotFound": lambda: client.get(
                "customers", "00000000-0000-0000-0000-00000000abcd"
            ),
            "BadRequest": lambda: client.create("customers", {"displayName": "X", "nickname": "y"}),
            "Internal_InvalidTableRelation": lambda: client.create(
                "salesOrders",
                {"customerNumber": "10000", "salesOrderLines": [{"lineObjectNumber": "NOPE"}]},
            ),
            "Internal_EntityWithSameKeyExists": duplicate,
            "Internal_RecordNotFound": lambda: client.create(
                "salesOrders", {"customerNumber": "NOBODY"}
            ),
            "Application_DialogException": lambda: client.create(
                "salesOrders", {"orderDate": "2026-01-01"}
            ),
            "Request_EntityChanged": stale_etag,
            "Internal_ServerError": server_error,
        }

    def _notification(self, bc_emulator: BcEmulator, state: str | None = WEBHOOK_SECRET) -> bytes:
        sandbox = bc_emulator.sandbox
        customer = sandbox.state.rows(sandbox.company_id, "customers")[0]
        item: dict[str, Any] = {
            "subscriptionId": "sub-1",
            "expirationDateTime": "2026-12-06T00:00:00Z",
            "resource": f"api/v2.0/companies({COMPANY_ID})/customers({customer['id']})",
            "changeType": "updated",
            "lastModifiedDateTime": customer["lastModifiedDateTime"],
        }
        if state is not None:
            item["clientState"] = state
        return json.dumps({"value": [item]}).encode()

    @pytest.fixture
    def signed_webhook(self, bc_emulator: BcEmulator) -> tuple[bytes, dict[str, str]]:
        return self._notification(bc_emulator), {"content-type": "application/json"}

    @pytest.fixture
    def forged_webhooks(self, bc_emulator: BcEmulator) -> list[tuple[bytes, dict[str, str]]]:
        headers = {"content-type": "application/json"}
        return [
            (self._notification(bc_emulator, "not-the-secret"), headers),
            (self._notification(bc_emulator, None), headers),
            (b'{"value": []}', headers),
            (b"not json", headers),
        ]

    @pytest.fixture
    def vendor_samples(self, bc_emulator: BcEmulator) -> list[Delivery]:
        """Microsoft's notification example (items, customers created/deleted, a collection),
        pointed at this company and at a customer the emulator has."""
        doc = vendor_json("business_central/api-v2.0.resources-and-examples.json")
        example = doc["webhook_subscriptions_doc"]["examples_in_order"][2]["json"]
        sandbox = bc_emulator.sandbox
        customer = sandbox.state.rows(sandbox.company_id, "customers")[0]
        out = []
        for n, item in enumerate(example["value"]):
            resource = item["resource"]
            for company in (
                "b18aed47-c385-49d2-b954-dbdf8ad71780",
                "7dbba574-5f69-4167-a43e-fb975045de15",
            ):
                resource = resource.replace(company, COMPANY_ID)
            resource = resource.replace("130bbd17-dbb9-4790-9b12-2b0e9c9d22c3", customer["id"])
            body = json.dumps({"value": [{**item, "resource": resource}]}).encode()
            out.append(delivery(CONNECTION, f"bc_{n}", f"notification.{item['changeType']}", body))
        return out

    @pytest.fixture
    def ignored_delivery(self, bc_emulator: BcEmulator) -> Delivery:
        body = json.dumps(
            {
                "value": [
                    {
                        "resource": f"api/v2.0/companies({COMPANY_ID})/items({ITEM_ID})",
                        "changeType": "updated",
                    }
                ]
            }
        ).encode()
        return delivery(CONNECTION, "bc_ignored", "notification.updated", body)

    @pytest.fixture
    def malformed_delivery(self) -> Delivery:
        return delivery(CONNECTION, "bc_bad", "notification.updated", b'{"value": "nope"}')

    @pytest.fixture
    def new_stream_event(self, bc: BcWorld) -> Callable[[], None]:
        def make() -> None:
            bc.connector.client.create(
                "customers", {"number": customer_number("acct_new"), "displayName": "New"}
            )

        return make


def test_declared_codes_are_microsofts() -> None:
    """Every error code the connector declares is on Microsoft's v2.0 error-code page."""
    from syncwright.connectors.business_central.connector import BusinessCentralConnector

    doc = vendor_json("business_central/odata-error-codes.v2.0.json")
    documented = {entry["code"] for entry in doc["codes"]}
    assert set(BusinessCentralConnector.documented_errors) <= documented

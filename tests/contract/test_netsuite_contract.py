"""The NetSuite connector (an ERP target, and a source of customer facts by polling; no webhooks)
passes the connector contract against the NetSuite emulator. Oracle's own error examples
(``tests/vendor/netsuite/errors.oracle-docs-examples.json``) name codes it must classify."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from syncwright.connectors import Delivery
from syncwright.sandbox import FaultPlan
from tests._support import wait_until
from tests.connectors.netsuite.conftest import (  # noqa: F401 - fixtures used by this module
    Emulator,
    NsWorld,
    _emulator,
    emulator,
    make_ns_world,
)
from tests.contract.conftest import delivery, vendor_json
from tests.contract.connector_contract import ActionScript, ConnectorContract, ContractWorld

CONNECTION = "netsuite"


class TestNetSuiteConnector(ConnectorContract):
    required_actions = frozenset(
        {
            "upsert_account",
            "upsert_sales_order",
            "close_sales_order",
            "upsert_invoice",
            "apply_payment",
            "mark_dunning",
            "upsert_credit_memo",
        }
    )

    @pytest.fixture
    def ns(self, emulator: Emulator, tmp_path: Path) -> Iterator[NsWorld]:
        world = make_ns_world(emulator, tmp_path)
        yield world
        world.runtime.close()

    @pytest.fixture
    def world(self, ns: NsWorld) -> ContractWorld:
        return ContractWorld(ns.connector, lambda step: ns.ctx(step))

    @pytest.fixture
    def secrets(self, emulator: Emulator) -> list[str]:
        return [emulator.credentials.consumer_secret, emulator.credentials.token_secret]

    @pytest.fixture
    def action_script(self, ns: NsWorld) -> ActionScript:
        account = ns.account("acct_k")
        lines = [("price_std", 3, 1234)]  # 37.02 GBP + 20 % UK tax = 44.42
        subscription = ns.subscription("sub_k", "acct_k", lines)
        invoice = ns.invoice("inv_k", "acct_k", lines, tax_minor=740, subscription_id="sub_k")
        cancelled = {**subscription, "status": "cancelled", "cancelled_at": "2026-06-15T12:00:00Z"}
        deal = ns.deal("deal_k", "acct_k", [("prod_std", "price_std", 3, 1234)])
        subject = {"account": account, "deal": deal}
        # Cash back out of the credit note's credit memo (the invoice is paid by then).
        refund = {
            "global_id": "ref_k",
            "account_id": "acct_k",
            "amount": ns.money(200, "GBP"),
            "credit_note_id": "cn_k",
            "reference": "re_k",
        }
        return [
            ("upsert_account", (account,)),
            ("upsert_sales_order", (subscription,)),
            ("upsert_invoice", (invoice,)),
            ("mark_dunning", (invoice, 1, "card_declined")),
            ("apply_payment", (ns.payment("pay_k", "acct_k", 4442, "inv_k"),)),
            ("upsert_credit_memo", (ns.credit_note("cn_k", "acct_k", "inv_k", 500),)),
            ("book_refund", (refund,)),
            ("close_sales_order", (cancelled,)),
            ("check_credit", (subject,)),
            ("check_customer", (subject,)),
            ("check_products", (subject,)),
            ("check_tax", (subject,)),
        ]

    @pytest.fixture
    def error_cases(self, ns: NsWorld, emulator: Emulator) -> dict[str, Callable[[], Any]]:
        client = ns.connector.client
        customer = {"externalId": "DUP-1", "companyName": "Dup", "subsidiary": {"id": "1"}}

        def wrong_login() -> Any:
            wrong = replace(emulator.credentials, token_secret="0" * 64)
            with emulator.client(credentials=wrong) as other:
                return other.get("customer", "110")

        def duplicate() -> Any:
            client.create("customer", customer)
            return client.create("customer", customer)

        def server_error() -> Any:
            emulator.sandbox.configure_faults(FaultPlan(error_5xx_rate=1.0))
            try:
                return client.create("customer", {**customer, "externalId": "ERR-1"})
            finally:
                emulator.sandbox.configure_faults(FaultPlan())

        def over_the_limit() -> Any:
            # One request holds the account's only slot (a slow answer); the next is refused.
            emulator.sandbox.set_concurrency_limit(1)
            emulator.sandbox.configure_faults(
                FaultPlan(latency_ms=3000, only_methods=frozenset({"GET"}))
            )

            def hold() -> None:
                with emulator.client(timeout=30) as other:
                    other.get("customer", "110")

            holder = threading.Thread(target=hold)
            holder.start()
            try:
                wait_until(lambda: emulator.sandbox.governor.in_flight == 1, what="slot held")
                return client.get("customer", "107")
            finally:
                holder.join()
                emulator.sandbox.configure_faults(FaultPlan())
                emulator.sandbox.set_concurrency_limit(5)

        def oracle_sample_request() -> Any:
            # Oracle's own example of a sales order naming an item that does not exist.
            (sample,) = [
                e
                for e in vendor_json("netsuite/errors.oracle-docs-examples.json")["examples"]
                if e["name"] == "invalid_body_sublist_reference"
            ]
            return client.create("salesOrder", sample["request"]["body"])

        return {
            "INVALID_LOGIN": wrong_login,
            "INVALID_CONTENT": oracle_sample_request,
            "NONEXISTENT_ID": lambda: client.get("customer", "999999"),
            "INVALID_RCRD_TYPE": lambda: client.get_by_external_id("spaceship", "X"),
            "USER_ERROR": duplicate,
            "UNEXPECTED_ERROR": server_error,
            "CONCURRENCY_LIMIT_EXCEEDED": over_the_limit,
        }

    @pytest.fixture
    def vendor_samples(self, ns: NsWorld) -> list[Delivery]:
        # NetSuite sends no webhooks; an error body from Oracle's docs, delivered anyway, must
        # map to nothing. shared/vendor holds no SuiteQL customer row, so the polled row of
        # Oracle's tutorial customer 110 (seeded as in Oracle's samples: terms Net 30) stands
        # in for one, linked to an account as if syncwright had created it.
        examples = vendor_json("netsuite/errors.oracle-docs-examples.json")["examples"]
        errors = [
            delivery(CONNECTION, f"ns_{n}", "unknown", str(example["body"]).encode())
            for n, example in enumerate(examples)
            if "body" in example
        ]
        ns.runtime.xref.link("account", "acct_oracle_110", CONNECTION, "110")
        rows = ns.connector.poll("customers", None).events
        (row,) = [e for e in rows if e.vendor_event_id.startswith("customer:110:")]
        return [
            *errors,
            delivery(CONNECTION, row.vendor_event_id, row.event_type, row.body.encode()),
        ]

    @pytest.fixture
    def new_stream_event(self, ns: NsWorld) -> Callable[[], None]:
        def create() -> None:
            ns.connector.client.create(
                "customer", {"companyName": "Polled Ltd", "subsidiary": {"id": "1"}}
            )

        return create

    @pytest.fixture
    def ignored_delivery(self) -> Delivery:
        return delivery(CONNECTION, "ns_other", "salesOrder.changed", b'{"id": "1"}')

    @pytest.fixture
    def malformed_delivery(self) -> Delivery:
        return delivery(CONNECTION, "ns_bad", "customer.changed", b"not a customer row")


def test_oracle_documented_codes_are_declared() -> None:
    """Every error code in Oracle's own examples is one the connector declares."""
    from syncwright.connectors.netsuite.connector import NetSuiteConnector

    examples = vendor_json("netsuite/errors.oracle-docs-examples.json")["examples"]
    codes = {
        detail["o:errorCode"]
        for example in examples
        for detail in example.get("body", {}).get("o:errorDetails", [])
    }
    assert "INVALID_LOGIN" in codes
    assert codes == {"INVALID_LOGIN", "INVALID_CONTENT"}
    assert codes <= set(NetSuiteConnector.documented_errors)

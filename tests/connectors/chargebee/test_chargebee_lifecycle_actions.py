"""The Chargebee actions the lifecycle and ERP-source workflows call on a billing connection,
against the emulator driven by Chargebee's SDK: what the customer owes (open invoices, failed
collection attempts) before and after dunning, the subscription as Chargebee holds it, and the
ERP's facts written onto the customer (``company`` and merged ``meta_data``), once."""

from __future__ import annotations

from typing import Any

import chargebee
import pytest

from syncwright.errors import BusinessRuleError
from syncwright.runtime import Runtime
from syncwright.sandbox.chargebee import ChargebeeState
from tests.connectors.chargebee._support import (
    CONNECTION,
    PRO_PRICE,
    RuntimeFactory,
    account,
    subscription,
)
from tests.contract.conftest import step_context


def _run(runtime: Runtime, action: str, *args: Any) -> Any:
    step = runtime.connection(CONNECTION).action(action)
    return step.run(step_context(runtime, f"chargebee.{action}"), CONNECTION, *args)


@pytest.fixture
def billing(make_runtime: RuntimeFactory, cb_sdk: chargebee.Chargebee) -> Runtime:
    return make_runtime(
        options={"default_subsidiary": "US-1", "item_prices": {"price_gid_pro": PRO_PRICE}}
    )


def test_receivables_follow_dunning_and_recovery(
    billing: Runtime, cb_sdk: chargebee.Chargebee, cb_state: ChargebeeState
) -> None:
    customer = _run(billing, "create_customer", account("acct_d"))["native_id"]
    cb_state.set_payment_behaviour(customer, "fail")
    _run(billing, "create_subscription", subscription("sub_d", "acct_d", quantity=2))
    owed = _run(billing, "read_receivables", "acct_d")
    assert owed == {
        "balance_due": {"amount_minor": 6000, "currency": "USD"},
        "open_invoices": 1,
        "dunning_attempts": 1,
    }
    [invoice] = [i for i in cb_state.invoices.values() if i["customer_id"] == customer]
    with pytest.raises(chargebee.APIError):  # the card is declined again
        cb_sdk.Invoice.collect_payment(invoice["id"])
    assert _run(billing, "read_receivables", "acct_d")["dunning_attempts"] == 2
    cb_state.set_payment_behaviour(customer, None)
    paid = cb_sdk.Invoice.collect_payment(invoice["id"]).invoice
    assert paid.status == "paid" and paid.dunning_status == "success"
    assert _run(billing, "read_receivables", "acct_d") == {
        "balance_due": None,
        "open_invoices": 0,
        "dunning_attempts": 0,
    }
    sub = _run(billing, "read_subscription", "sub_d")
    assert sub["global_id"] == "sub_d" and sub["account_id"] == "acct_d"
    assert sub["status"] == "active" and [i["quantity"] for i in sub["items"]] == [2]
    with pytest.raises(BusinessRuleError) as unlinked:
        _run(billing, "read_receivables", "acct_unknown")
    assert unlinked.value.code == "chargebee.account_unlinked"


def test_update_customer_writes_the_erp_facts_once(
    billing: Runtime, cb_state: ChargebeeState
) -> None:
    customer = _run(billing, "create_customer", account("acct_u"))["native_id"]
    facts = {"legal_name": "Acme Corporation Ltd", "credit_status": "hold", "tax_id": "GB123"}
    first = _run(billing, "update_customer", "acct_u", facts)
    held = cb_state.customers[customer]
    assert held["company"] == "Acme Corporation Ltd"
    created = {"syncwright_id": "acct_u", "subsidiary": "US-1"}  # what create_customer set
    # what was there survives: Chargebee replaces meta_data as a whole
    assert held["meta_data"] == {**created, "credit_status": "hold", "tax_id": "GB123"}
    assert first["written"]["company"] == "Acme Corporation Ltd"
    writes = cb_state.writes
    again = _run(billing, "update_customer", "acct_u", facts)
    assert again["written"] == {} and cb_state.writes == writes  # nothing sent twice
    cleared = _run(billing, "update_customer", "acct_u", {"credit_status": None})
    assert cleared["written"] == {"meta_data": {**created, "tax_id": "GB123"}}
    assert "credit_status" not in cb_state.customers[customer]["meta_data"]
    probe = billing.connection(CONNECTION).action("update_customer").probe
    assert probe is not None
    assert probe(step_context(billing, "probe"), CONNECTION, "acct_u", facts) is None  # not shown
    with pytest.raises(BusinessRuleError) as unknown:
        _run(billing, "update_customer", "acct_u", {"credit_limit": 5})
    assert unknown.value.code == "chargebee.update_key_unknown"

"""The Chargebee actions against the emulator: writes happen once (links, idempotency keys),
a write whose answer was lost is found by its probe, a subscription is refused with remediation
when its price cannot be placed, and its compensation cancels it."""

from __future__ import annotations

import time
from typing import Any

import chargebee
import pytest

from syncwright.engine import StepContext
from syncwright.errors import BusinessRuleError, UncertainOutcomeError
from syncwright.runtime import Runtime
from syncwright.sandbox import FaultInjector, FaultPlan
from syncwright.sandbox.chargebee import ChargebeeState
from tests.connectors.chargebee._support import (
    CONNECTION,
    PRO_PRICE,
    RuntimeFactory,
    account,
    subscription,
)
from tests.contract.conftest import step_context


def _ctx(runtime: Runtime, timeout: float = 5.0) -> StepContext:
    return step_context(runtime, "chargebee.step", timeout_seconds=timeout)


def _run(runtime: Runtime, action: str, *args: Any, ctx: StepContext | None = None) -> Any:
    step = runtime.connection(CONNECTION).action(action)
    return step.run(ctx or _ctx(runtime), CONNECTION, *args)


@pytest.fixture
def billing(make_runtime: RuntimeFactory, cb_sdk: chargebee.Chargebee) -> Runtime:
    return make_runtime(
        options={"default_subsidiary": "US-1", "item_prices": {"price_gid_pro": PRO_PRICE}}
    )


def test_customer_is_created_once_and_read_back(billing: Runtime, cb_state: ChargebeeState) -> None:
    first = _run(billing, "create_customer", account("acct_a"))
    again = _run(billing, "create_customer", account("acct_a"))
    assert first["created"] is True and again["created"] is False
    assert again["native_id"] == first["native_id"]
    held = cb_state.customers[first["native_id"]]
    assert held["company"] == "Acme Corp" and held["meta_data"]["syncwright_id"] == "acct_a"
    assert held["billing_address"]["state_code"] == "IL"
    read = _run(billing, "read_account", "acct_a")
    assert read["global_id"] == "acct_a" and read["bill_to"]["region"] == "IL"
    assert read["subsidiary"] == "US-1" and read["billing_email"] == "ap@acme.test"


def test_a_lost_answer_is_found_by_the_probe(
    billing: Runtime, cb_faults: FaultInjector, cb_state: ChargebeeState
) -> None:
    cb_faults.configure(FaultPlan(lost_response_rate=1.0, stall_seconds=3.0))
    try:
        with pytest.raises(UncertainOutcomeError):
            _run(billing, "create_customer", account("acct_lost"), ctx=_ctx(billing, timeout=1))
    finally:
        cb_faults.configure(FaultPlan())
    assert billing.xref.native_id_for("account", "acct_lost", CONNECTION) is None
    deadline = time.monotonic() + 30  # the write lands even if the client gave up first
    while not any(
        c["meta_data"].get("syncwright_id") == "acct_lost"
        for c in list(cb_state.customers.values())
    ):
        assert time.monotonic() < deadline, "the lost write never landed"
        time.sleep(0.05)
    probe = billing.connection(CONNECTION).action("create_customer").probe
    assert probe is not None
    found = probe(_ctx(billing), CONNECTION, account("acct_lost"))
    assert found is not None and found["native_id"] in cb_state.customers
    assert billing.xref.native_id_for("account", "acct_lost", CONNECTION) == found["native_id"]
    assert (
        sum(
            1
            for c in cb_state.customers.values()
            if c["meta_data"].get("syncwright_id") == "acct_lost"
        )
        == 1
    )


def test_subscription_on_item_prices_with_a_negotiated_price_and_compensation(
    billing: Runtime, cb_state: ChargebeeState
) -> None:
    _run(billing, "create_customer", account("acct_s"))
    sub = subscription("sub_s", "acct_s", quantity=3, unit=2500)  # 25.00 instead of 30.00
    made = _run(billing, "create_subscription", sub)
    held = cb_state.subscriptions[made["native_id"]]
    assert [
        (i["item_price_id"], i["quantity"], i["unit_price"]) for i in held["subscription_items"]
    ] == [(PRO_PRICE, 3, 2500)]
    assert made["items"] == {"sub_s_item_0": f"{made['native_id']}:{PRO_PRICE}"}
    assert cb_state.invoices[made["latest_invoice"]]["total"] == 7500
    assert _run(billing, "create_subscription", sub)["created"] is False
    action = billing.connection(CONNECTION).action("create_subscription")
    assert action.compensate is not None
    action.compensate(_ctx(billing), made, CONNECTION, sub)
    assert cb_state.subscriptions[made["native_id"]]["status"] == "cancelled"
    action.compensate(_ctx(billing), made, CONNECTION, sub)  # already cancelled: nothing to do


def test_unplaceable_prices_park_with_remediation(
    billing: Runtime, make_runtime: RuntimeFactory, cb_sdk: chargebee.Chargebee
) -> None:
    _run(billing, "create_customer", account("acct_p"))
    unmapped = subscription("sub_p", "acct_p")
    unmapped["items"][0]["price_id"] = "price_gid_unknown"
    with pytest.raises(BusinessRuleError) as raised:
        _run(billing, "create_subscription", unmapped)
    assert raised.value.code == "chargebee.unmapped_price"
    assert "options.item_prices" in raised.value.remediation
    yearly = subscription("sub_y", "acct_p")
    yearly["billing_frequency"] = "annual"
    with pytest.raises(BusinessRuleError) as mismatch:
        _run(billing, "create_subscription", yearly)
    assert mismatch.value.code == "chargebee.price_mismatch"
    other = make_runtime(options={"item_prices": {"price_gid_pro": "no-such-price"}})
    _run(other, "create_customer", account("acct_p"))
    with pytest.raises(BusinessRuleError) as missing:
        _run(other, "create_subscription", subscription("sub_m", "acct_p"))
    assert missing.value.code == "chargebee.price_missing"

"""The Business Central connector's writes against the emulator: idempotent retries, posting
only when Business Central's totals are ours, parked business errors with remediation, 429
with Retry-After, a token renewed after a 401, and the checks' answers."""

from __future__ import annotations

from typing import Any

import pytest

from syncwright.errors import BusinessRuleError, DependencyMissingError, TransientError
from tests.connectors.business_central.conftest import BcWorld

LINES = [("price_std", 3, 1234)]  # 37.02 GBP + 20 % UK VAT = 44.42


def _rows(bc_world: BcWorld, entity_set: str) -> list[dict[str, Any]]:
    sandbox = bc_world.emulator.sandbox
    return sandbox.state.rows(sandbox.company_id, entity_set)


def _run(bc_world: BcWorld, action: str, *args: object) -> dict[str, Any]:
    connector = bc_world.connector
    result: dict[str, Any] = connector.action(action).run(
        bc_world.ctx(action), connector.name, *args
    )
    return result


def test_retries_write_nothing_twice(bc_world: BcWorld) -> None:
    account = bc_world.account("acct_r")
    first = _run(bc_world, "upsert_account", account)
    again = _run(bc_world, "upsert_account", account)
    assert first["native_id"] == again["native_id"]
    customers = [c for c in _rows(bc_world, "customers") if c["number"] == "ACCT_R"]
    assert len(customers) == 1 and customers[0]["taxLiable"] is True  # UK-STD tax area
    invoice = bc_world.invoice("inv_r", "acct_r", LINES, tax_minor=740)
    one = _run(bc_world, "upsert_invoice", invoice)
    two = _run(bc_world, "upsert_invoice", invoice)
    assert one["native_id"] == two["native_id"] and one["status"] == "Open"
    [posted] = [
        i for i in _rows(bc_world, "salesInvoices") if i["externalDocumentNumber"] == "INV_R"
    ]
    assert posted["totalAmountIncludingTax"] == 44.42 and posted["remainingAmount"] == 44.42
    payment = bc_world.payment("pay_r", "acct_r", 4442, "inv_r")
    _run(bc_world, "apply_payment", payment)
    _run(bc_world, "apply_payment", payment)
    # one journal line, posted: it left the journal and paid the invoice
    assert _rows(bc_world, "customerPayments") == []
    assert [p["amount"] for p in _rows(bc_world, "_postedPayments")] == [44.42]
    [paid] = [i for i in _rows(bc_world, "salesInvoices") if i["externalDocumentNumber"] == "INV_R"]
    assert paid["status"] == "Paid" and paid["remainingAmount"] == 0
    # the sales order's lines are replaced, not appended, when the subscription changes
    subscription = bc_world.subscription("sub_r", "acct_r", LINES)
    _run(bc_world, "upsert_sales_order", subscription)
    changed = bc_world.subscription("sub_r", "acct_r", [("price_pro", 2, 5000)])
    _run(bc_world, "upsert_sales_order", changed)
    [order] = _rows(bc_world, "salesOrders")
    assert order["totalAmountExcludingTax"] == 100


def test_tax_mismatch_parks_and_leaves_an_unposted_draft(bc_world: BcWorld) -> None:
    _run(bc_world, "upsert_account", bc_world.account("acct_t"))
    wrong = bc_world.invoice("inv_t", "acct_t", LINES, tax_minor=0)  # billing charged no tax
    with pytest.raises(BusinessRuleError) as parked:
        _run(bc_world, "upsert_invoice", wrong)
    assert parked.value.code == "business_central.total_mismatch"
    assert "tax area" in (parked.value.remediation or "")
    [draft] = _rows(bc_world, "salesInvoices")
    assert draft["status"] == "Draft"
    # once billing's figure is right, the retry corrects the draft and posts it
    result = _run(
        bc_world, "upsert_invoice", bc_world.invoice("inv_t", "acct_t", LINES, tax_minor=740)
    )
    assert result["status"] == "Open" and len(_rows(bc_world, "salesInvoices")) == 1


def test_missing_customer_waits_and_unmapped_item_parks(bc_world: BcWorld) -> None:
    with pytest.raises(DependencyMissingError) as waiting:
        _run(bc_world, "upsert_sales_order", bc_world.subscription("sub_x", "acct_x", LINES))
    assert waiting.value.code == "business_central.customer_not_synced"
    _run(bc_world, "upsert_account", bc_world.account("acct_x"))
    with pytest.raises(BusinessRuleError) as parked:
        _run(
            bc_world,
            "upsert_sales_order",
            bc_world.subscription("sub_x", "acct_x", [("price_unknown", 1, 100)]),
        )
    assert parked.value.code == "business_central.unmapped_item"
    assert "options.items" in (parked.value.remediation or "")


def test_429_is_transient_with_retry_after_and_401_renews_the_token(bc_world: BcWorld) -> None:
    client = bc_world.connector.client
    sandbox = bc_world.emulator.sandbox
    client.get("customers", _rows(bc_world, "customers")[0]["id"])  # a token is held
    sandbox.limiter.force(1, 7)
    with pytest.raises(TransientError) as throttled:
        client.companies()
    assert throttled.value.code == "business_central.Application_TooManyRequests"
    assert throttled.value.retry_after == 7
    issued = sandbox.tokens.issued
    sandbox.tokens.expire_all()
    assert client.companies()[0]["name"] == "CRONUS UK Ltd."  # 401, new token, same request
    assert sandbox.tokens.issued == issued + 1


def test_checks_answer_with_reasons(bc_world: BcWorld) -> None:
    account = bc_world.account("acct_c")
    subject = {"account": account, "deal": None}
    assert _run(bc_world, "check_customer", subject)["ok"] is False  # not synced yet
    assert _run(bc_world, "check_credit", subject)["ok"] is True  # new customer: a note
    _run(bc_world, "upsert_account", account)
    [customer] = [c for c in _rows(bc_world, "customers") if c["number"] == "ACCT_C"]
    bc_world.connector.client.update("customers", customer, {"creditLimit": 10, "blocked": "All"})
    sandbox = bc_world.emulator.sandbox
    sandbox.state.company(sandbox.company_id).table("customers")[customer["id"]]["balanceDue"] = 8
    deal = {
        "global_id": "deal_c",
        "account_id": "acct_c",
        "name": "Deal",
        "stage": "open",
        "currency": "GBP",
        "lines": [
            {
                "global_id": "l1",
                "product_id": "prod_old",
                "price_id": "price_old",
                "quantity": 1,
                "unit_amount": {"amount_minor": 500, "currency": "GBP"},
            },
        ],
    }
    subject = {"account": account, "deal": deal}
    blocked = _run(bc_world, "check_customer", subject)
    assert blocked["ok"] is False and "blocked" in blocked["reasons"][0]
    over = _run(bc_world, "check_credit", subject)
    assert over["ok"] is False and "credit limit" in over["reasons"][0]
    products = _run(bc_world, "check_products", subject)
    assert (
        products["ok"] is False and "no Business Central item is mapped" in products["reasons"][0]
    )
    assert _run(bc_world, "check_tax", subject)["ok"] is True

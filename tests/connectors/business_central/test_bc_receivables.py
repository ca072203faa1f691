"""Business Central as an ERP for the lifecycle: a failed collection blocks the customer
(``options.dunning_block``) and a posted payment that clears what it owes lifts the block,
never one finance set; and the facts Business Central owns (credit status, payment terms, tax
registration, legal name), changed there, come out of the customers poll as
``account.erp_changed`` with only what differs."""

from __future__ import annotations

from typing import Any

from syncwright.connectors.business_central.connector import BusinessCentralConnector
from syncwright.model.event_data import AccountErpChangedV1
from tests.connectors._state import set_account_state
from tests.connectors.business_central.conftest import CONNECTION, BcWorld
from tests.contract.conftest import delivery

LINES = [("price_std", 3, 1234)]  # 37.02 GBP + 20 % UK VAT = 44.42


def _run(bc_world: BcWorld, action: str, *args: object) -> dict[str, Any]:
    """Run an action as a workflow step does, remembering what it wrote as the engine's
    step hook does (``runtime_hooks``), so echo and block ownership work as in a workflow."""
    connector = bc_world.connector
    result: dict[str, Any] = connector.action(action).run(
        bc_world.ctx(action), connector.name, *args
    )
    ledger = result["ledger"]
    if ledger.get("fields"):
        bc_world.runtime.policy_store.remember_writes(
            CONNECTION, ledger["entity_type"], ledger["global_id"], ledger["fields"]
        )
    return result


def _customer(bc_world: BcWorld, account_id: str) -> dict[str, Any]:
    client = bc_world.connector.client
    found = client.find("customers", "number", account_id.upper())
    assert found is not None
    return found


def _invoice_status(bc_world: BcWorld, number: str) -> tuple[str, float]:
    invoice = bc_world.connector.client.find("salesInvoices", "externalDocumentNumber", number)
    assert invoice is not None
    return invoice["status"], invoice["remainingAmount"]


def test_dunning_blocks_until_paid_and_never_lifts_a_block_finance_set(bc_world: BcWorld) -> None:
    client = bc_world.connector.client
    for gid in ("acct_d", "acct_f"):
        _run(bc_world, "upsert_account", bc_world.account(gid))
        _run(bc_world, "upsert_invoice", bc_world.invoice(f"inv_{gid}", gid, LINES, tax_minor=740))
    # acct_f: finance blocked it before any collection failed
    client.update("customers", _customer(bc_world, "acct_f"), {"blocked": "Ship"})
    for gid in ("acct_d", "acct_f"):
        invoice = bc_world.invoice(f"inv_{gid}", gid, LINES, tax_minor=740)
        marked = _run(bc_world, "mark_dunning", invoice, 1, "card_declined")
        assert marked["blocked"] == "Ship"
        assert _run(bc_world, "mark_dunning", invoice, 2, "card_declined")["blocked"] == "Ship"
    probe = bc_world.connector.action("mark_dunning").probe
    assert probe is not None
    invoice_d = bc_world.invoice("inv_acct_d", "acct_d", LINES, tax_minor=740)
    assert probe(bc_world.ctx("probe"), CONNECTION, invoice_d, 1, None) is not None
    for gid in ("acct_d", "acct_f"):
        _run(bc_world, "apply_payment", bc_world.payment(f"pay_{gid}", gid, 4442, f"inv_{gid}"))
        assert _invoice_status(bc_world, f"INV_{gid.upper()}") == ("Paid", 0)
    assert _customer(bc_world, "acct_d")["blocked"] == " "  # ours, and nothing is owed
    assert _customer(bc_world, "acct_f")["blocked"] == "Ship"  # finance's: stays
    # A retry after a lost answer: the payment's line left the journal when it was posted;
    # it is found posted (also by the probe) and not written again.
    payment = bc_world.payment("pay_acct_d", "acct_d", 4442, "inv_acct_d")
    again = _run(bc_world, "apply_payment", payment)
    assert again["posted"] is True
    apply_probe = bc_world.connector.action("apply_payment").probe
    assert apply_probe is not None
    assert apply_probe(bc_world.ctx("probe"), CONNECTION, payment) is not None
    sandbox = bc_world.emulator.sandbox
    posted = sandbox.state.rows(sandbox.company_id, "_postedPayments")
    assert sorted(p["amount"] for p in posted) == [44.42, 44.42]  # one each for acct_d, acct_f


def test_a_partial_payment_keeps_the_block(bc_world: BcWorld) -> None:
    _run(bc_world, "upsert_account", bc_world.account("acct_p"))
    invoice = bc_world.invoice("inv_p", "acct_p", LINES, tax_minor=740)
    _run(bc_world, "upsert_invoice", invoice)
    _run(bc_world, "mark_dunning", invoice, 1, None)
    _run(bc_world, "apply_payment", bc_world.payment("pay_p", "acct_p", 2000, "inv_p"))
    assert _invoice_status(bc_world, "INV_P") == ("Open", 24.42)
    assert _customer(bc_world, "acct_p")["blocked"] == "Ship"


def _erp_changes(connector: BusinessCentralConnector, cursor: str | None) -> tuple[list[Any], Any]:
    batch = connector.poll("customers", cursor)
    events = []
    for polled in batch.events:
        body = polled.body.encode()
        found = delivery(CONNECTION, polled.vendor_event_id, polled.event_type, body)
        events += [
            e for e in connector.normalize(found) if e.type == "syncwright.account.erp_changed.v1"
        ]
    return events, batch.cursor


def test_facts_changed_in_business_central_come_out_as_erp_changed(bc_world: BcWorld) -> None:
    account = bc_world.account("acct_e")
    set_account_state(bc_world.runtime, account)  # as the CRM's events left it
    _run(bc_world, "upsert_account", account)
    connector = bc_world.connector
    events, cursor = _erp_changes(connector, None)
    assert events == []  # our own write reports nothing the account does not hold
    terms = connector.client.find("paymentTerms", "code", "NET60")
    assert terms is not None
    connector.client.update(
        "customers",
        _customer(bc_world, "acct_e"),
        {
            "displayName": "Client E Holdings plc",
            "taxRegistrationNumber": "GB999999973",
            "paymentTermsId": terms["id"],
            "blocked": "Invoice",
        },
    )
    [event], _ = _erp_changes(connector, cursor)
    data = event.data
    assert isinstance(data, AccountErpChangedV1)
    assert set(data.changed_fields) == {"legal_name", "tax_ids", "credit_status", "payment_terms"}
    assert data.account.global_id == "acct_e" and data.account.legal_name == "Client E Holdings plc"
    assert data.account.credit_status == "hold" and data.account.payment_terms == "Net 60 days"
    assert [t.value for t in data.account.tax_ids] == ["GB999999973"]
    assert data.account.name == "Client acct_e"  # the CRM's name is not the ERP's to change

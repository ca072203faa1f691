"""The customer's life after onboarding, over the four emulators with faults injected in
Salesforce and NetSuite: an upgrade and a downgrade with proration, a cancellation at period
end and an immediate one with a credit note, a failed then recovered payment under
``lifecycle.dunning: suspend``, and the term's roll-over. Every check reads the emulators' own
records (Stripe's API, Salesforce's sObjects, Zendesk's organizations, NetSuite's SuiteQL)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import stripe as stripe_sdk

from syncwright.demo.quote_to_cash import (
    ZENDESK_EMAIL,
    QuoteToCashWorld,
    close_deals,
    wait_onboarded,
)
from syncwright.sandbox import FaultPlan
from syncwright.sandbox.stripe._billing import sub_period
from syncwright.sandbox.stripe._clock import run_due
from tests._support import wait_until
from tests.e2e import _lifecycle as lc


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QuoteToCashWorld]:
    with lc.lifecycle_world(
        tmp_path_factory.mktemp("lifecycle"),
        salesforce_faults=FaultPlan(error_5xx_rate=0.05, seed=5),
        netsuite_faults=FaultPlan(error_5xx_rate=0.03, lost_response_rate=0.02, seed=8),
        before_start=_zendesk_webhook,
    ) as started:
        yield started


def _zendesk(world: QuoteToCashWorld, method: str, path: str, body: Any = None) -> Any:
    response = httpx.request(
        method,
        f"{world.zd_server.url}/api/v2{path}",
        json=body,
        auth=(f"{ZENDESK_EMAIL}/token", world.zd_token),
        timeout=30,
        trust_env=False,
    )
    response.raise_for_status()
    return response.json()


def _zendesk_webhook(world: QuoteToCashWorld) -> None:
    """Ticket events to syncwright's intake, signed with a secret the connection knows."""
    secret = "zd-webhook-" + world.zd_token
    (world.billing.workdir / "secrets" / "zd_webhook").write_text(secret)
    port = world.billing.api_port
    hook = {
        "name": "syncwright",
        "endpoint": f"http://127.0.0.1:{port}/hooks/zendesk",
        "http_method": "POST",
        "request_format": "json",
        "status": "active",
        "subscriptions": ["zen:event-type:ticket.*"],
        "signing_secret": {"algorithm": "sha256", "secret": secret},
    }
    _zendesk(world, "POST", "/webhooks", {"webhook": hook})
    world.billing.settings_args["extra_connections"] += (
        '    webhook: {secrets: ["file:secrets/zd_webhook"]}\n'
    )


def _tasks(world: QuoteToCashWorld, account: str) -> list[dict[str, Any]]:
    """The account's Tasks, read with SOQL as any Salesforce user's tool does."""
    soql = f"SELECT Id, Subject, Status, Priority FROM Task WHERE WhatId = '{account}'"
    with lc.quiet(world):
        response = httpx.get(
            f"{world.sf_server.url}/services/data/v59.0/query",
            params={"q": soql},
            headers={"Authorization": f"Bearer {world.sf_state.issue_token()}"},
            verify=ssl.create_default_context(cafile=world.certfile),
            timeout=30,
            trust_env=False,
        )
    response.raise_for_status()
    records: list[dict[str, Any]] = response.json()["records"]
    return records


def test_lifecycle_after_onboarding_reaches_every_system(world: QuoteToCashWorld) -> None:
    runtime = world.billing.runtime
    assert runtime is not None
    stripe = world.billing.stripe.v1
    deals = close_deals(world, 4, seed=31)
    wait_onboarded(world, deals, timeout=lc.SETTLE)
    lc.settle(world)
    upgrade, downgrade, at_end, now = deals
    ids = {deal.opportunity: lc.ids(world, deal) for deal in deals}
    for deal in deals:
        account_id = ids[deal.opportunity][0]
        assert lc.tier(world, account_id) == "premium"
        crm = lc.crm(world, deal)
        assert crm["Account_Standing__c"] == "Current"  # the first invoice is open, not failed
        customer = stripe.subscriptions.retrieve(ids[deal.opportunity][2]).customer
        assert lc.money(crm["Balance_Due__c"]) == lc.balance(world, str(customer))

    # Upgrade: ten more seats, invoiced now with Stripe's proration.
    sub_id = ids[upgrade.opportunity][2]
    seats = lc.item(stripe.subscriptions.retrieve(sub_id), world, "Seats")
    stripe.subscriptions.update(
        sub_id,
        {
            "items": [{"id": seats["id"], "quantity": upgrade.seats + 10}],
            "proration_behavior": "always_invoice",
        },
    )
    # Downgrade: the Platform product (the premium tier) is dropped, prorated to the next bill.
    down_id = ids[downgrade.opportunity][2]
    platform = lc.item(stripe.subscriptions.retrieve(down_id), world, "Platform")
    stripe.subscriptions.update(
        down_id,
        {
            "items": [{"id": platform["id"], "deleted": True}],
            "proration_behavior": "create_prorations",
        },
    )
    # Cancellation requested for the end of the period; another customer leaves now and is
    # credited its open first invoice.
    at_end_id = ids[at_end.opportunity][2]
    stripe.subscriptions.update(at_end_id, {"cancel_at_period_end": True})
    now_id = ids[now.opportunity][2]
    stripe.subscriptions.cancel(now_id)
    first_invoice = stripe.invoices.list({"subscription": now_id}).data[-1]
    note = stripe.credit_notes.create(
        {"invoice": first_invoice.id, "amount": first_invoice.amount_remaining // 2}
    )
    lc.settle(world)

    # The upgrade: one correlation id across the ERP order, the CRM and the support desk.
    up_account, up_subscription, _ = ids[upgrade.opportunity]
    amend = [
        e
        for e in runtime.ledger.for_entity(f"account:{up_account}")
        if e.workflow == "subscription.amend_downstream"
    ]
    assert amend
    fanout = runtime.ledger.for_correlation(amend[0].correlation_id)
    assert {"subscription.amend_in_erp", "subscription.amend_downstream"} <= {
        e.workflow for e in fanout
    }
    assert {"netsuite", "salesforce", "zendesk"} <= {
        e.connection for e in fanout if e.outcome == "ok"
    }
    crm = lc.crm(world, upgrade)
    assert lc.money(crm["ACV__c"]) == lc.acv(upgrade.seats + 10)
    assert f"x{upgrade.seats + 10}" in crm["Product_Summary__c"]
    assert lc.money(crm["Renewal_Amount__c"]) == lc.acv(upgrade.seats + 10)
    assert lc.open_quantities(world, up_subscription) == sorted([1, upgrade.seats + 10])
    proration = stripe.invoices.retrieve(
        stripe.subscriptions.retrieve(sub_id).latest_invoice  # type: ignore[arg-type]
    )
    # Stripe computed the proration (a credit for the old quantity, a charge for the new).
    assert any(lc.prorated(line) for line in proration.to_dict()["lines"]["data"])
    assert lc.erp_total(world, proration.id, "invoice") == Decimal(proration.total) / 100
    assert lc.tier(world, up_account) == "premium"

    # The downgrade: the CRM's contract, the ERP order's lines, the support tier follow.
    down_account, down_subscription, _ = ids[downgrade.opportunity]
    crm = lc.crm(world, downgrade)
    assert lc.money(crm["ACV__c"]) == lc.acv(downgrade.seats, platform=False)
    assert "x1;" not in crm["Product_Summary__c"]
    assert lc.open_quantities(world, down_subscription) == [downgrade.seats]
    assert lc.tier(world, down_account) == "standard"

    # Cancellation at period end: shown in the CRM, service (and support) goes on until then.
    end_account, end_subscription, _ = ids[at_end.opportunity]
    crm = lc.crm(world, at_end)
    assert crm["Subscription_Status__c"] == "Active" and crm["Renewal_Date__c"] is None
    assert crm["Cancel_Date__c"] is not None
    assert lc.tier(world, end_account) == "premium"
    assert all(line["isclosed"] != "T" for line in lc.order_lines(world, end_subscription))

    # Immediate cancellation: CRM, support and the ERP order at once; the credit note is an
    # ERP credit memo and lowers the CRM's balance due.
    now_account, now_subscription, _ = ids[now.opportunity]
    crm = lc.crm(world, now)
    assert crm["Subscription_Status__c"] == "Cancelled" and lc.money(crm["ACV__c"]) == 0
    assert lc.tier(world, now_account) == "none"
    assert all(line["isclosed"] == "T" for line in lc.order_lines(world, now_subscription))
    assert lc.erp_total(world, note.id, "creditmemo") == Decimal(note.total) / 100
    customer = str(stripe.subscriptions.retrieve(now_id).customer)
    assert lc.money(crm["Balance_Due__c"]) == lc.balance(world, customer)

    # A failed payment of the upgrade's prorated invoice: dunning in the CRM, support
    # suspended (the policy); then paid: standing and tier restored.
    up_customer = str(stripe.subscriptions.retrieve(sub_id).customer)
    world.billing.stripe_state.set_payment_behaviour(up_customer, "fail")
    with pytest.raises(stripe_sdk.CardError):
        stripe.invoices.pay(proration.id)
    lc.settle(world)
    crm = lc.crm(world, upgrade)
    assert crm["Account_Standing__c"] == "Suspended"
    assert lc.money(crm["Balance_Due__c"]) == lc.balance(world, up_customer)
    assert lc.tier(world, up_account) == "none"
    assert lc.tier(world, down_account) == "standard"  # only the account in dunning
    # A seat added while in dunning: the contract follows, the entitlement stays suspended.
    seats = lc.item(stripe.subscriptions.retrieve(sub_id), world, "Seats")
    stripe.subscriptions.update(
        sub_id,
        {
            "items": [{"id": seats["id"], "quantity": upgrade.seats + 11}],
            "proration_behavior": "none",
        },
    )
    lc.settle(world)
    assert lc.money(lc.crm(world, upgrade)["ACV__c"]) == lc.acv(upgrade.seats + 11)
    assert lc.tier(world, up_account) == "none"
    world.billing.stripe_state.set_payment_behaviour(up_customer, "succeed")
    stripe.invoices.pay(proration.id)
    lc.settle(world)
    crm = lc.crm(world, upgrade)
    assert crm["Account_Standing__c"] == "Current"
    assert lc.money(crm["Last_Payment_Amount__c"]) == Decimal(proration.total) / 100
    assert crm["Last_Payment_Date__c"] is not None
    assert lc.tier(world, up_account) == "premium"

    # The period ends: the cancelling subscription ends (entitlement withdrawn only now, ERP
    # order closed); the others renew (new renewal date in the CRM, ERP order's new term).
    stripe_state = world.billing.stripe_state
    with stripe_state.lock:
        _start, end = sub_period(stripe_state, stripe_state.objects["subscription"][at_end_id])
        run_due(stripe_state, None, end + 1)
    lc.settle(world)
    crm = lc.crm(world, at_end)
    assert crm["Subscription_Status__c"] == "Cancelled" and lc.money(crm["ACV__c"]) == 0
    assert lc.tier(world, end_account) == "none"
    assert all(line["isclosed"] == "T" for line in lc.order_lines(world, end_subscription))
    renewed = stripe.subscriptions.retrieve(sub_id)
    renewal = str(lc.period_end(renewed))
    crm = lc.crm(world, upgrade)
    assert crm["Renewal_Date__c"] == renewal
    assert crm["Subscription_Status__c"] == "Active"
    assert lc.tier(world, up_account) == "premium"
    assert lc.open_quantities(world, up_subscription) == sorted([1, upgrade.seats + 11])
    with lc.quiet(world), world.billing.netsuite_client() as netsuite:
        [order] = [
            r
            for r in netsuite.suiteql("SELECT externalid, recordtype, enddate FROM transaction")
            if r["recordtype"] == "salesorder" and r.get("externalid") == up_subscription
        ]
    assert order["enddate"] is not None


def test_support_case_needing_a_commercial_decision_reaches_the_crm_account(
    world: QuoteToCashWorld,
) -> None:
    runtime = world.billing.runtime
    assert runtime is not None
    [deal] = close_deals(world, 1, seed=47, start=20)
    wait_onboarded(world, [deal], timeout=lc.SETTLE)
    lc.settle(world)
    account_id = lc.ids(world, deal)[0]
    org = next(o for o in world.zendesk_orgs() if o.get("external_id") == account_id)

    def case_events() -> int:
        return sum(
            1
            for e in runtime.ledger.for_entity(f"account:{account_id}")
            if e.step == "salesforce.escalate_case" and e.outcome == "ok"
        )

    # A ticket without a commercial question: a canonical case, no task in the CRM.
    created = _zendesk(
        world,
        "POST",
        "/tickets.json",
        {
            "ticket": {
                "subject": "Credit for the outage",
                "comment": {"body": "We were down for a day."},
                "requester": {"name": "Ana", "email": "ana@example.com"},
                "organization_id": org["id"],
                "priority": "high",
            }
        },
    )
    ticket = created["ticket"]["id"]
    wait_until(
        lambda: runtime.xref.global_id_for("case", "zendesk", str(ticket)) is not None,
        timeout=lc.SETTLE,
        what="the ticket as a canonical case",
    )
    lc.settle(world)
    assert _tasks(world, deal.account) == []

    # The agent tags it for a credit decision: one open Task on the account.
    path = f"/tickets/{ticket}.json"
    _zendesk(world, "PUT", path, {"ticket": {"additional_tags": ["credit_request"]}})
    wait_until(lambda: len(_tasks(world, deal.account)) == 1, timeout=lc.SETTLE, what="the Task")
    [task] = _tasks(world, deal.account)
    assert task["Subject"] == "Credit request: Credit for the outage"
    assert (task["Status"], task["Priority"]) == ("Not Started", "High")

    # Later changes to the ticket neither duplicate nor reopen it.
    world.sdk().update("Task", task["Id"], {"Status": "Completed"})
    before = case_events()
    _zendesk(world, "PUT", path, {"ticket": {"status": "pending", "additional_tags": ["vip"]}})
    wait_until(lambda: case_events() > before, timeout=lc.SETTLE, what="the ticket's update")
    lc.settle(world)
    [again] = _tasks(world, deal.account)
    assert again["Id"] == task["Id"] and again["Status"] == "Completed"

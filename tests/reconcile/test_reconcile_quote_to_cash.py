"""Reconciliation of the systems quote-to-cash writes beside the ERP: the support desk's tier
against the plan billed in Stripe, and the CRM account's invoice standing against Stripe's
latest invoice. The quote-to-cash world (Salesforce, NetSuite, Stripe, Zendesk emulators)
onboards deals; an entitlement removed in Zendesk and a standing changed by hand in
Salesforce are found, healed through the normal pipeline, and gone on the next run. (ERP
invoices deleted or changed and a subscription cancelled without its webhook:
test_reconcile_billing.py.)"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from syncwright.demo.quote_to_cash import (
    ZENDESK_EMAIL,
    Deal,
    QuoteToCashWorld,
    close_deals,
    start_quote_to_cash_world,
    wait_onboarded,
)
from syncwright.reconcile import Reconciler

RULES = """
reconciliation:
  - {name: tiers, check: entitlements, schedule: 1h, compare: [stripe, zendesk], heal: true}
  - name: standing
    check: crm_standing
    schedule: 1h
    compare: [stripe, salesforce]
    heal: true
    fields: [last_invoice_number, last_invoice_status]
"""


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[QuoteToCashWorld, list[Deal]]]:
    started = start_quote_to_cash_world(tmp_path_factory.mktemp("q2c-reconcile"))
    started.billing.settings_args["extra_sections"] = RULES
    try:
        started.billing.start_syncwright()
        deals = close_deals(started, 3)
        wait_onboarded(started, deals)
        yield started, deals
    finally:
        started.close()


def _org(world: QuoteToCashWorld, account_id: str) -> dict[str, object]:
    (org,) = [o for o in world.zendesk_orgs() if o.get("external_id") == account_id]
    return org


def test_entitlement_and_standing_drift_is_found_healed_and_gone(
    world: tuple[QuoteToCashWorld, list[Deal]],
) -> None:
    q2c, deals = world
    runtime = q2c.billing.runtime
    assert runtime is not None
    reconciler = Reconciler(runtime)
    # A clean onboarding reconciles clean, with the latest invoices' totals per currency.
    tiers = reconciler.run("tiers")
    standing = reconciler.run("standing")
    assert tiers is not None and standing is not None
    assert tiers.report["counts"] == {
        "source": 3, "target": 3, "drift": 0, "missing": 0, "extra": 0, "different": 0,
        "healed": 0,
    }  # fmt: skip
    assert standing.report["counts"]["drift"] == 0 and standing.report["counts"]["source"] == 3
    (total,) = standing.report["totals"]
    assert total["currency"] == "USD" and total["source_count"] == 3

    accounts = [runtime.xref.global_id_for("account", "salesforce", d.account) for d in deals]
    removed, changed = accounts[0], deals[1]
    assert removed is not None
    # 1. An agent clears the account's support tier in Zendesk.
    org = _org(q2c, removed)
    cleared = httpx.put(
        f"{q2c.zd_server.url}/api/v2/organizations/{org['id']}.json",
        json={"organization": {"organization_fields": {"entitlement_tier": None}}},
        auth=(f"{ZENDESK_EMAIL}/token", q2c.zd_token),
        timeout=30,
        trust_env=False,
    )
    cleared.raise_for_status()
    # 2. A sales rep overwrites the invoice standing on another CRM account.
    sf = q2c.sdk()
    shown = sf.get("Account", changed.account)
    sf.update("Account", changed.account, {"Last_Invoice_Status__c": "Void"})

    tiers = reconciler.run("tiers")
    assert tiers is not None and tiers.status == "drift"
    (lost,) = tiers.report["drift"]
    assert lost["key"] == removed and lost["kind"] == "missing" and lost["healed"]
    standing = reconciler.run("standing")
    assert standing is not None and standing.status == "drift"
    (off,) = standing.report["drift"]
    changed_id = runtime.xref.global_id_for("account", "salesforce", changed.account)
    assert off["key"] == changed_id and off["kind"] == "different" and off["healed"]
    assert off["fields"] == [
        {
            "field": "last_invoice_status",
            "source": str(shown["Last_Invoice_Status__c"]).lower(),
            "target": "void",
        }
    ]

    q2c.billing.wait_settled(timeout=120)
    # Each system's own record is right again ...
    fields = _org(q2c, removed)["organization_fields"]
    assert isinstance(fields, dict) and fields["entitlement_tier"] == "premium"
    restored = sf.get("Account", changed.account)
    assert restored["Last_Invoice_Status__c"] == shown["Last_Invoice_Status__c"]
    # ... and the next runs find nothing.
    again = [reconciler.run("tiers"), reconciler.run("standing")]
    assert [r.report["counts"]["drift"] for r in again if r is not None] == [0, 0]

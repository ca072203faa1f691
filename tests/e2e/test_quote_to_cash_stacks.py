"""Quote-to-cash on three stacks -- the default (Salesforce, Stripe, NetSuite, Zendesk), the
second (HubSpot, Chargebee, Business Central, Freshdesk) and a mixed one (Salesforce,
Chargebee, Business Central, Zendesk) -- with faults injected into the ERP and the billing
system. The unchanged onboarding workflow takes each won deal to every system, and every system
agrees, read back from each emulator's own API (``check_deals``): one ERP customer and sales
order, one active subscription, status/ACV/ERP id/last invoice on the CRM account, the tier on
the support desk. A handful of deals per stack: the 200-deal run is ``test_quote_to_cash.py``."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from syncwright.demo.billing_side import ChargebeeBilling
from syncwright.demo.quote_to_cash import check_deals, close_deals, wait_onboarded
from syncwright.demo.quote_to_cash_demo import start_world_on
from syncwright.demo.stack import parse_stack
from syncwright.sandbox import FaultPlan
from syncwright.sandbox.hubspot import DEFAULT_ACCESS_TOKEN
from syncwright.sandbox.stripe import WebhookFaults

STACKS = {
    "default": "salesforce,stripe,netsuite,zendesk",
    "second": "hubspot,chargebee,business-central,freshdesk",
    "mixed": "salesforce,chargebee,business-central,zendesk",
}
DEALS = 3


@pytest.mark.parametrize("text", list(STACKS.values()), ids=list(STACKS))
def test_won_deals_reach_every_system_once_despite_faults(tmp_path: Path, text: str) -> None:
    stack = parse_stack(text)
    world = start_world_on(
        tmp_path / "q2c",
        stack,
        workers=8,
        # Seeded so that the fifth write draws a fault: every stack writes more than five.
        erp_faults=FaultPlan(
            error_5xx_rate=0.08, lost_response_rate=0.05, stall_seconds=2.0, seed=12
        ),
        billing_faults=FaultPlan(error_5xx_rate=0.08, seed=6),
    )
    try:
        world.billing.stripe_state.configure_webhooks(
            WebhookFaults(duplicate_rate=0.3, shuffle_window=4, seed=14)
        )
        if isinstance(world.billing_side, ChargebeeBilling):
            world.billing_side.state.webhooks.drop_next = 2  # polling its events API heals
        runtime = world.billing.start_syncwright()
        deals = close_deals(world, DEALS)
        wait_onboarded(world, deals, 240)

        assert runtime.exceptions.count_open() == 0, [
            (r.code, r.message) for r in runtime.exceptions.list(status="open")
        ]
        check = check_deals(world, deals)
        assert check.problems == [] and check.onboarded == DEALS and check.duplicates == 0
        # The faults really happened, on this stack's vendors.
        erp_faults = world.erp.faults_injected()
        assert erp_faults["error_5xx"] + erp_faults["lost_response"] > 0, erp_faults
        billed = world.billing_side.faults_injected()
        if stack.billing == "chargebee":
            assert billed["error_5xx"] > 0 and billed["dropped_webhooks"] == 2, billed
        else:
            assert billed["duplicate_webhooks"] > 0, billed
        # syncwright's config names only the stack's vendors.
        assert set(runtime.settings.connections) == {
            stack.crm,
            stack.billing,
            stack.erp,
            stack.support,
        }
        if stack.crm == "hubspot":
            # The lifecycle workflows' facts reach the company too (subscription -> products),
            # read from the billing system (Chargebee's read_subscription on the second stack).
            # The webhook-batch intake itself: test_quote_to_cash_hubspot.py.
            assert world.hs_server is not None
            for deal in deals:
                company = httpx.get(
                    f"{world.hs_server.url}/crm/v3/objects/companies/{deal.account}",
                    params={"properties": "syncwright_product_summary"},
                    headers={"Authorization": f"Bearer {DEFAULT_ACCESS_TOKEN}"},
                    timeout=30,
                    trust_env=False,
                ).json()["properties"]
                assert company["syncwright_product_summary"], company
    finally:
        world.close()

"""Quote-to-cash with HubSpot as the CRM, beyond the story the demo test runs on it
(tests/test_demo_and_api_surface.py, with faults): a deal moved to Closed Won in the HubSpot
emulator reaches syncwright as a signed webhook batch through the real intake (v3 signature),
and the unchanged onboarding workflow writes every system, read back from the emulators."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from syncwright.demo.quote_to_cash import (
    QuoteToCashWorld,
    check_deals,
    close_deals,
    start_quote_to_cash_world,
    wait_onboarded,
)
from syncwright.sandbox.hubspot import DEFAULT_ACCESS_TOKEN
from syncwright.store.tables import inbox


@pytest.fixture
def world(tmp_path: Path) -> Iterator[QuoteToCashWorld]:
    started = start_quote_to_cash_world(tmp_path / "q2c-hs", workers=8, crm="hubspot")
    try:
        yield started
    finally:
        started.close()


def test_a_hubspot_deal_is_onboarded_through_the_unchanged_workflow(
    world: QuoteToCashWorld,
) -> None:
    runtime = world.billing.start_syncwright()
    deals = close_deals(world, 1)
    wait_onboarded(world, deals, timeout=180)
    assert runtime.exceptions.count_open() == 0, [
        (r.code, r.message) for r in runtime.exceptions.list(status="open")
    ]

    # The won deal came in as a signed webhook batch through the intake.
    with runtime.db.engine.connect() as conn:
        rows = list(conn.execute(inbox.select().where(inbox.c.connection == "hubspot")))
    assert any(
        r.vendor_event_id.startswith("batch:")
        and any(e.get("propertyValue") == "closedwon" for e in json.loads(r.body))
        for r in rows
    )
    # Every system agrees, read from the emulators: NetSuite customer and one sales order,
    # one active Stripe subscription, status/ACV/ERP id/last invoice on the HubSpot company,
    # the Zendesk tier.
    check = check_deals(world, deals)
    assert check.problems == [] and check.onboarded == 1 and check.duplicates == 0
    # The lifecycle workflows' facts reach the company too (subscription created -> products).
    assert world.hs_server is not None
    company = httpx.get(
        f"{world.hs_server.url}/crm/v3/objects/companies/{deals[0].account}",
        params={"properties": "syncwright_product_summary"},
        headers={"Authorization": f"Bearer {DEFAULT_ACCESS_TOKEN}"},
        timeout=30,
        trust_env=False,
    ).json()["properties"]
    assert company["syncwright_product_summary"], company

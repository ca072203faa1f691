"""Freshdesk as the support desk of quote-to-cash (Salesforce, NetSuite, Stripe emulators):
the onboarding workflow, unchanged, puts each closed-won deal's entitlement on a Freshdesk
company (tier field, SLA policy), and a ticket opened in Freshdesk comes back in through the
poll stream as a canonical case, mapped without parking."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from syncwright.demo.freshdesk_support import FreshdeskDesk, add_webhook_rule, use_freshdesk
from syncwright.demo.quote_to_cash import (
    QuoteToCashWorld,
    close_deals,
    start_quote_to_cash_world,
    wait_onboarded,
)
from syncwright.store.tables import inbox


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[QuoteToCashWorld, FreshdeskDesk]]:
    started = start_quote_to_cash_world(tmp_path / "q2c-fd", workers=4)
    desk = use_freshdesk(started)
    try:
        yield started, desk
    finally:
        started.close()
        desk.server.stop()


def test_onboarding_writes_entitlements_to_freshdesk_and_tickets_come_back(
    world: tuple[QuoteToCashWorld, FreshdeskDesk],
) -> None:
    q2c, desk = world
    runtime = q2c.billing.start_syncwright()
    deals = close_deals(q2c, 2)
    wait_onboarded(q2c, deals)
    assert runtime.exceptions.list(status="open") == []
    companies = []
    for deal in deals:
        account_id = runtime.xref.global_id_for("account", "salesforce", deal.account)
        assert account_id is not None
        company = desk.company_of(account_id)
        assert company is not None, deal
        assert company["custom_fields"]["entitlement_tier"] == "premium"
        assert desk.sla_policy_of(company["id"]) == ["Premium 4h"]
        companies.append((account_id, company))

    # A customer opens a ticket in Freshdesk: the automation rule's webhook goes through the
    # intake, and the poll stream reads the same ticket version; both map, neither parks.
    add_webhook_rule(desk, f"http://127.0.0.1:{q2c.billing.api_port}/hooks/freshdesk")
    account_id, company = companies[0]
    with desk.api() as api:
        contact = api.post(
            "/contacts", json={"name": "Ann", "email": "ann@q2c.test", "company_id": company["id"]}
        ).json()
        ticket = api.post(
            "/tickets", json={"subject": "Cannot log in", "requester_id": contact["id"]}
        ).json()
    deadline = time.monotonic() + 60
    rows: list[Any] = []
    while time.monotonic() < deadline:
        with runtime.db.engine.connect() as conn:
            rows = list(
                conn.execute(
                    inbox.select().where(
                        inbox.c.connection == "freshdesk", inbox.c.status != "pending"
                    )
                )
            )
        if {row.origin for row in rows} == {"webhook", "poll"}:
            break
        time.sleep(0.2)
    assert sorted(row.origin for row in rows) == ["poll", "webhook"], rows
    for row in rows:
        assert row.status in ("dispatched", "skipped"), row.last_error
    (polled,) = [row for row in rows if row.origin == "poll"]
    assert polled.vendor_event_id.startswith(f"ticket:{ticket['id']}:")
    assert runtime.xref.global_id_for("account", "freshdesk", str(company["id"])) == account_id
    assert runtime.exceptions.list(status="open") == []

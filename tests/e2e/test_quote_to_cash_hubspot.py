"""Quote-to-cash with HubSpot as the CRM, beyond the story the demo test runs on it
(tests/test_demo_and_api_surface.py, with faults): a deal moved to Closed Won in the HubSpot
emulator reaches syncwright as a signed webhook batch through the real intake (v3 signature),
and the unchanged onboarding workflow writes every system, read back from the emulators."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import syncwright.connectors.hubspot
from syncwright.demo.quote_to_cash import (
    ZENDESK_EMAIL,
    QuoteToCashWorld,
    check_deals,
    close_deals,
    start_quote_to_cash_world,
    wait_onboarded,
)
from syncwright.demo.stack import Stack
from syncwright.engine import EngineClient
from syncwright.replay import plan_delivery, replay_delivery
from syncwright.runtime import Runtime
from syncwright.sandbox.hubspot import DEFAULT_ACCESS_TOKEN
from syncwright.store.tables import inbox, policy_decisions


@pytest.fixture
def world(tmp_path: Path) -> Iterator[QuoteToCashWorld]:
    started = start_quote_to_cash_world(tmp_path / "q2c-hs", workers=8, stack=Stack(crm="hubspot"))
    try:
        yield started
    finally:
        started.close()


def _company(world: QuoteToCashWorld, company_id: str, *props: str) -> dict[str, Any]:
    assert world.hs_server is not None
    found: dict[str, Any] = httpx.get(
        f"{world.hs_server.url}/crm/v3/objects/companies/{company_id}",
        params={"properties": ",".join(props)},
        headers={"Authorization": f"Bearer {DEFAULT_ACCESS_TOKEN}"},
        timeout=30,
        trust_env=False,
    ).json()["properties"]
    return found


def _outbound_v2(directory: Path) -> Path:
    """hubspot_outbound version 2: the ERP id written with a prefix."""
    shipped = Path(syncwright.connectors.hubspot.__file__).parent / "mappings" / "outbound.yaml"
    text = shipped.read_text().replace("version: 1\n", "version: 2\n", 1)
    text = text.replace(
        "syncwright_erp_id: {from: erp_id, transform: string}",
        "syncwright_erp_id: {from: erp_id, transform: "
        '[string, {name: format, args: {pattern: "ERP-{}"}}]}',
    )
    path = directory / "hubspot_outbound_v2.yaml"
    path.write_text(text)
    return path


def test_a_hubspot_deal_is_onboarded_through_the_unchanged_workflow(
    world: QuoteToCashWorld, tmp_path: Path
) -> None:
    v2 = _outbound_v2(tmp_path)
    world.billing.settings_args["extra_sections"] = (
        "mappings:\n"
        f"  - {{name: hubspot_outbound, connection: hubspot, version: 2, path: {v2}, "
        "replay_only: true}\n"
        # The CRM owns the billing contact: a billing contact's email reaches Stripe.
        "ownership:\n  account: {system: hubspot, fields: {billing_email: hubspot}}\n"
    )
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
    company = _company(world, deals[0].account, "syncwright_product_summary", "syncwright_erp_id")
    assert company["syncwright_product_summary"], company
    erp_id = company["syncwright_erp_id"]
    assert erp_id and not erp_id.startswith("ERP-")
    ledgered = {e.mapping_version for e in _billing_writes(runtime, None)}
    assert ledgered == {"hubspot_outbound@1"}

    # The write-back replayed under hubspot_outbound@2 (replay_only: live traffic keeps @1):
    # the won deal's delivery again, its onboarding run's HubSpot step writes what v2 says.
    won = next(
        r for r in rows if any(e.get("propertyValue") == "closedwon" for e in json.loads(r.body))
    )
    row = runtime.inbox.get(won.id)
    assert row is not None
    # The dry run names the write-back's version; the canonical events are as they were.
    dry = plan_delivery(
        runtime,
        EngineClient(runtime.db),
        row,
        mapping=runtime.mappings.version("hubspot_outbound@2"),
    )
    assert dry.mapping == "hubspot_outbound@2" and dry.error is None and not dry.changed
    replayed = replay_delivery(runtime, row, actor="test", mapping="hubspot_outbound@2")
    deadline = time.monotonic() + 120
    while _company(world, deals[0].account, "syncwright_erp_id")["syncwright_erp_id"] != (
        f"ERP-{erp_id}"
    ):
        assert time.monotonic() < deadline, runtime.exceptions.list(status="open")
        time.sleep(0.2)
    writes = _billing_writes(runtime, replayed.new_correlation_id)
    assert writes and {e.mapping_version for e in writes} == {"hubspot_outbound@2"}
    check = check_deals(world, deals)
    # Nothing booked twice; the one difference check_deals sees is v2's prefixed ERP id.
    assert check.duplicates == 0
    assert len(check.problems) == 1 and "CRM ERP id ERP-" in check.problems[0], check.problems
    _contact_reaches_zendesk_and_stripe(world, runtime, deals[0].account)


def _contact_reaches_zendesk_and_stripe(
    world: QuoteToCashWorld, runtime: Runtime, company_id: str
) -> None:
    """A billing contact created on the company in HubSpot becomes a Zendesk end user of the
    account's organization and the Stripe customer's email; a change travels, re-deliveries
    and our own Stripe write coming back start nothing."""
    assert world.hs_server is not None
    created = httpx.post(
        f"{world.hs_server.url}/crm/v3/objects/contacts",
        json={
            "properties": {
                "email": "pat.lee@acme.example",
                "firstname": "Pat",
                "lastname": "Lee",
                "phone": "+1 555 0100",
                "syncwright_contact_roles": "billing;technical",
            },
            "associations": [
                {
                    "to": {"id": company_id},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}],
                }
            ],
        },
        headers={"Authorization": f"Bearer {DEFAULT_ACCESS_TOKEN}"},
        timeout=30,
        trust_env=False,
    )
    created.raise_for_status()
    (org,) = world.zendesk_orgs()
    user = _wait_for(lambda: _zendesk_user(world, "pat.lee@acme.example"), runtime)
    assert user["name"] == "Pat Lee" and user["organization_id"] == org["id"]
    assert user["role"] == "end-user" and user["phone"] == "+1 555 0100"
    (customer,) = world.billing.stripe.v1.customers.list().data
    _wait_for(
        lambda: (
            world.billing.stripe.v1.customers.retrieve(customer.id).email == "pat.lee@acme.example"
        ),
        runtime,
    )
    # A change in HubSpot travels; the desk keeps one user.
    httpx.patch(
        f"{world.hs_server.url}/crm/v3/objects/contacts/{created.json()['id']}",
        json={"properties": {"phone": "+1 555 0199"}},
        headers={"Authorization": f"Bearer {DEFAULT_ACCESS_TOKEN}"},
        timeout=30,
        trust_env=False,
    ).raise_for_status()
    _wait_for(
        lambda: (_zendesk_user(world, "pat.lee@acme.example") or {}).get("phone") == "+1 555 0199",
        runtime,
    )
    # Stripe's customer.updated carrying the email we wrote is our echo: held back.
    _wait_for(lambda: _decisions(runtime, "echo", "stripe", "billing_email"), runtime)
    assert _decisions(runtime, "ownership", "stripe", "billing_email") == 0
    users = httpx.get(
        f"{world.zd_server.url}/api/v2/users/search.json",
        params={"query": "email:pat.lee@acme.example"},
        auth=(f"{ZENDESK_EMAIL}/token", world.zd_token),
        timeout=30,
        trust_env=False,
    ).json()["users"]
    assert len(users) == 1  # no duplicate
    runs = [w for w in runtime.ledger.recent(10_000) if w.workflow == "contact.sync"]
    # One run per change (creation, then phone): re-deliveries started none.
    assert len({r.workflow_id for r in runs}) == 2, {r.workflow_id for r in runs}


def _zendesk_user(world: QuoteToCashWorld, email: str) -> dict[str, Any] | None:
    found = httpx.get(
        f"{world.zd_server.url}/api/v2/users/search.json",
        params={"query": f"email:{email}"},
        auth=(f"{ZENDESK_EMAIL}/token", world.zd_token),
        timeout=30,
        trust_env=False,
    ).json()["users"]
    return dict(found[0]) if found else None


def _decisions(runtime: Runtime, kind: str, connection: str, about: str) -> int:
    """Policy decisions of ``kind`` on ``connection``'s account events naming ``about`` (a
    field, or words of the detail)."""
    with runtime.db.engine.connect() as conn:
        rows = conn.execute(
            policy_decisions.select().where(
                policy_decisions.c.kind == kind,
                policy_decisions.c.connection == connection,
                policy_decisions.c.entity_type == "account",
            )
        )
        return sum(1 for r in rows if about in (r.field or "") or about in (r.detail or ""))


def _wait_for(check: Callable[[], Any], runtime: Runtime, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, [
            (r.code, r.message) for r in runtime.exceptions.list(status="open")
        ]
        time.sleep(0.2)
    return found


def _billing_writes(runtime: Runtime, correlation_id: str | None) -> list[Any]:
    """Ledger entries of successful HubSpot steps (of one correlation id when given)."""
    entries = (
        runtime.ledger.recent(10_000)
        if correlation_id is None
        else runtime.ledger.for_correlation(correlation_id)
    )
    return [
        e for e in entries if e.connection == "hubspot" and e.outcome == "ok" and e.mapping_version
    ]

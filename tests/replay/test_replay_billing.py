"""Replay over the Stripe and NetSuite emulators: a dry run shows what the workflows would get,
sending nothing; a real replay runs again under new correlation ids linked to the originals,
and idempotent writes leave NetSuite with exactly the same records."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from syncwright.demo.billing_world import BillingWorld, demo_token, start_billing_world
from syncwright.demo.stripe_netsuite import Scenario, drive_scenario
from syncwright.mapping import shipped_mapping
from syncwright.replay import field_changes

ROOT = Path(__file__).resolve().parents[2]


SHIPPED = shipped_mapping("stripe", "inbound")
assert SHIPPED is not None
# The next version of Stripe's inbound mapping, kept for replay only: invoice lines get a
# fixed description in the ERP.
CANDIDATE = f"{SHIPPED.name}@{SHIPPED.version + 1}"
LINE_DESCRIPTION = "Subscription fee"


def _candidate_file(folder: Path) -> Path:
    assert SHIPPED is not None and SHIPPED.source is not None
    text = (ROOT / SHIPPED.source).read_text()
    old_line = "      description: {from: description, transform: text, default: Invoice line}\n"
    assert text.count(old_line) == 1 and text.count(f"\nversion: {SHIPPED.version}\n") == 1
    text = text.replace(old_line, f"      description: {{const: {LINE_DESCRIPTION}}}\n")
    text = text.replace(f"\nversion: {SHIPPED.version}\n", f"\nversion: {SHIPPED.version + 1}\n")
    path = folder / "stripe_inbound_next.yaml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[BillingWorld, Scenario]]:
    # One world for the module: each test replays its own records (replays are new inbox
    # rows; the originals are picked by origin).
    tmp_path = tmp_path_factory.mktemp("replay")
    started = start_billing_world(tmp_path / "world")
    assert SHIPPED is not None
    started.settings_args["extra_sections"] = f"""
mappings:
  - name: {SHIPPED.name}
    connection: stripe
    version: {SHIPPED.version + 1}
    path: {_candidate_file(tmp_path)}
    replay_only: true
"""
    try:
        started.start_syncwright(poll=False)
        scenario = drive_scenario(started, customers=3, seed=5)
        started.wait_settled(timeout=120)
        yield started, scenario
    finally:
        started.close()


def _cli(world: BillingWorld, *args: str) -> tuple[int, dict[str, Any]]:
    command = [sys.executable, "-m", "syncwright", "replay", *args, "--json"]
    done = subprocess.run(
        [*command, "--config", str(world.config_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, json.loads(done.stdout)


def _netsuite_counts(world: BillingWorld) -> dict[str, int]:
    return world.netsuite.state.counts()


def test_field_changes_are_leaf_paths() -> None:
    before = {"invoice": {"total": {"amount": 100}, "lines": [{"q": 1}, {"q": 2}]}}
    after = {"invoice": {"total": {"amount": 120}, "lines": [{"q": 1}], "memo": "x"}}
    changes = {c.path: (c.before, c.after) for c in field_changes(before, after)}
    assert changes == {
        "invoice.total.amount": (100, 120),
        "invoice.lines[1].q": (2, None),
        "invoice.memo": (None, "x"),
    }


def test_dry_run_then_replay_of_a_customers_events(
    world: tuple[BillingWorld, Scenario],
) -> None:
    billing, scenario = world
    assert billing.runtime is not None
    customer = scenario.customers[0]
    account = billing.runtime.xref.global_id_for("account", "stripe", customer)
    assert account is not None
    before = _netsuite_counts(billing)

    code, plan = _cli(billing, "--entity", f"account:{account}", "--dry-run")
    assert code == 0, plan
    deliveries = plan["deliveries"]
    assert deliveries and all(d["error"] is None for d in deliveries)
    # Same payloads, same mapping: the workflows would get exactly what they got.
    assert not any(d["changed"] for d in deliveries), [d for d in deliveries if d["changed"]][:2]
    handled = {w for d in deliveries for e in d["events"] for w in e["workflows"]}
    assert "invoice.finalize_in_erp" in handled
    assert billing.runtime.inbox.count("pending") == 0  # a dry run sends nothing

    refused, message = _cli(billing, "--entity", f"account:{account}")
    assert refused == 1 and "--yes" in message["error"]

    code, done = _cli(billing, "--entity", f"account:{account}", "--yes")
    assert code == 0, done
    replayed = done["replayed"]
    assert len(replayed) == len(deliveries)
    billing.wait_settled(timeout=120)
    assert _netsuite_counts(billing) == before  # idempotent: nothing new, nothing twice

    first = replayed[0]
    new_trail = billing.runtime.ledger.for_correlation(first["new_correlation_id"])
    assert any(
        e.step == "replay" and first["correlation_id"] in (e.message or "") for e in new_trail
    )
    assert any(e.workflow for e in new_trail), "the replayed delivery ran its workflows again"
    old_trail = billing.runtime.ledger.for_correlation(first["correlation_id"])
    assert any(
        e.step == "replay" and first["new_correlation_id"] in (e.message or "") for e in old_trail
    )


def test_the_api_replays_one_business_event(world: tuple[BillingWorld, Scenario]) -> None:
    billing, _ = world
    assert billing.runtime is not None
    row = billing.runtime.inbox.get(1)
    assert row is not None
    url = f"http://127.0.0.1:{billing.api_port}/api/v1/replay"
    token = demo_token(billing.workdir, "demo-operator")
    with httpx.Client(timeout=60, headers={"Authorization": f"Bearer {token}"}) as client:
        planned = client.post(url, json={"correlation_id": row.correlation_id, "dry_run": True})
        assert planned.status_code == 200, planned.text
        assert [d["inbox_id"] for d in planned.json()["deliveries"]] == [row.id]
        sent = client.post(url, json={"correlation_id": row.correlation_id})
        assert sent.status_code == 200, sent.text
        (item,) = sent.json()["replayed"]
        assert item["new_correlation_id"] != row.correlation_id
        assert client.post(url, json={}).status_code == 422
        by_version = {"correlation_id": row.correlation_id, "dry_run": True}
        unknown = client.post(url, json={**by_version, "mapping": "stripe_inbound@99"})
        assert unknown.status_code == 404 and CANDIDATE in unknown.text
        forked = {**by_version, "mapping": CANDIDATE, "from_step": "netsuite.upsert_invoice"}
        assert client.post(url, json=forked).status_code == 422
        planned = client.post(url, json={**by_version, "mapping": CANDIDATE})
        assert (
            planned.status_code == 200 and planned.json()["deliveries"][0]["mapping"] == CANDIDATE
        )
        assert client.post(url, json={"correlation_id": "nope"}).status_code == 404
    billing.wait_settled(timeout=60)
    copy = billing.runtime.inbox.get(item["new_inbox_id"])
    assert copy is not None and copy.origin == "replay" and copy.body == row.body
    # The calling token's name is the replay's actor, on both sides of the link.
    for correlation in (row.correlation_id, item["new_correlation_id"]):
        [entry] = [
            e for e in billing.runtime.ledger.for_correlation(correlation) if e.step == "replay"
        ]
        assert entry.actor == "demo-operator"


def test_replay_from_a_step_reruns_only_that_step_and_after(
    world: tuple[BillingWorld, Scenario],
) -> None:
    billing, scenario = world
    assert billing.runtime is not None
    stripe = billing.stripe.v1
    invoice = stripe.invoices.list({"customer": scenario.customers[0]}).data[0]
    gid = billing.runtime.xref.global_id_for("invoice", "stripe", invoice.id)
    assert gid is not None
    # An ERP invoice's amount edited by hand; the finalized event's run is replayed from its
    # write, which puts it back.
    ns = billing.netsuite.state
    lost = ns.find_by_external_id("invoice", gid)
    assert lost is not None
    with ns.lock:
        stored = ns.raw("invoice", str(lost["id"]))
        assert stored is not None
        stored["total"] = float(lost["total"]) + 1
    (row,) = [
        r
        for r in (billing.runtime.inbox.get(i) for i in range(1, 200))
        if r is not None
        and r.origin != "replay"
        and r.event_type == "invoice.finalized"
        and invoice.id in r.body
    ]

    code, refused = _cli(billing, "--inbox-id", str(row.id), "--from-step", "nope")
    assert code == 1 and "netsuite.upsert_invoice" in refused["error"]

    code, done = _cli(billing, "--inbox-id", str(row.id), "--from-step", "netsuite.upsert_invoice")
    assert code == 0, done
    (item,) = done["replayed"]
    billing.wait_settled(timeout=120)
    restored = ns.find_by_external_id("invoice", gid)
    assert restored is not None and restored["id"] == lost["id"]
    assert float(restored["total"]) == float(lost["total"])
    steps = [e.step for e in billing.runtime.ledger.for_correlation(item["new_correlation_id"])]
    assert "netsuite.upsert_invoice" in steps
    # The steps before it kept their recorded results: they were not run again.
    assert "netsuite.customer_known" not in steps
    copy = billing.runtime.inbox.get(item["new_inbox_id"])
    assert copy is not None and copy.status == "dispatched"


def test_replay_under_another_mapping_version_writes_what_its_dry_run_showed(
    world: tuple[BillingWorld, Scenario],
) -> None:
    billing, scenario = world
    runtime = billing.runtime
    assert runtime is not None and SHIPPED is not None
    invoice = billing.stripe.v1.invoices.list({"customer": scenario.customers[1]}).data[0]
    gid = runtime.xref.global_id_for("invoice", "stripe", invoice.id)
    assert gid is not None
    (row,) = [
        r
        for r in (runtime.inbox.get(i) for i in range(1, 200))
        if r is not None
        and r.origin != "replay"
        and r.event_type == "invoice.finalized"
        and invoice.id in r.body
    ]
    erp = billing.netsuite.state.find_by_external_id("invoice", gid)
    assert erp is not None
    before = [line.get("description") for line in erp["item"]]
    assert before and LINE_DESCRIPTION not in before

    code, unknown = _cli(billing, "--inbox-id", str(row.id), "--mapping", "stripe_inbound@99")
    assert code == 1 and CANDIDATE in unknown["error"]

    code, plan = _cli(billing, "--inbox-id", str(row.id), "--mapping", CANDIDATE, "--dry-run")
    assert code == 0, plan
    (delivery,) = plan["deliveries"]
    assert delivery["mapping"] == CANDIDATE and delivery["changed"]
    changes = {
        c["path"]: (c["before"], c["after"])
        for e in delivery["events"]
        if e["type"] == "syncwright.invoice.finalized.v1"
        for c in e["changes"]
    }
    described = {p: c for p, c in changes.items() if p.endswith(".description")}
    assert described and set(described) == set(changes), changes  # only descriptions change
    assert all(after == LINE_DESCRIPTION for _, after in described.values())
    assert runtime.inbox.count("pending") == 0  # a dry run sends nothing

    code, done = _cli(billing, "--inbox-id", str(row.id), "--mapping", CANDIDATE)
    assert code == 0, done
    (item,) = done["replayed"]
    billing.wait_settled(timeout=120)
    # NetSuite holds exactly what the dry run showed: the new descriptions, nothing else moved.
    after = billing.netsuite.state.find_by_external_id("invoice", gid)
    assert after is not None and after["id"] == erp["id"]
    assert [line.get("description") for line in after["item"]] == [LINE_DESCRIPTION] * len(before)
    assert float(after["total"]) == float(erp["total"])
    # The ledger records the version used, on both sides of the link.
    for correlation in (row.correlation_id, item["new_correlation_id"]):
        [entry] = [e for e in runtime.ledger.for_correlation(correlation) if e.step == "replay"]
        assert entry.mapping_version == CANDIDATE
    # Live traffic keeps the configured version.
    assert runtime.connectors["stripe"].mapping("inbound").ref == SHIPPED.ref

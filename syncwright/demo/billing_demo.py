"""``syncwright demo``: Stripe Billing -> NetSuite, with the faults real life brings.

Both emulators and syncwright run in this process on loopback. A few dozen customers subscribe,
pay, upgrade, fail a payment, get a credit and cancel; Stripe redelivers and reorders webhooks
and NetSuite throws 5xx and loses responses. Two customers belong to a legal entity NetSuite
cannot place: their runs park with remediation. The operator maps the entity, restarts
syncwright (the parked runs wait durably) and retries; then Stripe and NetSuite are compared
record by record.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from syncwright.demo.api_token import print_api_usage
from syncwright.demo.billing_world import BillingWorld, start_billing_world
from syncwright.demo.stack import DEFAULT_STACK, Stack, require_runnable
from syncwright.demo.stripe_netsuite import UNMAPPED_ENTITY, Comparison, compare, drive_scenario
from syncwright.exceptions import ExceptionService
from syncwright.sandbox import FaultPlan
from syncwright.sandbox.stripe import WebhookFaults
from syncwright.trace import build_trace


@dataclass
class BillingDemoResult:
    config_path: Path
    customers: int
    parked: int
    comparison: Comparison
    netsuite_breaches: int
    netsuite_max_in_flight: int
    sample_customer: str
    stack: str


def run_billing_demo(
    workdir: Path,
    *,
    customers: int = 30,
    console: Console | None = None,
    hold: Callable[[BillingWorld], None] | None = None,
    stack: Stack = DEFAULT_STACK,
) -> BillingDemoResult:
    """Run the scenario on ``stack``'s billing system and ERP (the only kinds it uses);
    ``hold`` (``demo --console``) runs before anything stops."""
    require_runnable("billing", stack)
    console = console or Console()
    if workdir.exists():
        shutil.rmtree(workdir)
    world = start_billing_world(
        workdir,
        netsuite_faults=FaultPlan(
            latency_ms=10, error_5xx_rate=0.03, lost_response_rate=0.02, stall_seconds=3, seed=3
        ),
        ns_timeout=2.0,
    )
    try:
        result = _run(world, customers, console, stack)
        if hold is not None:
            hold(world)
        return result
    finally:
        world.close()


def _run(world: BillingWorld, customers: int, console: Console, stack: Stack) -> BillingDemoResult:
    world.stripe_state.configure_webhooks(
        WebhookFaults(duplicate_rate=0.2, shuffle_window=4, drop_rate=0.05, seed=5)
    )
    runtime = world.start_syncwright()
    console.print("[bold]syncwright demo[/bold]: Stripe Billing -> NetSuite, on local emulators")
    console.print(f"  stack: {stack.describe(('billing', 'erp'))}")
    console.print(
        f"  Stripe emulator {world.stripe_server.url}, NetSuite emulator "
        f"{world.netsuite_server.url} (concurrency limit 5)"
    )
    console.print(f"  syncwright intake {world.api.url if world.api else ''}/hooks/stripe")
    console.print(
        "  faults: 20% duplicate and reordered webhooks, 5% dropped (polling heals), "
        "3% NetSuite 5xx, 2% lost responses"
    )

    scenario = drive_scenario(world, customers, unmapped=2)
    console.print(
        f"  drove {len(scenario.customers)} customers: {len(scenario.upgraded)} upgrades, "
        f"{len(scenario.failed_payments)} failed payments, {len(scenario.credit_notes)} credit "
        f"notes, {len(scenario.cancelled)} cancellations"
    )
    world.wait_settled()
    parked = runtime.exceptions.list(status="open")
    console.print(
        f"\n  {len(parked)} runs parked by NetSuite's business rules (nothing partial "
        "was written; later events of those customers wait behind them):"
    )
    for record in parked:
        console.print(f"    {record.id}: {record.message}\n      remediation: {record.remediation}")

    console.print(
        f"\n  operator: maps '{UNMAPPED_ENTITY}' to subsidiary 1 in syncwright.yaml, "
        "restarts syncwright, retries the exceptions"
    )
    world.stop_syncwright()
    # A request NetSuite is still stalling on counts against its limit; the new process does
    # not know about it, so let NetSuite finish it first (a real restart takes that long too).
    world.wait_netsuite_idle()
    world.extra_subsidiaries[UNMAPPED_ENTITY] = 1
    runtime = world.start_syncwright()
    assert world.engine is not None
    service = ExceptionService(
        runtime.exceptions, runtime.inbox, world.engine, ledger=runtime.ledger, audit=runtime.audit
    )
    for record in parked:
        service.retry(record.id, actor="demo")
    world.wait_settled()

    scenario.unmapped.clear()  # now every customer must be in NetSuite
    comparison = compare(world, scenario)
    stats = world.netsuite.stats()
    table = Table("records", "in Stripe", "in NetSuite")
    for what, (want, have) in comparison.counts.items():
        table.add_row(what, str(want), str(have))
    console.print(table)
    console.print(
        f"  amounts compared: {comparison.amounts_checked}, duplicates: "
        f"{comparison.duplicates}, problems: {len(comparison.problems)}"
    )
    for problem in comparison.problems:
        console.print(f"    [red]{problem}[/red]")
    console.print(
        f"  NetSuite: {stats['requests']} requests, max in flight "
        f"{stats['max_in_flight_observed']} of {stats['concurrency_limit']}, "
        f"{stats['breaches']} breaches, faults {json.dumps(stats['faults_injected'])}"
    )
    console.print(
        f"  workflows: {json.dumps(world.statuses())}; open exceptions: "
        f"{runtime.exceptions.count_open()}"
    )

    sample = scenario.customers[3]
    trace = build_trace(runtime, sample)
    console.print(
        f"\n  one customer ({sample}) across both systems: {len(trace['deliveries'])} "
        f"Stripe deliveries, {len(trace['ledger'])} step attempts, ids {trace['systems']}"
    )
    console.print("\n[bold]Where to look[/bold]")
    console.print(f"  syncwright trace {sample} --config {world.config_path}")
    console.print(f"  syncwright exceptions list --config {world.config_path}")
    console.print(f"  syncwright serve --config {world.config_path}   (API, /docs, /metrics)")
    print_api_usage(console, world.api.url if world.api else "http://127.0.0.1:8787", world.workdir)
    return BillingDemoResult(
        config_path=world.config_path,
        customers=len(scenario.customers),
        parked=len(parked),
        comparison=comparison,
        netsuite_breaches=int(stats["breaches"]),
        netsuite_max_in_flight=int(stats["max_in_flight_observed"]),
        sample_customer=sample,
        stack=stack.describe(("billing", "erp")),
    )

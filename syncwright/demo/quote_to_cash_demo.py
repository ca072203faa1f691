"""``syncwright demo``: quote-to-cash over four emulators, one per kind of a stack
(``--stack``): Salesforce or HubSpot, Stripe or Chargebee, NetSuite or Business Central, Zendesk
or Freshdesk.

Sales reps close deals in the CRM emulator. syncwright takes the change events, validates
each deal against the ERP's master data, creates the ERP customer and sales order, the billing
customer and subscription, then writes the subscription status, contract value and ERP id
back to the CRM account and the support tier to the desk -- while the ERP throws errors and loses
responses and the billing system redelivers (Stripe) or drops (Chargebee) webhooks. On NetSuite
one deal fails validation (a billing country the subsidiary cannot tax): it parks before any
write; the rep fixes the account and the operator retries. Then every system is checked deal by
deal, read from the emulators.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from syncwright.demo.api_token import print_api_usage
from syncwright.demo.billing_side import ChargebeeBilling
from syncwright.demo.billing_world import BillingWorld
from syncwright.demo.freshdesk_support import use_freshdesk
from syncwright.demo.quote_to_cash import (
    QuoteToCashCheck,
    QuoteToCashWorld,
    check_deals,
    close_deals,
    start_quote_to_cash_world,
    wait_onboarded,
)
from syncwright.demo.stack import DEFAULT_STACK, DISPLAY_NAMES, Stack, require_runnable
from syncwright.exceptions import ExceptionService
from syncwright.sandbox import FaultPlan
from syncwright.sandbox.stripe import WebhookFaults
from syncwright.trace import build_trace


@dataclass
class QuoteToCashDemoResult:
    config_path: Path
    deals: int
    parked: int
    check: QuoteToCashCheck
    netsuite_breaches: int
    sample_correlation_id: str
    systems_in_trace: list[str]
    stack: str


def run_quote_to_cash_demo(
    workdir: Path,
    *,
    deals: int = 12,
    console: Console | None = None,
    hold: Callable[[BillingWorld], None] | None = None,
    stack: Stack = DEFAULT_STACK,
) -> QuoteToCashDemoResult:
    """Run the scenario on ``stack`` (:data:`~syncwright.demo.stack.RUNNABLE` says which
    vendors it can start); ``hold`` (``demo --console``) runs before anything stops."""
    require_runnable("quote-to-cash", stack)
    console = console or Console()
    if workdir.exists():
        shutil.rmtree(workdir)
    world = start_world_on(
        workdir,
        stack,
        erp_faults=FaultPlan(
            latency_ms=5, error_5xx_rate=0.03, lost_response_rate=0.02, stall_seconds=3, seed=8
        ),
        billing_faults=FaultPlan(error_5xx_rate=0.03, seed=9),
    )
    try:
        result = _run(world, deals, console, stack)
        if hold is not None:
            hold(world.billing)
        return result
    finally:
        world.close()


def start_world_on(workdir: Path, stack: Stack, **options: Any) -> QuoteToCashWorld:
    """The quote-to-cash world on every vendor of ``stack``, the support desk included
    (``options``: those of :func:`start_quote_to_cash_world`)."""
    world = start_quote_to_cash_world(workdir, stack=stack, **options)
    if stack.support == "freshdesk":
        desk = use_freshdesk(world)
        world.billing.closers.append(desk.server.stop)
    return world


def _run(
    world: QuoteToCashWorld, count: int, console: Console, stack: Stack
) -> QuoteToCashDemoResult:
    billing = world.billing
    billing.stripe_state.configure_webhooks(WebhookFaults(duplicate_rate=0.2, shuffle_window=4))
    if isinstance(world.billing_side, ChargebeeBilling):
        world.billing_side.state.webhooks.drop_next = 2
    runtime = billing.start_syncwright()
    assert billing.engine is not None
    crm, erp, billed = (DISPLAY_NAMES[v] for v in (stack.crm, stack.erp, stack.billing))
    console.print("[bold]syncwright demo[/bold]: quote-to-cash over four emulators")
    console.print(f"  stack: {stack.describe()}")
    for skipped in stack.skips():
        console.print(f"  on this stack: {skipped}")
    crm_url = (world.hs_server or world.sf_server).url
    console.print(f"  {crm} {crm_url}  {erp} {world.erp.url}")
    console.print(
        f"  {billed} {world.billing_side.url}  support desk: {DISPLAY_NAMES[stack.support]}"
    )
    console.print(f"  faults: 3% {erp} 5xx, 2% lost {erp} responses, " + _billing_faults(stack))

    # A billing country the ERP cannot tax parks a deal before any write -- where the ERP's
    # tax check looks at the country (NetSuite; stack.SKIPS says so for the others).
    parks = stack.erp == "netsuite"
    deals = close_deals(world, count - 1 if parks else count)
    if parks:
        deals += close_deals(world, 1, country="BR", start=count - 1)
    console.print(f"  sales reps closed {len(deals)} deals in {crm}")
    wait_onboarded(world, deals)
    parked = runtime.exceptions.list(status="open")
    console.print(f"\n  {len(parked)} deal(s) parked before any write:")
    for record in parked:
        console.print(f"    {record.id}: {record.message}\n      remediation: {record.remediation}")

    if parks:
        console.print(f"\n  the rep corrects the billing country in {crm}; the operator retries")
        world.crm.set_country(deals[-1].account, "US")
    service = ExceptionService(
        runtime.exceptions,
        runtime.inbox,
        billing.engine,
        ledger=runtime.ledger,
        audit=runtime.audit,
    )
    for record in parked:
        service.retry(record.id, actor="demo")
    wait_onboarded(world, deals)

    check = check_deals(world, deals)
    table = Table("system", "what", "deals in step")
    for system, what in (
        (erp, "customer + sales order"),
        (billed, "active subscription"),
        (crm, "status, ACV, ERP id on the account"),
        (DISPLAY_NAMES[stack.support], "entitlement tier and SLA"),
    ):
        table.add_row(system, what, f"{check.onboarded}/{check.deals}")
    console.print(table)
    breaches = billing.netsuite.stats()["breaches"] if stack.erp == "netsuite" else 0
    injected = {erp: world.erp.faults_injected(), billed: world.billing_side.faults_injected()}
    # Only NetSuite's emulator enforces an account-wide concurrency limit to breach.
    limit = (
        f"NetSuite breaches of its concurrency limit: {breaches}, "
        if stack.erp == "netsuite"
        else ""
    )
    console.print(
        f"  problems: {len(check.problems)}, duplicate sales orders: {check.duplicates}, "
        f"{limit}faults injected: {json.dumps(injected)}"
    )
    for problem in check.problems:
        console.print(f"    [red]{problem}[/red]")

    account_id = runtime.xref.global_id_for("account", stack.crm, deals[0].account)
    correlation = next(
        e.correlation_id
        for e in runtime.ledger.for_entity(f"account:{account_id}")
        if e.workflow == "deal.onboard"
    )
    trace = build_trace(runtime, correlation)
    systems = sorted(trace["systems"])
    console.print(
        f"\n  one deal, one correlation id ({correlation}): "
        f"{len(trace['ledger'])} step attempts across {', '.join(systems)}"
    )
    console.print("\n[bold]Where to look[/bold]")
    console.print(f"  syncwright trace {correlation} --config {billing.config_path}")
    console.print(
        f"  syncwright trace {deals[0].opportunity} --config {billing.config_path}"
        "   (the customer's whole story)"
    )
    console.print(f"  syncwright exceptions list --config {billing.config_path}")
    print_api_usage(console, billing.api.url if billing.api else "", billing.workdir)
    return QuoteToCashDemoResult(
        config_path=billing.config_path,
        deals=len(deals),
        parked=len(parked),
        check=check,
        netsuite_breaches=int(breaches),
        sample_correlation_id=correlation,
        systems_in_trace=systems,
        stack=stack.describe(),
    )


def _billing_faults(stack: Stack) -> str:
    if stack.billing == "chargebee":
        return "3% Chargebee API 5xx, 2 dropped Chargebee webhooks (polling its events API heals)"
    return "20% duplicate and reordered Stripe webhooks"

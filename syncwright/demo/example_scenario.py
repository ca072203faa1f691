"""The example demo: a shop's customer changes flow into an ERP, with faults on the way.

It starts the example ERP emulator, the API (intake) and the engine in one process on a fresh
SQLite file, sends signed webhooks -- duplicates, a forged one, a malformed one and two that
the ERP will reject for a missing subsidiary -- then fixes the data and retries the parked
workflows, and prints where to look.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from syncwright.api import create_api
from syncwright.config import load_settings
from syncwright.connectors.example.signature import HEADER, sign
from syncwright.demo.api_token import AUTH_SECTION, print_api_usage, write_api_token
from syncwright.engine import Engine
from syncwright.exceptions import ExceptionService
from syncwright.intake.dispatcher import Dispatcher
from syncwright.runtime import Runtime
from syncwright.sandbox import FaultInjector, FaultPlan, ServerThread
from syncwright.sandbox.example import ExampleErpState, create_app
from syncwright.trace import build_trace

CONFIG_TEMPLATE = """\
# Written by `syncwright demo`. Secrets are file references (mode 0600), never values.
database:
  url: sqlite:///{db}
connections:
  shop:
    vendor: example
    webhook:
      secrets: ["file:secrets/shop_webhook_secret"]
  erp:
    vendor: example
    base_url: {erp_url}
    credentials:
      token: "file:secrets/erp_token"
    limits:
      timeout_seconds: 1.0
    options:
      role: erp
"""


@dataclass
class DemoResult:
    config_path: Path
    api_url: str
    deliveries_sent: int
    workflows: dict[str, int]
    erp_customers: int
    max_applied_per_key: int
    exceptions_opened: int
    sample_correlation_id: str


def _write_secret(path: Path, value: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(value)
    path.chmod(0o600)


def _customer(n: int, subsidiary: str) -> dict[str, Any]:
    return {
        "id": f"evt_{n:05d}",
        "type": "customer.updated",
        "created": int(time.time()),
        "data": {
            "customer": {
                "id": f"cust_{n:04d}",
                "name": f"Customer {n:04d} Ltd",
                "email": f"billing{n}@example.com",
                "currency": "USD" if n % 3 else "GBP",
                "subsidiary": subsidiary,
            }
        },
    }


def _wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"demo: timed out waiting for {what}")
        time.sleep(0.1)


def run_example_demo(
    workdir: Path,
    *,
    customers: int = 30,
    console: Console | None = None,
    keep_running: bool = False,
) -> DemoResult:
    console = console or Console()
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    secret = "whsec_demo_" + os.urandom(8).hex()
    erp_token = "erp-demo-" + os.urandom(8).hex()
    _write_secret(workdir / "secrets" / "shop_webhook_secret", secret)
    _write_secret(workdir / "secrets" / "erp_token", erp_token)

    erp_state = ExampleErpState(token=erp_token)
    faults = FaultInjector(
        FaultPlan(
            latency_ms=5, error_5xx_rate=0.05, lost_response_rate=0.03, stall_seconds=2.0, seed=7
        )
    )
    erp = ServerThread(create_app(erp_state, faults=faults)).start()
    config_path = workdir / "syncwright.yaml"
    config_path.write_text(
        CONFIG_TEMPLATE.format(
            db=(workdir / "syncwright.db").resolve(),
            erp_url=erp.url,
        )
        + AUTH_SECTION
    )
    write_api_token(workdir)
    settings = load_settings(config_path)
    runtime = Runtime(settings)
    engine = runtime.start_engine()
    dispatcher = Dispatcher(runtime)
    dispatcher.start()
    api = ServerThread(create_api(runtime, engine)).start()
    console.print(f"[bold]syncwright demo[/bold]: example shop -> example ERP ({erp.url})")
    console.print(f"  API and webhook intake on {api.url} (OpenAPI at {api.url}/docs)")
    try:
        return _drive(
            runtime, engine, erp, api, secret, config_path, customers, console, keep_running
        )
    finally:
        dispatcher.stop()
        api.stop()
        runtime.close()
        erp.stop()


def _drive(
    runtime: Runtime,
    engine: Engine,
    erp: ServerThread,
    api: ServerThread,
    secret: str,
    config_path: Path,
    customers: int,
    console: Console,
    keep_running: bool,
) -> DemoResult:
    hook = f"{api.url}/hooks/shop"
    statuses: dict[int, int] = {}
    correlation_ids: list[str] = []
    rejected = {7, customers - 3}  # two customers the ERP will refuse until it is fixed
    with httpx.Client(timeout=10) as http:

        def send(body: bytes, signature: str | None) -> httpx.Response:
            headers = {"content-type": "application/json"}
            if signature is not None:
                headers[HEADER] = signature
            response = http.post(hook, content=body, headers=headers)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            return response

        for n in range(1, customers + 1):
            subsidiary = "DE" if n in rejected else ("UK" if n % 2 else "US")
            body = json.dumps(_customer(n, subsidiary)).encode()
            response = send(body, sign(body, secret))
            if response.json().get("correlation_id"):
                correlation_ids.append(response.json()["correlation_id"])
            if n % 6 == 0:  # vendors redeliver: the duplicate is acknowledged, not processed
                send(body, sign(body, secret))
        forged = json.dumps(_customer(999, "US")).encode()
        send(forged, sign(forged, "not-the-secret"))
        send(b"{not json", sign(b"{not json", secret))
    sent = sum(statuses.values())
    console.print(
        f"  sent {sent} webhook deliveries; answers by status: {dict(sorted(statuses.items()))}"
    )

    _wait_for(lambda: runtime.exceptions.count_open() >= 2, 120, "the two parked workflows")
    _wait_for(lambda: _count(engine, "SUCCESS") >= customers - 2, 120, "the other workflows")
    parked = runtime.exceptions.list(status="open")
    console.print(f"  {len(parked)} workflows parked by the ERP's business rules:")
    for record in parked:
        console.print(f"    {record.id}: {record.message}\n      remediation: {record.remediation}")

    console.print("  fixing the data: creating subsidiary DE in the ERP, then retrying ...")
    httpx.post(f"{erp.url}/_sandbox/subsidiaries/DE", timeout=5).raise_for_status()
    service = ExceptionService(
        runtime.exceptions, runtime.inbox, engine, ledger=runtime.ledger, audit=runtime.audit
    )
    for record in parked:
        service.retry(record.id, actor="demo")
    _wait_for(lambda: _count(engine, "SUCCESS") >= customers, 120, "the retried workflows")

    stats = httpx.get(f"{erp.url}/_sandbox/stats", timeout=5).json()
    workflows = _counts(engine)
    table = Table("what", "count")
    table.add_row("webhook deliveries sent", str(sent))
    table.add_row("inbox deliveries dispatched", str(runtime.inbox.count("dispatched")))
    table.add_row("workflows by status", json.dumps(workflows))
    table.add_row("ERP customers", str(stats["customers"]))
    table.add_row("max times one write was applied", str(max(stats["applied_by_key"].values())))
    table.add_row("faults injected by the ERP", json.dumps(stats["faults_injected"]))
    # Rows count events per source and window; their counts add up to the rejections.
    rejected_signatures = sum(int(e["count"]) for e in runtime.inbox.security_events())
    table.add_row("security events (rejected signatures)", str(rejected_signatures))
    console.print(table)

    sample = correlation_ids[6]  # customer 7: parked, fixed, retried
    trace = build_trace(runtime, sample)
    console.print(
        f"  trace of customer 0007 ({sample}): {len(trace['ledger'])} ledger rows, "
        f"ids {trace['systems']}"
    )
    console.print("\n[bold]Where to look[/bold]")
    console.print(f"  syncwright trace {sample} --config {config_path}")
    console.print(f"  syncwright exceptions list --config {config_path}")
    console.print(f"  syncwright serve --config {config_path}   (API, /docs, /metrics)")
    print_api_usage(console, api.url, config_path.parent)
    if keep_running:
        console.print(f"\nServing on {api.url}; press Ctrl-C to stop.")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    return DemoResult(
        config_path=config_path,
        api_url=api.url,
        deliveries_sent=sent,
        workflows=workflows,
        erp_customers=int(stats["customers"]),
        max_applied_per_key=max(stats["applied_by_key"].values()),
        exceptions_opened=len(parked),
        sample_correlation_id=sample,
    )


def _counts(engine: Engine) -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in engine.statuses().values():
        counts[status] = counts.get(status, 0) + 1
    return counts


def _count(engine: Engine, status: str) -> int:
    return _counts(engine).get(status, 0)

"""Shared test helpers: configs on disk, signed example-shop events, a full in-process stack."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from syncwright.api import create_api
from syncwright.config import Settings, load_settings
from syncwright.connectors.example.signature import HEADER, sign
from syncwright.engine import Engine, EngineClient
from syncwright.intake.dispatcher import Dispatcher
from syncwright.runtime import Runtime
from syncwright.sandbox import FaultInjector, FaultPlan, ServerThread
from syncwright.sandbox.example import ExampleErpState, create_app

SHOP_SECRET = "whsec_test_shop_secret_value"
ERP_TOKEN = "erp-test-token-value"
# API tokens written by write_config (auth.tokens): one per role.
VIEWER_TOKEN = "viewer-api-token-for-tests"
OPERATOR_TOKEN = "operator-api-token-for-tests"
ADMIN_TOKEN = "admin-api-token-for-tests"
API_TOKENS = {"viewer": VIEWER_TOKEN, "operator": OPERATOR_TOKEN, "admin": ADMIN_TOKEN}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def write_config(
    directory: Path,
    *,
    db_url: str,
    erp_url: str,
    timeout_seconds: float = 2.0,
    executor_id: str = "local",
    engine_extra: str = "",
    extra: str = "",
) -> Path:
    secrets = directory / "secrets"
    secrets.mkdir(parents=True, exist_ok=True)
    (secrets / "shop").write_text(SHOP_SECRET)
    (secrets / "erp").write_text(ERP_TOKEN)
    for role, token in API_TOKENS.items():
        (secrets / f"api_{role}").write_text(token)
    path = directory / "syncwright.yaml"
    path.write_text(
        f"""\
database:
  url: {db_url}
auth:
  tokens:
    - {{name: test-viewer, role: viewer, secret: "file:secrets/api_viewer"}}
    - {{name: test-operator, role: operator, secret: "file:secrets/api_operator"}}
    - {{name: test-admin, role: admin, secret: "file:secrets/api_admin"}}
engine:
  executor_id: {executor_id}
{engine_extra}connections:
  shop:
    vendor: example
    webhook:
      secrets: ["file:secrets/shop"]
  erp:
    vendor: example
    base_url: {erp_url}
    credentials:
      token: "file:secrets/erp"
    limits:
      timeout_seconds: {timeout_seconds}
    options:
      role: erp
{extra}"""
    )
    return path


def customer_event(
    event_id: str,
    customer_id: str,
    *,
    name: str | None = None,
    subsidiary: str = "US",
    currency: str = "USD",
) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "type": "customer.updated",
            "data": {
                "customer": {
                    "id": customer_id,
                    "name": name or f"Customer {customer_id}",
                    "email": f"{customer_id}@example.com",
                    "currency": currency,
                    "subsidiary": subsidiary,
                }
            },
        }
    ).encode()


def wait_until(
    predicate: Callable[[], bool], timeout: float = 60.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


@dataclass
class Erp:
    state: ExampleErpState
    faults: FaultInjector
    server: ServerThread

    @property
    def url(self) -> str:
        return self.server.url


def start_erp(faults: FaultInjector | None = None) -> Erp:
    state = ExampleErpState(token=ERP_TOKEN)
    injector = faults or FaultInjector()
    server = ServerThread(create_app(state, faults=injector)).start()
    return Erp(state, injector, server)


@dataclass
class Stack:
    """Runtime + engine + dispatcher + API on one SQLite/PostgreSQL database, in this process."""

    settings: Settings
    runtime: Runtime
    engine: Engine
    dispatcher: Dispatcher
    api: ServerThread
    app: FastAPI
    # Sends the operator's token: every /api/v1 call needs one.
    http: httpx.Client = field(
        default_factory=lambda: httpx.Client(timeout=30, headers=bearer(OPERATOR_TOKEN))
    )

    def post(
        self, body: bytes, *, secret: str = SHOP_SECRET, connection: str = "shop"
    ) -> httpx.Response:
        headers = {"content-type": "application/json", HEADER: sign(body, secret)}
        return self.http.post(f"{self.api.url}/hooks/{connection}", content=body, headers=headers)

    def statuses(self) -> dict[str, str]:
        return self.engine.statuses()

    def count(self, status: str) -> int:
        return sum(1 for s in self.statuses().values() if s == status)

    def close(self) -> None:
        self.http.close()
        self.dispatcher.stop()
        self.api.stop()
        self.runtime.close()


def start_stack(config_path: Path, *, dispatch: bool = True) -> Stack:
    settings = load_settings(config_path)
    runtime = Runtime(settings)
    engine = runtime.start_engine()
    dispatcher = Dispatcher(runtime)
    if dispatch:
        dispatcher.start()
    app = create_api(runtime, engine)
    api = ServerThread(app).start()
    return Stack(settings, runtime, engine, dispatcher, api, app)


def stats(erp: Erp) -> dict[str, Any]:
    result: dict[str, Any] = httpx.get(f"{erp.url}/_sandbox/stats", timeout=10).json()
    return result


def accept_customer_events(config: Path, count: int) -> None:
    """``count`` example-shop ``customer.updated`` deliveries in the inbox, not dispatched."""
    with Runtime(load_settings(config)) as runtime:
        for n in range(count):
            runtime.inbox.accept(
                connection="shop",
                vendor_event_id=f"evt_{n}",
                event_type="customer.updated",
                body=customer_event(f"evt_{n}", f"cust_{n}").decode(),
            )


def run_syncwright(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -m syncwright ARGS`` to its end, output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "syncwright", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_worker(config: Path, log: Path) -> subprocess.Popen[bytes]:
    """``syncwright worker`` in its own process, its output appended to ``log``."""
    return subprocess.Popen(
        [sys.executable, "-m", "syncwright", "worker", "--config", str(config)],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def kill_worker_mid_write(config: Path, log: Path, erp: Erp, customers: int) -> None:
    """Start a worker, SIGKILL it once its first ERP writes are applied and more are in flight
    (the ERP answers them late: a kill between a side effect and its checkpoint), then stop the
    ERP's faults so what follows can finish."""
    worker = start_worker(config, log)
    try:
        wait_until(
            lambda: len(erp.state.applied_by_key) >= 3 and erp.state.in_flight > 0,
            60,
            "the first writes with more in flight",
        )
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert len(erp.state.customers) < customers, "killed too late to prove anything"
    erp.faults.configure(FaultPlan())


def wait_every_run_succeeded(config: Path, count: int) -> None:
    """Wait until ``count`` workflow runs in the config's database have succeeded."""
    with Runtime(load_settings(config), upgrade=False) as runtime:
        client = EngineClient(runtime.db)
        try:
            wait_until(
                lambda: list(client.statuses().values()).count("SUCCESS") == count,
                60,
                "every workflow to succeed",
            )
        finally:
            client.close()

"""Stripe Billing and NetSuite emulators wired to a syncwright runtime, on loopback.

Shared by ``syncwright demo``, the end-to-end tests and ``bench/stripe_to_netsuite.py``: the
emulators run in this process, syncwright's intake listens on a loopback port registered as the
Stripe webhook endpoint, and the config holds only ``file:`` references to generated secrets.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import stripe

from syncwright.api import create_api
from syncwright.config import load_settings
from syncwright.connectors.netsuite.client import NetSuiteClient, TbaCredentials
from syncwright.engine import Engine
from syncwright.intake.dispatcher import Dispatcher
from syncwright.intake.poller import Poller
from syncwright.runtime import Runtime
from syncwright.sandbox import FaultInjector, FaultPlan, ServerThread
from syncwright.sandbox._server import free_port
from syncwright.sandbox.netsuite import NetSuiteSandbox, sandbox_of
from syncwright.sandbox.netsuite import create_app as create_netsuite
from syncwright.sandbox.stripe import StripeState
from syncwright.sandbox.stripe import create_app as create_stripe

ACCOUNT = "TSTDRV1"
# Legal entities (Stripe customer metadata "subsidiary") -> the emulator's seeded subsidiaries.
SUBSIDIARIES = {"Parent Company": 1, "Syncwright UK Ltd": 2, "Syncwright GmbH": 3}
CURRENCIES = {"USD": 1, "GBP": 2, "EUR": 3}

CONFIG = """\
# Written by syncwright's billing sandbox. Secrets are file references (mode 0600).
database:
  url: sqlite:///{db}
engine:
  workers: {workers}
auth:
  tokens:
    - {{name: demo-operator, role: operator, secret: "file:secrets/demo_operator_token"}}
    - {{name: demo-viewer, role: viewer, secret: "file:secrets/demo_viewer_token"}}
connections:
{billing}{erp}{extra}"""

STRIPE_CONNECTION = """\
  stripe:
    vendor: stripe
    base_url: {stripe_url}
    credentials:
      api_key: "file:secrets/stripe_api_key"
    webhook:
      secrets: ["file:secrets/stripe_webhook_secret"]
    limits: {{timeout_seconds: 10, concurrency: 10, requests_per_second: 200}}
    options:
      role: billing
      poll_interval_seconds: {poll_interval}
      prices: {stripe_prices}
"""

NETSUITE_CONNECTION = """\
  netsuite:
    vendor: netsuite
    base_url: {netsuite_url}
    credentials:
      consumer_key: "file:secrets/ns_consumer_key"
      consumer_secret: "file:secrets/ns_consumer_secret"
      token_id: "file:secrets/ns_token_id"
      token_secret: "file:secrets/ns_token_secret"
    limits: {{timeout_seconds: {ns_timeout}, concurrency: {ns_concurrency}}}
    options:
      role: erp
      account: {account}
      subsidiaries: {subsidiaries}
      currencies: {currencies}
      default_item: 100
      tax_codes: {tax_codes}
{netsuite_options}"""


#: The demo's API tokens (console sign-in, curl): token name -> its secret file in secrets/.
DEMO_TOKENS = {"demo-operator": "demo_operator_token", "demo-viewer": "demo_viewer_token"}


def demo_token(workdir: Path, name: str) -> str:
    """The value of one of the demo's API tokens (written at start, mode 0600)."""
    return (workdir / "secrets" / DEMO_TOKENS[name]).read_text()


def _write_secret(path: Path, value: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(value)
    path.chmod(0o600)


@dataclass
class BillingWorld:
    workdir: Path
    config_path: Path
    stripe_state: StripeState
    stripe_server: ServerThread
    stripe: stripe.StripeClient
    netsuite_server: ServerThread
    netsuite: NetSuiteSandbox
    netsuite_faults: FaultInjector
    credentials: TbaCredentials
    api_port: int
    runtime: Runtime | None = None
    engine: Engine | None = None
    dispatcher: Dispatcher | None = None
    poller: Poller | None = None
    api: ServerThread | None = None
    extra_subsidiaries: dict[str, int] = field(default_factory=dict)
    settings_args: dict[str, Any] = field(default_factory=dict)
    #: More emulators a stack started (``demo/billing_side.py``, ``erp_side.py``): what to wait
    #: for before the world counts as settled (their pending webhooks), and what to stop.
    drains: list[Callable[[float], object]] = field(default_factory=list)
    closers: list[Callable[[], None]] = field(default_factory=list)

    # -- syncwright, (re)startable: a restart proves parked runs survive it --------------------
    def write_config(self) -> None:
        args = self.settings_args
        subsidiaries = {**SUBSIDIARIES, **self.extra_subsidiaries}
        billing = args.get("billing_section") or STRIPE_CONNECTION.format(
            stripe_url=self.stripe_server.url,
            poll_interval=args.get("poll_interval", 5),
            stripe_prices=json.dumps(args.get("stripe_prices", {})),
        )
        erp = args.get("erp_section") or NETSUITE_CONNECTION.format(
            netsuite_url=self.netsuite_server.url,
            ns_timeout=args.get("ns_timeout", 5),
            ns_concurrency=args.get("ns_concurrency", 5),
            account=ACCOUNT,
            subsidiaries="{" + ", ".join(f'"{k}": {v}' for k, v in subsidiaries.items()) + "}",
            currencies="{" + ", ".join(f"{k}: {v}" for k, v in CURRENCIES.items()) + "}",
            tax_codes=json.dumps(args.get("tax_codes", {})),
            # More options of the netsuite connection, each line indented six spaces.
            netsuite_options=args.get("netsuite_options", ""),
        )
        self.config_path.write_text(
            CONFIG.format(
                db=(self.workdir / "syncwright.db").resolve(),
                workers=args.get("workers", 16),
                # The billing system's and the ERP's connections: Stripe's and NetSuite's
                # unless a stack's adapter (``demo/billing_side.py``, ``erp_side.py``) set them.
                billing=billing,
                erp=erp,
                extra=args.get("extra_connections", ""),
            )
            # Top-level sections after connections: (e.g. reconciliation rules).
            + args.get("extra_sections", "")
        )

    def start_syncwright(self, *, poll: bool = True, dispatch: bool = True) -> Runtime:
        self.write_config()
        runtime = Runtime(load_settings(self.config_path))
        self.runtime = runtime
        self.engine = runtime.start_engine()
        self.dispatcher = Dispatcher(runtime)
        if dispatch:
            self.dispatcher.start()
        self.poller = Poller(runtime)
        if poll:
            self.poller.start()
        self.api = ServerThread(create_api(runtime, self.engine), port=self.api_port).start()
        return runtime

    def stop_syncwright(self) -> None:
        if self.poller is not None:
            self.poller.stop()
        if self.dispatcher is not None:
            self.dispatcher.stop()
        if self.api is not None:
            self.api.stop()
        if self.runtime is not None:
            self.runtime.close()
        self.runtime = self.engine = self.dispatcher = self.poller = self.api = None

    def close(self) -> None:
        self.stop_syncwright()
        self.stripe_state.close()
        self.stripe_server.stop()
        self.netsuite_server.stop()
        for close in reversed(self.closers):
            close()

    # -- observing ------------------------------------------------------------------------------
    def netsuite_client(self) -> NetSuiteClient:
        return NetSuiteClient(self.netsuite_server.url, ACCOUNT, self.credentials, timeout=30)

    def statuses(self) -> dict[str, int]:
        assert self.engine is not None
        counts: dict[str, int] = {}
        for status in self.engine.statuses().values():
            counts[status] = counts.get(status, 0) + 1
        return counts

    def settled(self) -> bool:
        """Nothing left to do but what waits for an operator: parked runs, and the later
        events of the same entities, held back so they still apply in order after the fix."""
        assert self.runtime is not None and self.engine is not None
        if self.runtime.inbox.count("pending"):
            return False
        unfinished = self.engine.unfinished()
        parked = {
            r.workflow_id
            for r in self.runtime.exceptions.list(status="open", limit=100_000)
            if r.workflow_id
        }
        blocked = {key for wid, (_, key) in unfinished.items() if wid in parked}
        return all(key in blocked for _, key in unfinished.values())

    def wait_netsuite_idle(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.netsuite.stats()["in_flight"] and time.monotonic() < deadline:
            time.sleep(0.1)

    def wait_settled(self, timeout: float = 300.0) -> None:
        assert self.runtime is not None
        deadline = time.monotonic() + timeout
        quiet = 0
        while quiet < 3:  # settled on three checks in a row: webhooks may still be in flight
            self.stripe_state.drain_webhooks(5)
            for drain in self.drains:
                drain(5)
            quiet = quiet + 1 if self.settled() else 0
            if time.monotonic() > deadline:
                raise TimeoutError(f"sync did not settle in {timeout}s: {self.statuses()}")
            time.sleep(0.3)


def start_billing_world(
    workdir: Path,
    *,
    netsuite_concurrency: int = 5,
    netsuite_faults: FaultPlan | None = None,
    workers: int = 16,
    ns_timeout: float = 5.0,
    poll_interval: float = 5.0,
) -> BillingWorld:
    workdir.mkdir(parents=True, exist_ok=True)
    stripe_key = "sk_test_" + secrets.token_hex(12)
    credentials = TbaCredentials(
        consumer_key=secrets.token_hex(32),
        consumer_secret=secrets.token_hex(32),
        token_id=secrets.token_hex(32),
        token_secret=secrets.token_hex(32),
    )
    stripe_state = StripeState(webhook_retry_base_seconds=0.2, webhook_max_attempts=8)
    stripe_server = ServerThread(create_stripe(stripe_state, api_key=stripe_key)).start()
    faults = FaultInjector(netsuite_faults or FaultPlan())
    netsuite_app = create_netsuite(
        account=ACCOUNT,
        credentials=credentials,
        concurrency_limit=netsuite_concurrency,
        faults=faults,
    )
    netsuite_server = ServerThread(netsuite_app).start()
    client = stripe.StripeClient(
        stripe_key, base_addresses={"api": stripe_server.url}, max_network_retries=2
    )
    api_port = free_port()
    endpoint = client.v1.webhook_endpoints.create(
        {"url": f"http://127.0.0.1:{api_port}/hooks/stripe", "enabled_events": ["*"]}
    )
    secrets_dir = workdir / "secrets"
    _write_secret(secrets_dir / "stripe_api_key", stripe_key)
    _write_secret(secrets_dir / "stripe_webhook_secret", str(endpoint.secret))
    for key in ("consumer_key", "consumer_secret", "token_id", "token_secret"):
        _write_secret(secrets_dir / f"ns_{key}", getattr(credentials, key))
    for filename in DEMO_TOKENS.values():
        _write_secret(secrets_dir / filename, secrets.token_urlsafe(24))
    return BillingWorld(
        workdir=workdir,
        config_path=workdir / "syncwright.yaml",
        stripe_state=stripe_state,
        stripe_server=stripe_server,
        stripe=client,
        netsuite_server=netsuite_server,
        netsuite=sandbox_of(netsuite_app),
        netsuite_faults=faults,
        credentials=credentials,
        api_port=api_port,
        settings_args={
            "workers": workers,
            "ns_concurrency": netsuite_concurrency,
            "ns_timeout": ns_timeout,
            "poll_interval": poll_interval,
        },
    )

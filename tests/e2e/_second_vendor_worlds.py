"""Single-vendor worlds for the end-to-end tests of the second vendors beyond the billing
story (``test_lifecycle_second_vendors.py``): Stripe -> Business Central (``open_world``) and
Chargebee -> NetSuite (the ``chargebee_world`` fixture). The billing story itself runs on every
stack in ``test_billing_stacks.py``."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import stripe

from syncwright.api import create_api
from syncwright.config import load_settings
from syncwright.demo.billing_world import BillingWorld, start_billing_world
from syncwright.engine import Engine
from syncwright.intake.dispatcher import Dispatcher
from syncwright.intake.poller import Poller
from syncwright.runtime import Runtime
from syncwright.sandbox import FaultInjector, FaultPlan, ServerThread
from syncwright.sandbox._server import free_port
from syncwright.sandbox._tls import make_self_signed_cert
from syncwright.sandbox.business_central import COMPANY_ID, BusinessCentralSandbox, sandbox_of
from syncwright.sandbox.business_central import create_app as create_bc
from syncwright.sandbox.chargebee import ChargebeeState, WebhookEndpoint, create_app
from syncwright.sandbox.stripe import StripeState
from syncwright.sandbox.stripe import create_app as create_stripe
from tests.connectors.chargebee._support import API_KEY

TENANT = "contoso.onmicrosoft.com"


@dataclass
class World:
    stripe_state: StripeState
    stripe: stripe.StripeClient
    bc: BusinessCentralSandbox
    runtime: Runtime
    engine: Engine

    def rows(self, entity_set: str) -> list[dict[str, Any]]:
        return self.bc.state.rows(self.bc.company_id, entity_set)

    def settled(self) -> bool:
        return self.runtime.inbox.count("pending") == 0 and not self.engine.unfinished()

    def wait_settled(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        quiet = 0
        while quiet < 3:  # three quiet checks in a row: webhooks may still be on their way
            self.stripe_state.drain_webhooks(5)
            quiet = quiet + 1 if self.settled() else 0
            if time.monotonic() > deadline:
                raise TimeoutError(f"did not settle: {self.engine.statuses()}")
            time.sleep(0.3)


@contextmanager
def open_world(
    tmp_path: Path,
    *,
    faults: FaultPlan | None = None,
    bc_options: str = "",
    bc_poll_seconds: int = 3600,
    sections: str = "",
) -> Iterator[World]:
    """Stripe and Business Central emulators with syncwright between them; ``bc_options`` adds
    lines under the Business Central connection's options, ``sections`` top-level config."""
    stripe_key = "sk_test_" + secrets.token_hex(12)
    stripe_state = StripeState(webhook_retry_base_seconds=0.2, webhook_max_attempts=8)
    client_id, client_secret = secrets.token_hex(16), secrets.token_urlsafe(24)
    certfile, keyfile = make_self_signed_cert(tmp_path / "tls")
    faults = FaultInjector(faults or FaultPlan())
    bc_app = create_bc(
        tenant=TENANT, client_id=client_id, client_secret=client_secret, faults=faults
    )
    api_port = free_port()
    with (
        ServerThread(create_stripe(stripe_state, api_key=stripe_key)) as stripe_server,
        ServerThread(bc_app, certfile=certfile, keyfile=keyfile) as bc_server,
    ):
        client = stripe.StripeClient(stripe_key, base_addresses={"api": stripe_server.url})
        endpoint = client.v1.webhook_endpoints.create(
            {"url": f"http://127.0.0.1:{api_port}/hooks/stripe", "enabled_events": ["*"]}
        )
        folder = tmp_path / "secrets"
        folder.mkdir()
        for name, value in {
            "stripe_key": stripe_key,
            "stripe_webhook": str(endpoint.secret),
            "bc_client_id": client_id,
            "bc_client_secret": client_secret,
            "bc_webhook": secrets.token_hex(16),
        }.items():
            (folder / name).write_text(value)
        config = tmp_path / "syncwright.yaml"
        config.write_text(
            f"""\
database: {{url: "sqlite:///{tmp_path / "sync.db"}"}}
engine: {{workers: 8}}
connections:
  stripe:
    vendor: stripe
    base_url: {stripe_server.url}
    credentials: {{api_key: "file:secrets/stripe_key"}}
    webhook: {{secrets: ["file:secrets/stripe_webhook"]}}
    options: {{role: billing, poll_interval_seconds: 1}}
  bc:
    vendor: business_central
    base_url: {bc_server.url}
    credentials:
      client_id: "file:secrets/bc_client_id"
      client_secret: "file:secrets/bc_client_secret"
    webhook: {{secrets: ["file:secrets/bc_webhook"]}}
    limits: {{timeout_seconds: 2}}
    options:
      role: erp
      tenant: {TENANT}
      company_id: {COMPANY_ID}
      login_url: {bc_server.url}
      ca_file: {certfile}
      default_item: SW-PRO
      tax_areas: {{default: UK-ZERO}}
      poll_interval_seconds: {bc_poll_seconds}
{bc_options}{sections}reconciliation:
  - {{name: invoices, check: invoices, schedule: 1h, compare: [stripe, bc]}}
  - {{name: contracts, check: subscriptions, schedule: 1h, compare: [stripe, bc]}}
"""
        )
        runtime = Runtime(load_settings(config))
        engine = runtime.start_engine()
        dispatcher, poller = Dispatcher(runtime), Poller(runtime)
        dispatcher.start()
        poller.start()
        api = ServerThread(create_api(runtime, engine), port=api_port).start()
        try:
            yield World(stripe_state, client, sandbox_of(bc_app), runtime, engine)
        finally:
            poller.stop()
            dispatcher.stop()
            api.stop()
            runtime.close()
            stripe_state.close()


HOOK_USER, HOOK_PASSWORD = "syncwright", "e2e-hook-password"

RULES = """
reconciliation:
  - {name: invoices, check: invoices, schedule: 1h, compare: [chargebee, netsuite]}
  - {name: contracts, check: subscriptions, schedule: 1h, compare: [chargebee, netsuite]}
"""

CHARGEBEE_CONNECTION = """\
  chargebee:
    vendor: chargebee
    base_url: {url}
    credentials:
      api_key: "file:secrets/chargebee_api_key"
    webhook:
      secrets: ["file:secrets/chargebee_webhook_auth"]
    limits: {{timeout_seconds: 10, concurrency: 10, requests_per_second: 200}}
    options:
      role: billing
      poll_interval_seconds: 1
      default_subsidiary: Parent Company
"""


@pytest.fixture
def chargebee_world(tmp_path: Path) -> Iterator[tuple[BillingWorld, ChargebeeState, ServerThread]]:
    world = start_billing_world(tmp_path / "world", poll_interval=1.0, ns_timeout=5.0)
    state = ChargebeeState()
    server = ServerThread(create_app(state, api_key=API_KEY)).start()
    secrets = world.workdir / "secrets"
    (secrets / "chargebee_api_key").write_text(API_KEY)
    (secrets / "chargebee_webhook_auth").write_text(f"{HOOK_USER}:{HOOK_PASSWORD}")
    world.settings_args["extra_connections"] = CHARGEBEE_CONNECTION.format(url=server.url)
    world.settings_args["extra_sections"] = RULES
    state.webhooks.configure(
        WebhookEndpoint(
            f"http://127.0.0.1:{world.api_port}/hooks/chargebee", HOOK_USER, HOOK_PASSWORD
        )
    )
    try:
        yield world, state, server
    finally:
        world.close()
        server.stop()
        state.close()

"""Fixtures for the Stripe connector tests: the Stripe emulator on a loopback port, the official
SDK pointed at it, and a real Runtime (SQLite) whose Stripe connection talks to the emulator."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import stripe

from syncwright.config import load_settings
from syncwright.connectors.stripe.connector import StripeConnector
from syncwright.engine import StepContext
from syncwright.runtime import Runtime
from syncwright.sandbox import FaultInjector, ServerThread
from syncwright.sandbox.stripe import StripeState, create_app
from tests.connectors.stripe._support import (
    API_KEY,
    CONNECTION,
    RuntimeFactory,
    write_stripe_config,
)


@pytest.fixture
def stripe_state() -> Iterator[StripeState]:
    state = StripeState(webhook_retry_base_seconds=0.05, webhook_max_attempts=3)
    yield state
    state.close()


@pytest.fixture
def stripe_faults() -> FaultInjector:
    return FaultInjector()


@pytest.fixture
def stripe_server(
    stripe_state: StripeState, stripe_faults: FaultInjector
) -> Iterator[ServerThread]:
    server = ServerThread(create_app(stripe_state, api_key=API_KEY, faults=stripe_faults)).start()
    yield server
    server.stop()


@pytest.fixture
def sdk(stripe_server: ServerThread) -> stripe.StripeClient:
    # Base URL only: everything else is the SDK's default behaviour.
    return stripe.StripeClient(
        API_KEY, base_addresses={"api": stripe_server.url}, max_network_retries=0
    )


@pytest.fixture
def make_runtime(tmp_path: Path, stripe_server: ServerThread) -> Iterator[RuntimeFactory]:
    """Build a real Runtime from a syncwright.yaml written for the emulator."""
    made: list[Runtime] = []

    def make(**kwargs: Any) -> Runtime:
        directory = tmp_path / f"rt{len(made)}"
        directory.mkdir()
        kwargs.setdefault("base_url", stripe_server.url)
        runtime = Runtime(load_settings(write_stripe_config(directory, **kwargs)))
        made.append(runtime)
        return runtime

    yield make
    for runtime in made:
        runtime.close()


@pytest.fixture
def runtime(make_runtime: RuntimeFactory) -> Runtime:
    return make_runtime(webhook_secrets=["whsec_connector_test_secret"])


@pytest.fixture
def connector(runtime: Runtime) -> StripeConnector:
    found = runtime.connection(CONNECTION)
    assert isinstance(found, StripeConnector)
    return found


# -- outbound actions (test_stripe_outbound_*) -----------------------------------------------

StepContextFactory = Callable[..., StepContext]


@pytest.fixture
def step_ctx() -> StepContextFactory:
    """Real step contexts for calling actions directly: ``step_ctx(runtime, step=..., ...)``.
    Contexts with the same ``workflow_id`` and ``step`` share an idempotency key."""
    counter = itertools.count(1)

    def make(
        runtime: Runtime,
        *,
        step: str = "stripe.step",
        workflow_id: str | None = None,
        timeout_seconds: float = 5.0,
    ) -> StepContext:
        n = next(counter)
        return StepContext(
            workflow_id=workflow_id or f"wf-stripe-out-{n}",
            workflow="test.stripe_outbound",
            step=step,
            attempt=1,
            correlation_id=f"cor-stripe-out-{n}",
            entity_key=f"test:{n}",
            timeout_seconds=timeout_seconds,
            services=runtime,
        )

    return make


@dataclass
class Catalog:
    """Stripe prices made with the official SDK, and the canonical ids mapped to them."""

    pro: str  # 30.00 USD a month
    seat: str  # 5.00 USD a month
    yearly: str  # 300.00 USD a year
    product: str


@pytest.fixture
def catalog(sdk: stripe.StripeClient) -> Catalog:
    product = sdk.v1.products.create({"name": "Pro"})

    def price(amount: int, interval: str = "month") -> str:
        made = sdk.v1.prices.create(
            {
                "product": product.id,
                "currency": "usd",
                "unit_amount": amount,
                "recurring": {"interval": interval},
            }
        )
        return str(made.id)

    return Catalog(
        pro=price(3000), seat=price(500), yearly=price(30000, "year"), product=product.id
    )


@pytest.fixture
def billing(make_runtime: RuntimeFactory, catalog: Catalog) -> Runtime:
    return make_runtime(
        options={
            "default_subsidiary": "US-1",
            "prices": {
                "price_gid_pro": catalog.pro,  # keyed by the canonical price id
                "CRM-SEAT": catalog.seat,  # keyed by the price's native id in another system
                "prod_gid_annual": catalog.yearly,  # keyed by the canonical product id
            },
        }
    )


def account(gid: str = "acct_gid_1", *, email: str | None = "ap@acme.test") -> dict[str, Any]:
    return {
        "global_id": gid,
        "name": "Acme Corp",
        "billing_email": email,
        "subsidiary": "US-1",
        "bill_to": {
            "line1": "1 Main St",
            "city": "Springfield",
            "region": "IL",
            "postal_code": "62701",
            "country": "US",
        },
    }


def subscription(
    gid: str = "sub_gid_1",
    account_id: str = "acct_gid_1",
    items: list[tuple[str, str | None, int, int]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """``items``: (price id, product id, quantity, unit amount in cents)."""
    lines = items or [("price_gid_pro", "prod_gid_pro", 2, 3000)]
    return {
        "global_id": gid,
        "account_id": account_id,
        "plan_id": lines[0][1] or "prod_gid_pro",
        "status": "active",
        "currency": "USD",
        "term_start": "2026-01-01",
        "billing_frequency": "monthly",
        "items": [
            {
                "global_id": f"{gid}_item_{n}",
                "price_id": price,
                "product_id": product,
                "quantity": quantity,
                "unit_amount": {"amount_minor": amount, "currency": "USD"},
            }
            for n, (price, product, quantity, amount) in enumerate(lines)
        ],
        **extra,
    }


def run(runtime: Runtime, ctx: Any, action: str, *args: Any) -> dict[str, Any]:
    result: dict[str, Any] = (
        runtime.connection(CONNECTION).action(action).run(ctx, CONNECTION, *args)
    )
    return result

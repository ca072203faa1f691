"""Fixtures for the Stripe emulator tests: the emulator on a loopback port, the official SDK
pointed at it by base URL only, and a webhook receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import stripe
from fastapi import FastAPI, Request, Response

from syncwright.sandbox import FaultInjector, ServerThread
from syncwright.sandbox.stripe import StripeState, create_app

API_KEY = "sk_test_syncwright_emulator"


@pytest.fixture
def stripe_state() -> Iterator[StripeState]:
    state = StripeState(webhook_retry_base_seconds=0.05, webhook_max_attempts=5)
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
def stripe_client(stripe_server: ServerThread) -> stripe.StripeClient:
    # Base URL only: everything else is the SDK's default behaviour.
    return stripe.StripeClient(
        API_KEY, base_addresses={"api": stripe_server.url}, max_network_retries=0
    )


@dataclass
class Catalog:
    product: Any
    monthly: Any
    monthly_big: Any
    yearly: Any


@pytest.fixture
def catalog(stripe_client: stripe.StripeClient) -> Catalog:
    product = stripe_client.v1.products.create({"name": "Pro plan"})
    monthly = stripe_client.v1.prices.create(
        {
            "product": product.id,
            "currency": "usd",
            "unit_amount": 3000,
            "recurring": {"interval": "month"},
        }
    )
    monthly_big = stripe_client.v1.prices.create(
        {
            "product": product.id,
            "currency": "usd",
            "unit_amount": 9000,
            "recurring": {"interval": "month"},
        }
    )
    yearly = stripe_client.v1.prices.create(
        {
            "product": product.id,
            "currency": "usd",
            "unit_amount": 30000,
            "recurring": {"interval": "year"},
        }
    )
    return Catalog(product, monthly, monthly_big, yearly)


@dataclass
class Receiver:
    """A webhook receiver: records every delivery; can fail the first N with a status."""

    url: str
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    fail_first: int = 0
    fail_status: int = 500
    lock: threading.Lock = field(default_factory=threading.Lock)

    def accepted(self) -> list[dict[str, Any]]:
        with self.lock:
            return [d for d in self.deliveries if d["answered"] == 200]

    def event_ids(self) -> list[str]:
        """Ids of the deliveries answered 2xx, in arrival order (duplicates included)."""
        return [d["json"]["id"] for d in self.accepted()]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    app = FastAPI()
    box: dict[str, Receiver] = {}

    @app.post("/hooks/stripe")
    async def hook(request: Request) -> Response:
        rec = box["receiver"]
        body = await request.body()
        with rec.lock:
            attempt = {
                "body": body,
                "json": json.loads(body),
                "signature": request.headers.get("stripe-signature"),
                "user_agent": request.headers.get("user-agent"),
            }
            if rec.fail_first > 0:
                rec.fail_first -= 1
                attempt["answered"] = rec.fail_status
                rec.deliveries.append(attempt)
                return Response(status_code=rec.fail_status)
            attempt["answered"] = 200
            rec.deliveries.append(attempt)
        return Response('{"received": true}', media_type="application/json")

    server = ServerThread(app).start()
    box["receiver"] = Receiver(url=f"{server.url}/hooks/stripe")
    yield box["receiver"]
    server.stop()

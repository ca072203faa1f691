"""``/_sandbox/...``: switches for tests and demos (not part of Stripe's API, no auth).

Every switch has a Python twin on :class:`~syncwright.sandbox.stripe.StripeState` (or on the
``FaultInjector`` passed to ``create_app``), so in-process tests need not go through HTTP.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from syncwright.sandbox._admin_bodies import FaultPlanBody, PaymentBehaviourBody

from ._webhooks import WebhookFaults

if TYPE_CHECKING:
    from ._app import Gateway

router = APIRouter(prefix="/_sandbox", tags=["sandbox"])


def _gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


class RateLimitBody(BaseModel):
    per_second: float | None = Field(None, gt=0)


class WebhookFaultsBody(BaseModel):
    duplicate_rate: float = Field(0.0, ge=0, le=1)
    shuffle_window: int = Field(0, ge=0)
    drop_rate: float = Field(0.0, ge=0, le=1)
    drop_next: int = Field(0, ge=0)
    seed: int | None = None


@router.get("/health")
def health() -> dict[str, Any]:
    return {"ok": True, "emulates": "stripe"}


@router.post("/reset")
def reset(request: Request) -> dict[str, Any]:
    _gateway(request).state.reset()
    return {"ok": True}


@router.get("/faults")
def get_faults(request: Request) -> dict[str, Any]:
    faults = _gateway(request).faults
    plan = faults.plan
    return {
        "plan": {
            "latency_ms": plan.latency_ms,
            "error_5xx_rate": plan.error_5xx_rate,
            "timeout_rate": plan.timeout_rate,
            "lost_response_rate": plan.lost_response_rate,
            "stall_seconds": plan.stall_seconds,
            "only_methods": sorted(plan.only_methods),
            "seed": plan.seed,
        },
        "injected": dict(faults.injected),
    }


@router.post("/faults")
def set_faults(request: Request, body: FaultPlanBody) -> dict[str, Any]:
    plan = body.plan()
    _gateway(request).faults.configure(plan)
    return get_faults(request)


@router.post("/rate_limit")
def set_rate_limit(request: Request, body: RateLimitBody) -> dict[str, Any]:
    _gateway(request).set_rate_limit(body.per_second)
    return {"per_second": body.per_second}


@router.post("/webhooks/faults")
def set_webhook_faults(request: Request, body: WebhookFaultsBody) -> dict[str, Any]:
    _gateway(request).state.configure_webhooks(WebhookFaults(**body.model_dump()))
    return body.model_dump()


@router.post("/webhooks/pause")
def pause_webhooks(request: Request) -> dict[str, Any]:
    _gateway(request).state.pause_webhooks()
    return {"paused": True}


@router.post("/webhooks/resume")
def resume_webhooks(request: Request) -> dict[str, Any]:
    _gateway(request).state.resume_webhooks()
    return {"paused": False}


@router.post("/webhooks/drain")
async def drain_webhooks(request: Request, timeout: float = 10.0) -> dict[str, Any]:
    state = _gateway(request).state
    drained = await asyncio.to_thread(state.drain_webhooks, timeout)
    return {"drained": drained, "pending": state.webhooks.pending()}


@router.get("/webhooks/deliveries")
def webhook_deliveries(request: Request) -> dict[str, Any]:
    records = _gateway(request).state.webhook_deliveries()
    return {"data": [r.to_dict() for r in records]}


@router.post("/customers/{customer_id}/payment_behavior")
def set_payment_behaviour(
    request: Request, customer_id: str, body: PaymentBehaviourBody
) -> dict[str, Any]:
    _gateway(request).state.set_payment_behaviour(customer_id, body.behavior)
    return {"customer": customer_id, "behavior": body.behavior}

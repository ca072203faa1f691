"""``/_sandbox/...``: switches for tests and demos (not Chargebee's API, no auth)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from syncwright.sandbox._admin_bodies import FaultPlanBody, PaymentBehaviourBody

from ._objects import ChargebeeAPIError
from ._webhooks import WebhookEndpoint

if TYPE_CHECKING:
    from ._app import Gateway

router = APIRouter(prefix="/_sandbox", tags=["sandbox"])


def _gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


class RateLimitBody(BaseModel):
    per_minute: int | None = Field(None, gt=0)
    window_seconds: float = Field(60.0, gt=0)


class WebhookBody(BaseModel):
    url: str
    username: str | None = None
    password: str | None = None


@router.get("/health")
def health() -> dict[str, Any]:
    return {"ok": True, "emulates": "chargebee"}


@router.post("/reset")
def reset(request: Request) -> dict[str, Any]:
    _gateway(request).state.reset()
    return {"ok": True}


@router.get("/stats")
def stats(request: Request) -> dict[str, Any]:
    state = _gateway(request).state
    with state.lock:
        return {
            "customers": len(state.customers),
            "subscriptions": len(state.subscriptions),
            "invoices": len(state.invoices),
            "credit_notes": len(state.credit_notes),
            "transactions": len(state.transactions),
            "events": len(state.events),
            "writes": state.writes,
            "faults_injected": dict(_gateway(request).faults.injected),
        }


@router.post("/faults")
def set_faults(request: Request, body: FaultPlanBody) -> dict[str, Any]:
    plan = body.plan()
    _gateway(request).faults.configure(plan)
    return {"ok": True}


@router.post("/rate_limit")
def set_rate_limit(request: Request, body: RateLimitBody) -> dict[str, Any]:
    _gateway(request).set_rate_limit(body.per_minute, body.window_seconds)
    return body.model_dump()


@router.post("/webhooks")
def set_webhook(request: Request, body: WebhookBody) -> dict[str, Any]:
    """The webhook endpoint, with the basic-auth credentials Chargebee sends to it."""
    _gateway(request).state.webhooks.configure(WebhookEndpoint(**body.model_dump()))
    return {"url": body.url, "basic_auth": body.username is not None}


@router.post("/webhooks/drop_next")
def drop_next(request: Request, count: int = 1) -> dict[str, Any]:
    sender = _gateway(request).state.webhooks
    sender.drop_next = count
    return {"drop_next": count}


@router.post("/webhooks/pause")
def pause(request: Request) -> dict[str, Any]:
    _gateway(request).state.webhooks.pause()
    return {"paused": True}


@router.post("/webhooks/resume")
def resume(request: Request) -> dict[str, Any]:
    _gateway(request).state.webhooks.resume()
    return {"paused": False}


@router.post("/webhooks/drain")
async def drain(request: Request, timeout: float = 10.0) -> dict[str, Any]:
    sender = _gateway(request).state.webhooks
    drained = await asyncio.to_thread(sender.drain, timeout)
    return {"drained": drained, "pending": sender.pending()}


@router.get("/webhooks/deliveries")
def deliveries(request: Request) -> dict[str, Any]:
    return {"data": [r.to_dict() for r in _gateway(request).state.webhooks.records]}


@router.post("/customers/{customer_id}/payment_behavior")
def payment_behaviour(request: Request, customer_id: str, body: PaymentBehaviourBody) -> Any:
    _gateway(request).state.set_payment_behaviour(customer_id, body.behavior)
    return {"customer": customer_id, "behavior": body.behavior}


@router.post("/subscriptions/{subscription_id}/renew")
def renew(request: Request, subscription_id: str) -> Any:
    """The current term ends now: renewal (or trial end), a new invoice, its payment."""
    try:
        return _gateway(request).state.renew(subscription_id)
    except ChargebeeAPIError as exc:
        return JSONResponse(exc.body, exc.status)

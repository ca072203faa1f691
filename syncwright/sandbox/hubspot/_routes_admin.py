"""``/_sandbox``: the emulator's own admin API for tests and demos (never HubSpot's).

- ``POST /_sandbox/reset``: empty portal, limits and webhook queue.
- ``GET /_sandbox/stats``: requests by route and status, rate-limit and webhook counters.
- ``POST /_sandbox/faults``: a :class:`~syncwright.sandbox.FaultPlan` as JSON.
- ``POST /_sandbox/rate-limit``: ``{"storm": N, "policy": "TEN_SECONDLY_ROLLING"|"DAILY"|
  "SECONDLY"}`` answers the next N calls with 429; ``{"daily_used": N}`` sets today's usage.
- ``POST /_sandbox/webhooks``: ``{"target_url", "subscriptions": [{"eventType",
  "propertyName"}], "paused"}`` -- the app's webhook settings without the developer key.
- ``GET /_sandbox/webhooks/pending``: events not delivered yet.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from syncwright.sandbox._faults import FaultPlan
from syncwright.sandbox.hubspot import _errors as err
from syncwright.sandbox.hubspot._context import emulator, json_body

router = APIRouter(prefix="/_sandbox")


@router.post("/reset")
def reset(request: Request) -> Any:
    emulator(request).reset()
    return {"reset": True}


@router.get("/stats")
def stats(request: Request) -> Any:
    em = emulator(request)
    hooks = em.webhooks.stats
    return {
        **em.stats.as_dict(),
        "rate_limited": em.limiter.rejected,
        "daily_used": em.limiter.daily_used,
        "faults": dict(em.faults.injected),
        "webhooks": {
            "events": hooks.events,
            "sent": hooks.sent,
            "delivered": hooks.delivered,
            "failed_attempts": hooks.failed_attempts,
            "pending": len(em.webhooks.pending()),
        },
    }


@router.post("/faults")
async def faults(request: Request) -> Any:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise err.validation("a FaultPlan object is required")
    values: dict[str, Any] = dict(body)
    if "only_methods" in values:
        values["only_methods"] = frozenset(values["only_methods"])
    try:
        plan = FaultPlan(**values)
    except TypeError as exc:
        raise err.validation(f"not a FaultPlan: {exc}") from exc
    emulator(request).faults.configure(plan)
    return {"configured": True}


@router.post("/rate-limit")
async def rate_limit(request: Request) -> Any:
    body = await json_body(request)
    limiter = emulator(request).limiter
    if not isinstance(body, dict):
        raise err.validation("an object is required")
    if "storm" in body:
        limiter.storm(int(body["storm"]), str(body.get("policy") or "TEN_SECONDLY_ROLLING"))
    if "daily_used" in body:
        limiter.use_daily(int(body["daily_used"]))
    return {"daily_used": limiter.daily_used}


@router.post("/webhooks")
async def webhooks(request: Request) -> Any:
    body = await json_body(request)
    hooks = emulator(request).webhooks
    if not isinstance(body, dict):
        raise err.validation("an object is required")
    if "target_url" in body:
        hooks.target_url = body["target_url"]
    for sub in body.get("subscriptions") or []:
        hooks.subscribe(str(sub["eventType"]), sub.get("propertyName"))
    if "paused" in body:
        hooks.paused = bool(body["paused"])
    return {"subscriptions": [s.as_json() for s in hooks.subscriptions]}


@router.get("/webhooks/pending")
def pending(request: Request) -> Any:
    return {"events": emulator(request).webhooks.pending()}

"""The sandbox's own admin API under ``/_sandbox/`` (no auth, no rate limit, no faults).

- ``GET  /_sandbox/stats``             request, rate-limit, fault and delivery counters
- ``GET  /_sandbox/faults``            the fault plan and any 429 storm left
- ``PUT  /_sandbox/faults``            change the plan (fields of ``FaultPlan``, partial) and/or
  start a storm: ``{"rate_limit_storm": {"requests": 5, "retry_after": 2}}``
- ``POST /_sandbox/reset``             forget all records, webhooks and counters; clear faults
- ``POST /_sandbox/webhooks/drain``    wait (``?timeout=`` seconds) until deliveries are done
- ``GET  /_sandbox/deliveries``        every webhook invocation with its attempts
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, replace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from syncwright.sandbox._faults import FaultPlan
from syncwright.sandbox._stats import RequestStats
from syncwright.sandbox.zendesk._context import emulator, respond

router = APIRouter(prefix="/_sandbox")


class RateLimitStorm(BaseModel):
    requests: int = Field(ge=0)
    retry_after: int = Field(default=1, ge=0)


class FaultsUpdate(BaseModel):
    latency_ms: float | None = Field(default=None, ge=0)
    error_5xx_rate: float | None = Field(default=None, ge=0, le=1)
    timeout_rate: float | None = Field(default=None, ge=0, le=1)
    lost_response_rate: float | None = Field(default=None, ge=0, le=1)
    stall_seconds: float | None = Field(default=None, ge=0)
    only_methods: list[str] | None = None
    seed: int | None = None
    rate_limit_storm: RateLimitStorm | None = None


def _plan_dict(plan: FaultPlan) -> dict[str, Any]:
    data = asdict(plan)
    data["only_methods"] = sorted(plan.only_methods)
    return data


@router.get("/stats")
async def stats(request: Request) -> JSONResponse:
    em = emulator(request)
    with em.state.lock:
        counts = {
            "organizations": len(em.state.organizations),
            "users": len(em.state.users),
            "tickets": len(em.state.tickets),
            "webhooks": len(em.state.webhooks),
        }
    return respond(
        {
            **em.stats.as_dict(),
            "rate_limited": em.limiter.rejected,
            "faults_injected": dict(em.faults.injected),
            "webhook_deliveries": {
                **em.dispatcher.stats.as_dict(),
                "pending": em.state.deliveries.pending,
            },
            "records": counts,
        }
    )


@router.get("/faults")
async def get_faults(request: Request) -> JSONResponse:
    em = emulator(request)
    return respond({**_plan_dict(em.faults.plan), "rate_limit_storm_left": em.limiter.storm_left})


@router.put("/faults")
@router.post("/faults")
async def set_faults(request: Request, update: FaultsUpdate) -> JSONResponse:
    em = emulator(request)
    changes = update.model_dump(exclude_none=True, exclude={"rate_limit_storm"})
    if "only_methods" in changes:
        changes["only_methods"] = frozenset(m.upper() for m in changes["only_methods"])
    em.faults.configure(replace(em.faults.plan, **changes))
    if update.rate_limit_storm is not None:
        em.limiter.storm(update.rate_limit_storm.requests, update.rate_limit_storm.retry_after)
    return respond({**_plan_dict(em.faults.plan), "rate_limit_storm_left": em.limiter.storm_left})


@router.post("/reset")
async def reset(request: Request) -> JSONResponse:
    em = emulator(request)
    em.state.reset()
    em.faults.configure(FaultPlan())
    em.faults.injected = {kind: 0 for kind in em.faults.injected}
    em.limiter.reset()
    em.stats = RequestStats()
    em.dispatcher.stats = type(em.dispatcher.stats)()
    return respond({"reset": True})


@router.post("/webhooks/drain")
async def drain(request: Request) -> JSONResponse:
    em = emulator(request)
    timeout = float(request.query_params.get("timeout", "10"))
    drained = await asyncio.to_thread(em.wait_for_deliveries, timeout)
    return respond({"drained": drained, "pending": em.state.deliveries.pending})


@router.get("/deliveries")
async def deliveries(request: Request) -> JSONResponse:
    state = emulator(request).state
    with state.lock:
        rows = [
            {**invocation, "attempts": [dict(a) for a in invocation["attempts"]]}
            for invocation_list in state.invocations.values()
            for invocation in invocation_list
        ]
    return respond({"deliveries": rows})

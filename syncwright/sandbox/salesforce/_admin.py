"""``/_sandbox/...``: the emulator's own control API (not part of Salesforce).

Faults, API-usage counters, session expiry, state reset, stats, custom fields, undelete, and
Change Data Capture replay and push subscriptions.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from .._faults import FaultInjector, FaultPlan
from ._cdc import REPLAY_ALL, REPLAY_NEW
from ._errors import SalesforceApiError
from ._schema import CustomField
from ._state import SalesforceState


class FaultPlanBody(BaseModel):
    latency_ms: float = 0.0
    error_5xx_rate: float = Field(0.0, ge=0, le=1)
    timeout_rate: float = Field(0.0, ge=0, le=1)
    lost_response_rate: float = Field(0.0, ge=0, le=1)
    stall_seconds: float = 30.0
    only_methods: list[str] = Field(default_factory=lambda: ["POST", "PUT", "PATCH", "DELETE"])
    seed: int | None = None


class LimitsBody(BaseModel):
    used: int = Field(0, ge=0)
    max: int | None = Field(None, ge=0)


class SubscriberBody(BaseModel):
    url: str
    replayId: int = Field(REPLAY_NEW, ge=REPLAY_ALL)
    entities: list[str] | None = None


class FieldBody(BaseModel):
    object: str
    name: str
    type: str = "string"
    length: int | None = None
    required: bool = False
    externalId: bool = False
    unique: bool = False
    caseSensitive: bool = False
    picklistValues: list[str] = Field(default_factory=list)
    referenceTo: list[str] = Field(default_factory=list)


class ManagedSubscriptionBody(BaseModel):
    developer_name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,79}$")
    topic: str = Field(default="/data/ChangeEvents", pattern=r"^/data/[A-Za-z0-9_]+$")
    default_replay: Literal["LATEST", "EARLIEST"] = "LATEST"


def _plan_json(plan: FaultPlan) -> dict[str, Any]:
    data = dataclasses.asdict(plan)
    data["only_methods"] = sorted(plan.only_methods)
    return data


def admin_router(state: SalesforceState, faults: FaultInjector) -> APIRouter:
    router = APIRouter(prefix="/_sandbox", tags=["sandbox"])

    @router.get("/stats")
    def stats() -> dict[str, Any]:
        return {**state.stats(), "faults": {"plan": _plan_json(faults.plan), **faults.injected}}

    @router.post("/reset")
    def reset() -> dict[str, Any]:
        state.reset()
        return {"ok": True}

    @router.get("/faults")
    def get_faults() -> dict[str, Any]:
        return _plan_json(faults.plan)

    @router.put("/faults")
    @router.post("/faults")
    def set_faults(body: FaultPlanBody) -> dict[str, Any]:
        plan = FaultPlan(
            **{**body.model_dump(), "only_methods": frozenset(m.upper() for m in body.only_methods)}
        )
        faults.configure(plan)
        return _plan_json(plan)

    @router.post("/limits")
    @router.post("/limits/reset")
    def set_limits(body: LimitsBody | None = None) -> dict[str, Any]:
        body = body or LimitsBody()
        state.reset_api_usage(body.used, body.max)
        return {"used": state.api_used, "max": state.daily_api_limit}

    @router.post("/sessions/revoke")
    def revoke_sessions() -> dict[str, Any]:
        return {"revoked": state.revoke_tokens()}

    @router.post("/fields", status_code=201)
    def declare_field(body: FieldBody) -> dict[str, Any]:
        try:
            definition = state.declare_field(
                CustomField(
                    object=body.object,
                    name=body.name,
                    type=body.type,
                    length=body.length,
                    required=body.required,
                    external_id=body.externalId,
                    unique=body.unique,
                    case_sensitive=body.caseSensitive,
                    picklist_values=tuple(body.picklistValues),
                    reference_to=tuple(body.referenceTo),
                )
            )
        except (ValueError, KeyError) as exc:
            raise HTTPException(400, str(exc)) from exc
        return definition.describe()

    @router.post("/sobjects/{object_name}/{record_id}/undelete")
    def undelete(object_name: str, record_id: str) -> dict[str, Any]:
        try:
            state.restore(object_name, record_id)
        except KeyError as exc:
            raise HTTPException(404, str(exc)) from exc
        except SalesforceApiError as exc:
            raise HTTPException(exc.status, exc.body()) from exc
        return {"id": record_id, "success": True}

    @router.post("/managed-subscriptions", status_code=201)
    def create_managed_subscription(body: ManagedSubscriptionBody) -> dict[str, Any]:
        """Stands in for the Tooling API's ManagedEventSubscription create."""
        try:
            found = state.managed.create(body.developer_name, body.topic, body.default_replay)
        except ValueError as exc:
            raise HTTPException(409, str(exc)) from exc
        return found.as_json()

    @router.get("/managed-subscriptions")
    def list_managed_subscriptions() -> list[dict[str, Any]]:
        return [s.as_json() for s in state.managed.list()]

    @router.get("/cdc/subscribers")
    def list_subscribers() -> list[dict[str, Any]]:
        return [s.to_json() for s in state.pusher.subscribers()]

    @router.post("/cdc/subscribers", status_code=201)
    def add_subscriber(body: SubscriberBody) -> dict[str, Any]:
        if not body.url.startswith(("http://", "https://")):
            raise HTTPException(400, "url must be http(s)")
        return state.pusher.add(body.url, replay_id=body.replayId, entities=body.entities).to_json()

    @router.delete("/cdc/subscribers/{sub_id}", status_code=204)
    def remove_subscriber(sub_id: str) -> None:
        if not state.pusher.remove(sub_id):
            raise HTTPException(404, f"no subscriber {sub_id}")

    return router

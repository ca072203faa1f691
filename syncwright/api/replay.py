"""``POST /api/v1/replay``: replay stored deliveries, or (``dry_run``) show what would change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from syncwright.api.auth import OperatorPrincipal
from syncwright.engine import EngineClient
from syncwright.mapping import CompiledMapping
from syncwright.replay import (
    MAX_REPLAY,
    CannotReplayFromStep,
    ReplayFilter,
    plan_delivery,
    replay_delivery,
    replay_from_step,
    select_deliveries,
)
from syncwright.runtime import Runtime


class ReplayRequest(BaseModel):
    inbox_id: int | None = None
    correlation_id: str | None = None
    connection: str | None = None
    event_type: str | None = None
    status: str | None = None
    entity_key: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = Field(default=1000, ge=1, le=MAX_REPLAY)
    from_step: str | None = None
    """Run each finished workflow of the deliveries again from this step."""
    dry_run: bool = False
    mapping: str | None = None
    """Normalize with this mapping version (``name@version``) instead of the configured one."""


def chosen_mapping(
    runtime: Runtime, ref: str | None, from_step: str | None
) -> CompiledMapping | None:
    if ref is None:
        return None
    if from_step is not None:
        raise HTTPException(
            422,
            "mapping and from_step do not combine: a replay from a step keeps the events "
            "its runs were started with",
        )
    try:
        return runtime.mappings.version(ref)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from exc


def build_replay_router(runtime: Runtime) -> APIRouter:
    """Replays are recorded in the ledger under the calling token's name (the actor)."""
    router = APIRouter(prefix="/api/v1/replay", tags=["replay"])

    def act(body: ReplayRequest, actor: str) -> dict[str, Any]:
        wanted = ReplayFilter(**body.model_dump(exclude={"dry_run", "from_step", "mapping"}))
        if wanted.is_empty():
            raise HTTPException(422, "say what to replay: give at least one filter field")
        mapping = chosen_mapping(runtime, body.mapping, body.from_step)
        rows = select_deliveries(runtime.db, wanted)
        if not rows:
            raise HTTPException(404, f"no delivery matches {wanted.as_json()}")
        if body.dry_run:
            engine = EngineClient(runtime.db)
            try:
                plans = [
                    plan_delivery(runtime, engine, row, mapping=mapping).as_json() for row in rows
                ]
            finally:
                engine.close()
            return {"dry_run": True, "deliveries": plans}
        if body.from_step is None:
            done = [
                replay_delivery(runtime, row, actor=actor, mapping=body.mapping) for row in rows
            ]
        else:
            engine = EngineClient(runtime.db)
            try:
                done = [
                    replay_from_step(runtime, engine, row, body.from_step, actor=actor)
                    for row in rows
                ]
            except CannotReplayFromStep as exc:
                raise HTTPException(409, str(exc)) from exc
            finally:
                engine.close()
        return {"dry_run": False, "replayed": [r.as_json() for r in done]}

    @router.post("")
    async def replay(body: ReplayRequest, who: OperatorPrincipal) -> dict[str, Any]:
        return await run_in_threadpool(act, body, who.name)

    return router

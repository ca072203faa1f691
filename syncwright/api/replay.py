"""``POST /api/v1/replay``: replay stored deliveries, or (``dry_run``) show what would change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from syncwright.engine import EngineClient
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


def build_replay_router(runtime: Runtime, actor: str = "api") -> APIRouter:
    router = APIRouter(prefix="/api/v1/replay", tags=["replay"])

    def act(body: ReplayRequest) -> dict[str, Any]:
        wanted = ReplayFilter(**body.model_dump(exclude={"dry_run", "from_step"}))
        if wanted.is_empty():
            raise HTTPException(422, "say what to replay: give at least one filter field")
        rows = select_deliveries(runtime.db, wanted)
        if not rows:
            raise HTTPException(404, f"no delivery matches {wanted.as_json()}")
        if body.dry_run:
            engine = EngineClient(runtime.db)
            try:
                plans = [plan_delivery(runtime, engine, row).as_json() for row in rows]
            finally:
                engine.close()
            return {"dry_run": True, "deliveries": plans}
        if body.from_step is None:
            done = [replay_delivery(runtime, row, actor=actor) for row in rows]
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
    async def replay(body: ReplayRequest) -> dict[str, Any]:
        return await run_in_threadpool(act, body)

    return router

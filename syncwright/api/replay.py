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
    ReplayFilter,
    plan_delivery,
    replay_delivery,
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
    dry_run: bool = False


def build_replay_router(runtime: Runtime, actor: str = "api") -> APIRouter:
    router = APIRouter(prefix="/api/v1/replay", tags=["replay"])

    def act(body: ReplayRequest) -> dict[str, Any]:
        wanted = ReplayFilter(**body.model_dump(exclude={"dry_run"}))
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
        return {
            "dry_run": False,
            "replayed": [replay_delivery(runtime, row, actor=actor).as_json() for row in rows],
        }

    @router.post("")
    async def replay(body: ReplayRequest) -> dict[str, Any]:
        return await run_in_threadpool(act, body)

    return router

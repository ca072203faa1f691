"""``POST /api/v1/reconcile`` runs a rule now; ``GET /api/v1/reconcile/runs[/{id}]`` reads runs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from syncwright.errors import ConfigError
from syncwright.reconcile import Reconciler, UnknownRule


class ReconcileRequest(BaseModel):
    rule: str
    heal: bool | None = None
    """Overrides the rule's own heal setting."""


def build_reconcile_router(reconciler: Reconciler) -> APIRouter:
    router = APIRouter(prefix="/api/v1/reconcile", tags=["reconciliation"])

    @router.post("")
    async def run_rule(body: ReconcileRequest) -> dict[str, Any]:
        try:
            result = await run_in_threadpool(reconciler.run, body.rule, heal=body.heal)
        except UnknownRule as exc:
            raise HTTPException(404, str(exc)) from exc
        except ConfigError as exc:
            raise HTTPException(409, str(exc)) from exc
        assert result is not None  # an on-demand run always gets its own id
        return {
            "id": result.run_id,
            "rule": result.rule,
            "status": result.status,
            "report": result.report,
        }

    @router.get("/runs")
    def list_runs(
        rule: str | None = None, limit: int = Query(default=20, ge=1, le=1000)
    ) -> list[dict[str, Any]]:
        return [r.as_json() for r in reconciler.runs.list(rule=rule, limit=limit)]

    @router.get("/runs/{run_id}")
    def show_run(run_id: str) -> dict[str, Any]:
        record = reconciler.runs.get(run_id)
        if record is None:
            raise HTTPException(404, f"no reconciliation run {run_id!r}")
        return record.as_json()

    return router

"""``GET /api/v1/ownership/violations``: changes from connections that do not own the field,
which were not propagated (see ``docs/policy.md``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException, Query

from syncwright.policy.report import ownership_report, parse_since

if TYPE_CHECKING:
    from syncwright.runtime import Runtime

__all__ = ["build_ownership_router"]


def build_ownership_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(tags=["policy"])

    @router.get("/api/v1/ownership/violations", summary="Changes from non-owners, held back")
    def violations(
        since: str | None = Query(None, description="A duration (30m, 6h, 7d) or ISO date-time"),
        limit: int = Query(1000, ge=1, le=10_000),
    ) -> dict[str, Any]:
        try:
            moment = parse_since(since)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from exc
        return ownership_report(runtime, since=moment, limit=limit)

    return router

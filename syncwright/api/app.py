"""The HTTP surface: intake, ledger and trace, exceptions, health and metrics. OpenAPI at /docs."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from syncwright.api.operations import build_operations_router
from syncwright.api.reconcile import build_reconcile_router
from syncwright.api.replay import build_replay_router
from syncwright.api.validation import ValidationService, build_validation_router
from syncwright.exceptions import ExceptionAlreadyResolved, ExceptionService, UnknownException
from syncwright.exceptions.queue import ExceptionFilter
from syncwright.exceptions.service import NotEditable, ResumeSender
from syncwright.intake import build_hooks_router
from syncwright.ledger import AuditHead
from syncwright.reconcile import Reconciler
from syncwright.runtime import Runtime
from syncwright.telemetry import Metrics
from syncwright.trace import build_trace


class ResolveRequest(BaseModel):
    note: str = ""


# Until API tokens name their holder, API actions are recorded under this actor.
API_ACTOR = "api"


def create_api(runtime: Runtime, resume: ResumeSender) -> FastAPI:
    app = FastAPI(
        title="syncwright",
        version=runtime.settings.engine.application_version,
        description="Keeps CRM, support desk, billing and ERP in step.",
    )
    service = ExceptionService(runtime.exceptions, runtime.inbox, resume, runtime.audit)
    metrics = Metrics(runtime)
    app.include_router(
        build_hooks_router(
            connectors=runtime.connectors,
            inbox=runtime.inbox,
            max_body_bytes=runtime.settings.server.max_body_bytes,
            on_result=lambda connection, result: metrics.webhooks.labels(connection, result).inc(),
        )
    )

    app.include_router(build_validation_router(ValidationService(runtime)))
    app.include_router(build_reconcile_router(Reconciler(runtime)))
    app.include_router(build_replay_router(runtime))

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"])
    def readyz() -> dict[str, Any]:
        try:
            revision = runtime.db.current_revision()
        except Exception as exc:
            raise HTTPException(503, f"database unavailable: {type(exc).__name__}") from exc
        if revision is None:
            raise HTTPException(503, "database not migrated: run `syncwright db upgrade`")
        return {"status": "ready", "schema_revision": revision}

    if runtime.settings.telemetry.metrics_enabled:  # off: no route, /metrics answers 404

        @app.get("/metrics", tags=["ops"])
        def prometheus_metrics() -> Response:
            return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    @app.get("/api/v1/ledger", tags=["ledger"])
    def ledger(correlation_id: str = Query(...)) -> list[dict[str, Any]]:
        return [e.as_json() for e in runtime.ledger.for_correlation(correlation_id)]

    @app.get("/api/v1/trace/{correlation_id}", tags=["ledger"])
    def trace(correlation_id: str) -> dict[str, Any]:
        found = build_trace(runtime, correlation_id)
        if not found["ledger"] and not found["deliveries"]:
            raise HTTPException(404, f"nothing recorded under correlation id {correlation_id!r}")
        return found

    @app.get("/api/v1/audit/head", tags=["audit"])
    def audit_head() -> dict[str, Any]:
        return runtime.audit.head().as_json()

    @app.get("/api/v1/audit/verify", tags=["audit"])
    def audit_verify(
        sequence: int | None = Query(None, ge=0, description="An exported head's sequence"),
        hash: str | None = Query(None, min_length=64, max_length=64, description="...its hash"),
    ) -> dict[str, Any]:
        """The chain checked end to end (``ok`` false names the first problem); with an
        exported head (``sequence`` and ``hash``), a cut-off tail is caught too."""
        if (sequence is None) != (hash is None):
            raise HTTPException(422, "give both sequence and hash of the exported head, or none")
        exported = AuditHead(sequence, hash, None) if sequence is not None and hash else None
        return runtime.audit.verify(exported).as_json()

    @app.get("/api/v1/exceptions", tags=["exceptions"])
    def list_exceptions(
        status: str | None = None,
        limit: int = 100,
        error_class: str | None = Query(None, alias="class"),
        connection: str | None = None,
        tag: str | None = None,
    ) -> list[dict[str, Any]]:
        where = ExceptionFilter(
            status=status, error_class=error_class, connection=connection, tag=tag
        )
        return [r.as_json() for r in runtime.exceptions.list(where=where, limit=limit)]

    @app.get("/api/v1/exceptions/{record_id}", tags=["exceptions"])
    def show_exception(record_id: str) -> dict[str, Any]:
        record = runtime.exceptions.get(record_id)
        if record is None:
            raise HTTPException(404, f"no exception with id {record_id!r}")
        return record.as_json()

    @app.post("/api/v1/exceptions/{record_id}/retry", tags=["exceptions"])
    async def retry_exception(record_id: str) -> dict[str, Any]:
        return await _act(lambda: service.retry(record_id, actor=API_ACTOR))

    @app.post("/api/v1/exceptions/{record_id}/resolve", tags=["exceptions"])
    async def resolve_exception(record_id: str, body: ResolveRequest) -> dict[str, Any]:
        return await _act(lambda: service.resolve(record_id, body.note, actor=API_ACTOR))

    async def _act(action: Any) -> dict[str, Any]:
        try:
            record = await run_in_threadpool(action)
        except UnknownException as exc:
            raise HTTPException(404, str(exc)) from exc
        except (ExceptionAlreadyResolved, NotEditable) as exc:
            raise HTTPException(409, str(exc)) from exc
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from exc
        result: dict[str, Any] = record.as_json()
        return result

    app.include_router(build_operations_router(runtime, service, _act, actor=API_ACTOR))

    return app

"""The webhook intake as an app of its own, for ``server.hooks``: only ``POST /hooks/*`` and
``GET /healthz``, so the listener that faces the internet exposes nothing else."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from syncwright.api.hardening import BodyLimitMiddleware
from syncwright.intake import build_hooks_router
from syncwright.runtime import Runtime
from syncwright.telemetry import Metrics


def hooks_router(runtime: Runtime, metrics: Metrics) -> APIRouter:
    """The intake router, counting each delivery's result in ``metrics``."""
    return build_hooks_router(
        connectors=runtime.connectors,
        inbox=runtime.inbox,
        max_body_bytes=runtime.settings.server.max_body_bytes,
        on_result=lambda connection, result: metrics.webhooks.labels(connection, result).inc(),
    )


def create_hooks_api(runtime: Runtime, metrics: Metrics) -> FastAPI:
    """The app of the webhook listener; ``metrics`` is the API app's, so /metrics counts its
    deliveries."""
    app = FastAPI(
        title="syncwright webhook intake", docs_url=None, redoc_url=None, openapi_url=None
    )
    app.include_router(hooks_router(runtime, metrics))

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(BodyLimitMiddleware, max_bytes=runtime.settings.server.max_body_bytes)
    return app

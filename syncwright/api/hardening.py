"""What the HTTP listeners accept beyond a route's own checks: tokens (``auth.py``), body size,
trusted Host headers, bounded ``limit`` parameters, and who may read the OpenAPI docs and the
metrics. See ``docs/security.md``."""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import Depends, FastAPI, Query
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from syncwright.api.auth import TokenRegistry, document_bearer_auth, install_tokens, require
from syncwright.config import Settings
from syncwright.intake.limits import BodyTooLarge, declared_too_large

__all__ = [
    "MAX_LIMIT",
    "BodyLimitMiddleware",
    "Limit",
    "docs_urls",
    "metrics_guard",
    "secure_api",
]

#: Largest ``limit`` a list endpoint accepts.
MAX_LIMIT: Final = 1000
#: A ``limit`` query parameter: 1..1000, 422 otherwise.
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"At most this many, 1-{MAX_LIMIT}.")]


class BodyLimitMiddleware:
    """Counts request body bytes as the app reads them and raises :class:`BodyTooLarge` (413)
    once they pass ``max_bytes``, or at the first read when Content-Length announces more. A
    chunked body is therefore never read past the limit, whoever reads it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"").decode("latin-1")
        too_large = declared_too_large(declared or None, self.max_bytes)
        received = 0

        async def limited() -> Message:
            nonlocal received
            if too_large:
                raise BodyTooLarge(self.max_bytes)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, limited, send)


def docs_urls(settings: Settings) -> dict[str, Any]:
    """FastAPI's own docs routes, only when they are on and open to everyone."""
    server = settings.server
    if server.docs_enabled and not server.docs_token_required:
        return {}
    return {"docs_url": None, "redoc_url": None, "openapi_url": None}


def _add_token_docs(app: FastAPI) -> None:
    viewer = [Depends(require("viewer"))]

    @app.get("/openapi.json", include_in_schema=False, dependencies=viewer)
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=viewer)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title} - docs")

    @app.get("/redoc", include_in_schema=False, dependencies=viewer)
    def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url="/openapi.json", title=f"{app.title} - ReDoc")


def metrics_guard(settings: Settings) -> list[Any]:
    """Dependencies of ``/metrics``: a viewer token when ``telemetry.metrics_token_required``."""
    return [Depends(require("viewer"))] if settings.telemetry.metrics_token_required else []


def secure_api(app: FastAPI, settings: Settings) -> None:
    """Tokens, body limit, trusted hosts and token-guarded docs for the API listener. ``app``
    must have been created with ``dependencies=[Depends(authorize_api)]`` and
    ``**docs_urls(settings)``."""
    install_tokens(app, TokenRegistry.from_settings(settings))
    document_bearer_auth(app)
    server = settings.server
    if server.docs_enabled and server.docs_token_required:
        _add_token_docs(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=server.max_body_bytes)
    if server.trusted_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(server.trusted_hosts))

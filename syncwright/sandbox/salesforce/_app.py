"""The FastAPI application: OAuth, the versioned data API, and the sandbox control API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from .._faults import FaultInjector
from ._admin import admin_router
from ._auth import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    INVALID_SESSION,
    AuthConfig,
    bearer_token,
    token_router,
)
from ._errors import NOT_FOUND_MESSAGE
from ._rest import RestContext, dispatch, served_versions, versions_list
from ._state import SalesforceState

_BODY_METHODS = frozenset({"POST", "PATCH", "PUT"})
_ALL_METHODS = ["GET", "HEAD", "POST", "PATCH", "PUT", "DELETE"]


def _errors(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    return JSONResponse(
        [{"message": message, "errorCode": code}], status_code=status, headers=headers
    )


def call_options_client(header: str | None) -> str | None:
    """``client`` from ``Sforce-Call-Options: client=<name>[, defaultNamespace=<ns>]``."""
    for part in (header or "").split(","):
        key, sep, value = part.strip().partition("=")
        if sep and key.strip() == "client" and value.strip():
            return value.strip()
    return None


def change_origin(version: str, client: str | None) -> str:
    """CDC ``changeOrigin``: ``com/salesforce/api/rest/59.0;client=<name>`` for REST calls."""
    base = f"com/salesforce/api/rest/{version}"
    return f"{base};client={client}" if client else base


def create_app(
    state: SalesforceState | None = None,
    *,
    api_version: str = "59.0",
    client_id: str = DEFAULT_CLIENT_ID,
    client_secret: str = DEFAULT_CLIENT_SECRET,
    username: str = DEFAULT_USERNAME,
    password: str = DEFAULT_PASSWORD,
    security_token: str = "",
    daily_api_limit: int = 100_000,
    faults: FaultInjector | None = None,
    instance_url: str | None = None,
) -> FastAPI:
    """A Salesforce org emulator as an ASGI app.

    ``api_version`` is the newest version served (older ones down to 31.0 answer too);
    ``daily_api_limit`` sets the state's DailyApiRequests allocation; ``instance_url`` overrides
    the ``instance_url`` the token endpoint reports (default: the URL the client called).
    """
    org = state if state is not None else SalesforceState(api_version=api_version)
    org.api_version = api_version
    org.daily_api_limit = daily_api_limit
    injector = faults if faults is not None else FaultInjector()
    config = AuthConfig(client_id, client_secret, username, password, security_token, instance_url)
    served = frozenset(served_versions(api_version))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        org.pusher.stop()

    app = FastAPI(
        title="Salesforce emulator (syncwright sandbox)",
        lifespan=lifespan,
        docs_url="/_sandbox/docs",
        redoc_url=None,
        openapi_url="/_sandbox/openapi.json",
    )
    app.state.salesforce = org
    app.state.faults = injector

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/_sandbox"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        if exc.status_code == 405:
            return _errors(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{request.method}' not allowed")
        return _errors(exc.status_code, "NOT_FOUND", NOT_FOUND_MESSAGE)

    app.include_router(token_router(org, config))
    app.include_router(admin_router(org, injector))

    @app.get("/services/data")
    @app.get("/services/data/")
    async def versions() -> list[dict[str, str]]:
        # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_versions.htm
        return versions_list(api_version)

    async def data_api(request: Request) -> Response:
        version = request.path_params["version"]
        if version not in served:
            return _errors(404, "NOT_FOUND", NOT_FOUND_MESSAGE)
        fault = injector.draw(request.method)
        await injector.delay()
        if fault == "error_5xx":
            return _errors(
                500,
                "UNKNOWN_EXCEPTION",
                "An unexpected error occurred. Please include this ErrorId if you contact "
                "support: 1234567890-12345 (-1234567890)",
            )
        if fault == "timeout":
            await injector.stall()
            return _errors(503, "SERVER_UNAVAILABLE", "Server temporarily unavailable")
        token = bearer_token(request.headers.get("authorization"))
        if token is None or not org.token_valid(token):
            return JSONResponse(INVALID_SESSION, status_code=401)
        # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_api_usage.htm
        allowed, used, maximum = org.consume_api_call()
        limit_header = {"Sforce-Limit-Info": f"api-usage={used}/{maximum}"}
        if not allowed:
            return _errors(
                403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", limit_header
            )
        body: Any = None
        raw = await request.body()
        if raw.strip() and request.method in _BODY_METHODS:
            try:
                body = json.loads(raw)
            except (ValueError, UnicodeDecodeError) as exc:
                return _errors(
                    400, "JSON_PARSER_ERROR", f"Unexpected character: {exc}", limit_header
                )
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        prefix = f"/services/data/v{version}"
        path = raw_path.decode("latin-1")[len(prefix) :]
        client = call_options_client(request.headers.get("sforce-call-options"))
        ctx = RestContext(
            state=org,
            version=version,
            origin=change_origin(version, client),
            headers={k.lower(): v for k, v in request.headers.items()},
            served=served,
        )
        kind = path.strip("/").split("/")[0] or "resources"
        org.count_request(f"{request.method} {kind}")
        result = dispatch(ctx, request.method, path, dict(request.query_params), body)
        if fault == "lost_response":
            await injector.stall()
        headers = {**result.headers, **limit_header}
        if result.status in (204, 304) or request.method == "HEAD":
            return Response(status_code=result.status, headers=headers)
        return JSONResponse(result.body, status_code=result.status, headers=headers)

    app.add_api_route("/services/data/v{version}", data_api, methods=_ALL_METHODS)
    app.add_api_route("/services/data/v{version}/{rest:path}", data_api, methods=_ALL_METHODS)
    return app

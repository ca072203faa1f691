"""``POST /api/v1/validate/{check}``: synchronous checks against the ERP before an order is
committed (credit, customer, products, tax). A thin router over
:class:`~syncwright.validation.ValidationService`; see ``docs/validation.md``.

Mount it with ``app.include_router(build_validation_router(ValidationService(runtime)))``;
the router's lifespan stops the service's worker threads when the app shuts down.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from syncwright.model import Account, Deal
from syncwright.validation import (
    CHECKS,
    InvalidSubject,
    UnknownCheck,
    ValidationService,
)

__all__ = [
    "ValidationRequest",
    "ValidationResponse",
    "ValidationService",
    "build_validation_router",
]

PATH = "/api/v1/validate/{check}"


class ValidationRequest(BaseModel):
    """What to check: the account, and the deal for the products check (optional otherwise;
    the credit check adds its amount to the customer's balance)."""

    model_config = ConfigDict(extra="forbid")

    account: Account
    deal: Deal | None = None


class ValidationResponse(BaseModel):
    """The answer, 200 even for a "no". ``ok`` is null only from the ``unknown`` fallback."""

    check: str
    ok: bool | None
    reasons: list[str] = Field(description="Why not (or notes on a yes), in plain words.")
    source: Literal["erp", "cache", "fallback"]
    elapsed_ms: float


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return ".".join(parts) or "body"


class _ValidationRoute(APIRoute):
    """Answers an unreadable body with one clear 422 message (and 404 first for an unknown
    check), instead of FastAPI's default list -- and never echoes the input back."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                check = str(request.path_params.get("check", ""))
                if check not in CHECKS:
                    return JSONResponse({"detail": str(UnknownCheck(check))}, status_code=404)
                errors = [{"loc": _loc(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
                shown = "; ".join(f"{e['loc']}: {e['msg']}" for e in errors[:8])
                return JSONResponse(
                    {"detail": f"invalid request body: {shown}", "errors": errors},
                    status_code=422,
                )

        return route


def build_validation_router(service: ValidationService) -> APIRouter:
    """The validation endpoint over ``service``; closing the app closes the service."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            service.close()

    router = APIRouter(route_class=_ValidationRoute, tags=["validation"], lifespan=lifespan)

    @router.post(
        PATH,
        response_model=ValidationResponse,
        summary="Check an account (and deal) against the ERP before an order is committed",
        responses={
            404: {"description": f"Unknown check; the checks are {', '.join(CHECKS)}"},
            422: {"description": "The body is not a canonical account (and deal)"},
        },
    )
    def validate(check: str, body: ValidationRequest) -> ValidationResponse:
        """``check`` is one of credit, customer, products, tax. Answers within the ERP
        connection's deadline: from the ERP, its cache, or the fallback policy (``source``)."""
        try:
            result = service.validate(check, body.model_dump(mode="json"))
        except UnknownCheck as exc:
            raise HTTPException(404, str(exc)) from exc
        except InvalidSubject as exc:
            raise HTTPException(422, str(exc)) from exc
        return ValidationResponse(
            check=result.check,
            ok=result.ok,
            reasons=list(result.reasons),
            source=result.source,
            elapsed_ms=result.elapsed_ms,
        )

    return router

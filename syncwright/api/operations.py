"""Exception-queue actions beyond retry and resolve: assign, tag, comment, edit the payload,
the history, and bulk retry/resolve by filter (a preview unless ``confirm`` is true)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field, field_validator
from starlette.concurrency import run_in_threadpool

from syncwright.api.auth import OperatorPrincipal
from syncwright.exceptions import ExceptionService
from syncwright.exceptions.classify import CLASSES
from syncwright.exceptions.queue import ExceptionFilter
from syncwright.runtime import Runtime

Act = Callable[[Callable[[], Any]], Awaitable[dict[str, Any]]]
Status = Literal["open", "waiting", "retrying", "resolved"]


class AssignRequest(BaseModel):
    assignee: str | None = Field(None, description="Who owns it now; null to unassign.")


class TagRequest(BaseModel):
    add: list[str] = Field(default_factory=list)
    remove: list[str] = Field(default_factory=list)


class CommentRequest(BaseModel):
    text: str = Field(min_length=1)


class EditRequest(BaseModel):
    payload: str = Field(description="The corrected delivery body, as the vendor would send it.")


class BulkRequest(BaseModel):
    status: Status | None = None
    error_class: str | None = Field(None, alias="class", description=" | ".join(CLASSES))
    connection: str | None = None
    tag: str | None = None
    older_than_seconds: float | None = Field(None, gt=0)
    note: str = ""
    confirm: bool = Field(False, description="False: only list what would be touched.")

    @field_validator("error_class")
    @classmethod
    def _known_class(cls, value: str | None) -> str | None:
        if value is not None and value not in CLASSES:
            raise ValueError(f"class must be one of {', '.join(CLASSES)}")
        return value

    def where(self) -> ExceptionFilter:
        age = self.older_than_seconds
        return ExceptionFilter(
            status=self.status,
            error_class=self.error_class,
            connection=self.connection,
            tag=self.tag,
            older_than=timedelta(seconds=age) if age is not None else None,
        )


def build_operations_router(runtime: Runtime, service: ExceptionService, act: Act) -> APIRouter:
    """Writes need an operator token; the token's name is the actor recorded."""
    router = APIRouter(prefix="/api/v1/exceptions", tags=["exceptions"])

    @router.post("/retry")
    async def bulk_retry(body: BulkRequest, who: OperatorPrincipal) -> dict[str, Any]:
        """Retry every unresolved exception the filter selects (``confirm: true``)."""
        return await _bulk("retry", body, who.name)

    @router.post("/resolve")
    async def bulk_resolve(body: BulkRequest, who: OperatorPrincipal) -> dict[str, Any]:
        """Resolve every unresolved exception the filter selects (``confirm: true``)."""
        return await _bulk("resolve", body, who.name)

    async def _bulk(
        action: Literal["retry", "resolve"], body: BulkRequest, actor: str
    ) -> dict[str, Any]:
        where = body.where()
        if where == ExceptionFilter():
            raise HTTPException(422, "a bulk action needs at least one filter")
        if not body.confirm:
            chosen = await run_in_threadpool(service.matching, where)
            return {"action": action, "confirmed": False, "ids": [r.id for r in chosen]}
        outcomes = await run_in_threadpool(
            lambda: service.bulk(action, where, actor=actor, note=body.note)
        )
        return {"action": action, "confirmed": True, "outcomes": [o.as_json() for o in outcomes]}

    @router.post("/{record_id}/assign")
    async def assign(record_id: str, body: AssignRequest, who: OperatorPrincipal) -> dict[str, Any]:
        return await act(lambda: service.assign(record_id, body.assignee, actor=who.name))

    @router.post("/{record_id}/tag")
    async def tag(record_id: str, body: TagRequest, who: OperatorPrincipal) -> dict[str, Any]:
        return await act(lambda: service.tag(record_id, body.add, body.remove, actor=who.name))

    @router.post("/{record_id}/comment")
    async def comment(
        record_id: str, body: CommentRequest, who: OperatorPrincipal
    ) -> dict[str, Any]:
        return await act(lambda: service.comment(record_id, body.text, actor=who.name))

    @router.post("/{record_id}/edit")
    async def edit(record_id: str, body: EditRequest, who: OperatorPrincipal) -> dict[str, Any]:
        """Replace a parked delivery's payload (the original kept in the history) and retry."""
        return await act(lambda: service.edit_payload(record_id, body.payload, actor=who.name))

    @router.get("/{record_id}/history")
    def history(record_id: str) -> list[dict[str, Any]]:
        if runtime.exceptions.get(record_id) is None:
            raise HTTPException(404, f"no exception with id {record_id!r}")
        return runtime.exceptions.history(record_id)

    return router

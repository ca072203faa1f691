"""``POST /hooks/{connection}``: size limit, signature check, one durable write, then 2xx.

Status codes are part of the contract vendors retry on:
- 200 accepted (or a duplicate, acknowledged so the vendor stops retrying); a vendor's
  subscription handshake (``Connector.webhook_handshake``) is answered with its plain text,
- 400 body is not JSON, or hostile JSON (nested deeper than 64 levels, a number Python cannot
  hold, NaN),
- 401 signature missing, malformed or wrong (recorded as a security event),
- 404 unknown connection, 413 body too large (also a chunked body, read only up to the limit),
- 503 the inbox could not be written (retry later).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from syncwright.connectors import Connector
from syncwright.errors import AuthError
from syncwright.intake.group_commit import GroupCommitWriter
from syncwright.intake.inbox import Inbox
from syncwright.intake.limits import BodyTooLarge, HostileJson, parse_json, read_body

log = logging.getLogger("syncwright.intake")

#: Code of a delivery whose signature headers a verifier could not even parse.
MALFORMED_SIGNATURE = "signature.malformed"


def _problem(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"code": code, "message": message}})


def _ignore(connection: str, result: str) -> None:
    return None


def build_hooks_router(
    *,
    connectors: Mapping[str, Connector],
    inbox: Inbox,
    max_body_bytes: int,
    on_result: Callable[[str, str], None] = _ignore,
) -> APIRouter:
    """``on_result(connection, result)`` is told the outcome of every delivery (for metrics)."""
    router = APIRouter(tags=["intake"])
    writer = GroupCommitWriter(inbox)
    router.add_event_handler("shutdown", writer.close)

    @router.post("/hooks/{connection}", summary="Receive a vendor webhook")
    async def receive_webhook(connection: str, request: Request) -> Any:
        response = await _receive(connection, request)
        status = response.get("status", "") if isinstance(response, dict) else ""
        code = getattr(response, "status_code", 200)
        on_result(connection if connection in connectors else "unknown", status or str(code))
        return response

    async def _receive(connection: str, request: Request) -> Any:
        connector = connectors.get(connection)
        if connector is None:
            return _problem(
                404,
                "intake.unknown_connection",
                f"no connection named {connection!r}; add it under `connections:` "
                "in syncwright.yaml or fix the webhook URL",
            )
        verifier = connector.webhook_verifier()
        if verifier is None:
            return _problem(
                404,
                "intake.webhooks_disabled",
                f"connection {connection!r} does not receive webhooks; configure its webhook "
                "secrets under connections.{connection}.webhook",
            )
        handshake = connector.webhook_handshake(dict(request.query_params))
        if handshake is not None:
            # A subscription handshake carries no event: answer it, store nothing.
            return PlainTextResponse(handshake)
        try:
            body = await read_body(request, max_body_bytes)
        except BodyTooLarge:
            return _problem(413, "intake.too_large", f"body exceeds {max_body_bytes} bytes")

        headers = dict(request.headers)
        try:
            verifier.verify(body, headers)
        except AuthError as exc:
            return await _reject(connection, request, exc.code, exc.message)
        except (ValueError, TypeError, OverflowError, LookupError) as exc:
            # A verifier tripping over a malformed header (non-ASCII, odd hex, a part missing)
            # is still a refused signature, never a 500.
            log.debug("verifier on %s failed on malformed input: %r", connection, exc)
            return await _reject(
                connection, request, MALFORMED_SIGNATURE, "signature headers are malformed"
            )

        try:
            payload = parse_json(body)
        except HostileJson as exc:
            return _problem(400, "intake.hostile_json", f"body is refused: {exc}")
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, int over 4300 digits
            return _problem(400, "intake.malformed_json", f"body is not valid JSON: {exc}")

        identity = connector.identify(payload, body)
        try:
            result = await writer.accept(
                connection=connection,
                vendor_event_id=identity.vendor_event_id,
                event_type=identity.event_type,
                body=body.decode("utf-8"),
                headers=headers,
            )
        except Exception:  # the vendor must retry: we hold nothing yet
            log.exception("inbox write failed for %s", connection)
            return _problem(503, "intake.unavailable", "could not store the delivery; retry")
        if result.duplicate:
            return {"status": "duplicate", "vendor_event_id": identity.vendor_event_id}
        return {
            "status": "accepted",
            "inbox_id": result.inbox_id,
            "correlation_id": result.correlation_id,
            "vendor_event_id": identity.vendor_event_id,
        }

    async def _reject(connection: str, request: Request, code: str, message: str) -> Any:
        remote = request.client.host if request.client else None
        await run_in_threadpool(
            inbox.record_security_event,
            connection=connection,
            kind="webhook_signature_rejected",
            code=code,
            remote_addr=remote,
            detail=message,
        )
        log.warning("rejected webhook on %s: %s", connection, code)
        return _problem(401, code, message)

    return router

"""Webhooks API: webhooks, their signing secret and their invocations.

https://developer.zendesk.com/api-reference/webhooks/webhooks-api/webhooks/ -- ids are strings,
create answers 201 ``{"webhook": ...}``, update/patch/delete answer 204, the list uses cursor
pagination, errors use the ``{"errors": [...]}`` shape. The secret is only shown by
``GET /api/v2/webhooks/{id}/signing_secret``; ``POST`` there resets it.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlparse

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from ulid import ULID

from syncwright.sandbox.zendesk._context import base_url, body_object, emulator, params, respond
from syncwright.sandbox.zendesk._errors import ZendeskApiError, webhook_error
from syncwright.sandbox.zendesk._pagination import paginate
from syncwright.sandbox.zendesk._state import Record, ZendeskState

router = APIRouter(prefix="/api/v2/webhooks")

HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
REQUEST_FORMATS = frozenset({"json", "xml", "form_encoded"})
STATUSES = frozenset({"active", "inactive"})
AUTH_TYPES = frozenset({"api_key", "basic_auth", "bearer_token"})
_REQUIRED = ("name", "endpoint", "http_method", "request_format", "status", "subscriptions")


def _invalid(detail: str, field: str) -> ZendeskApiError:
    error = webhook_error(400, "InvalidValue", "Invalid value", detail)
    error.body["errors"][0]["source"] = {"pointer": f"/webhook/{field}"}
    return error


def _check(hook: Record) -> None:
    for name in _REQUIRED:
        if hook.get(name) in (None, "", []):
            error = webhook_error(400, "MissingField", "Missing field", f"{name} is required")
            error.body["errors"][0]["source"] = {"pointer": f"/webhook/{name}"}
            raise error
    endpoint = urlparse(str(hook["endpoint"]))
    if endpoint.scheme not in ("http", "https") or not endpoint.netloc:
        raise _invalid("endpoint must be an http(s) URL", "endpoint")
    if hook["http_method"] not in HTTP_METHODS:
        raise _invalid(f"http_method must be one of {sorted(HTTP_METHODS)}", "http_method")
    if hook["request_format"] not in REQUEST_FORMATS:
        raise _invalid(f"request_format must be one of {sorted(REQUEST_FORMATS)}", "request_format")
    if hook["status"] not in STATUSES:
        raise _invalid("status must be active or inactive", "status")
    subscriptions = hook["subscriptions"]
    if not isinstance(subscriptions, list) or not all(isinstance(s, str) for s in subscriptions):
        raise _invalid("subscriptions must be a list of strings", "subscriptions")
    if "conditional_ticket_events" in subscriptions:
        if len(subscriptions) > 1:
            raise _invalid(
                "conditional_ticket_events cannot be combined with event types", "subscriptions"
            )
    elif not all(s.startswith("zen:event-type:") for s in subscriptions):
        raise _invalid("unknown subscription", "subscriptions")
    elif hook["http_method"] != "POST" or hook["request_format"] != "json":
        # Zendesk: an event-subscribed webhook must POST json.
        raise _invalid(
            "event subscriptions need http_method POST and request_format json", "http_method"
        )
    authentication = hook.get("authentication")
    if authentication is not None and (
        not isinstance(authentication, dict) or authentication.get("type") not in AUTH_TYPES
    ):
        raise _invalid(f"authentication.type must be one of {sorted(AUTH_TYPES)}", "authentication")


_WRITABLE = (*_REQUIRED, "description", "authentication", "custom_headers")


def _get(state: ZendeskState, webhook_id: str) -> Record:
    hook = state.webhooks.get(webhook_id)
    if hook is None:
        raise webhook_error(404, "WebhookNotFound", "Webhook not found", f"No webhook {webhook_id}")
    return hook


def render_webhook(hook: Record) -> Record:
    out: Record = {
        "id": hook["id"],
        "name": hook["name"],
        "status": hook["status"],
        "subscriptions": list(hook["subscriptions"]),
        "created_at": hook["created_at"],
        "created_by": hook["created_by"],
        "endpoint": hook["endpoint"],
        "http_method": hook["http_method"],
        "request_format": hook["request_format"],
        "updated_at": hook["updated_at"],
        "updated_by": hook["updated_by"],
        "signing_secret": {"algorithm": "SHA256", "secret": None},
    }
    if hook.get("description") is not None:
        out["description"] = hook["description"]
    if hook.get("custom_headers"):
        out["custom_headers"] = dict(hook["custom_headers"])
    if hook.get("authentication"):
        # Credentials are write-only, as in Zendesk.
        auth = hook["authentication"]
        out["authentication"] = {"type": auth["type"], "add_position": "header"}
    return out


@router.get("")
async def list_webhooks(request: Request) -> JSONResponse:
    state, query = emulator(request).state, params(request)
    name_contains = (query.get("filter[name_contains]") or "").lower()
    status = query.get("filter[status]")
    with state.lock:
        found = [
            hook
            for hook in state.webhooks.values()
            if name_contains in hook["name"].lower()
            and (status is None or hook["status"] == status)
        ]
        page = paginate(
            found,
            key="webhooks",
            params=query,
            url=f"{base_url(request)}/api/v2/webhooks",
            render=render_webhook,
            force_cursor=True,
        )
    return respond(page)


@router.post("")
async def create_webhook(request: Request) -> JSONResponse:
    em = emulator(request)
    payload = await body_object(request, "webhook")
    state = em.state
    with state.lock:
        now = state.timestamp()
        hook: Record = {k: payload.get(k) for k in _WRITABLE}
        _check(hook)
        hook.update(
            id=str(ULID()),
            created_at=now,
            updated_at=now,
            created_by=str(state.agent_id),
            updated_by=str(state.agent_id),
        )
        given = payload.get("signing_secret")
        secret = given.get("secret") if isinstance(given, dict) else None
        state.webhooks[hook["id"]] = hook
        state.webhook_secrets[hook["id"]] = str(secret or secrets.token_urlsafe(32))
        body = {"webhook": render_webhook(hook)}
    em.dispatcher.start()
    return respond(body, 201)


@router.get("/{webhook_id}")
async def show_webhook(request: Request, webhook_id: str) -> JSONResponse:
    state = emulator(request).state
    with state.lock:
        return respond({"webhook": render_webhook(_get(state, webhook_id))})


async def _update(request: Request, webhook_id: str, *, merge: bool) -> Response:
    state, payload = emulator(request).state, await body_object(request, "webhook")
    with state.lock:
        hook = _get(state, webhook_id)
        draft: dict[str, Any] = dict(hook)
        for name in _WRITABLE:
            if name in payload or not merge:
                draft[name] = payload.get(name)
        _check(draft)
        draft.update(updated_at=state.timestamp(), updated_by=str(state.agent_id))
        hook.update(draft)
    return Response(status_code=204)


@router.put("/{webhook_id}")
async def update_webhook(request: Request, webhook_id: str) -> Response:
    return await _update(request, webhook_id, merge=False)


@router.patch("/{webhook_id}")
async def patch_webhook(request: Request, webhook_id: str) -> Response:
    return await _update(request, webhook_id, merge=True)


@router.delete("/{webhook_id}")
async def delete_webhook(request: Request, webhook_id: str) -> Response:
    state = emulator(request).state
    with state.lock:
        _get(state, webhook_id)
        del state.webhooks[webhook_id]
        state.webhook_secrets.pop(webhook_id, None)
    return Response(status_code=204)


@router.get("/{webhook_id}/signing_secret")
async def show_signing_secret(request: Request, webhook_id: str) -> JSONResponse:
    state = emulator(request).state
    with state.lock:
        _get(state, webhook_id)
        secret = state.webhook_secrets[webhook_id]
    return respond({"signing_secret": {"algorithm": "SHA256", "secret": secret}})


@router.post("/{webhook_id}/signing_secret")
async def reset_signing_secret(request: Request, webhook_id: str) -> JSONResponse:
    state = emulator(request).state
    with state.lock:
        _get(state, webhook_id)
        secret = state.webhook_secrets[webhook_id] = secrets.token_urlsafe(32)
    return respond({"signing_secret": {"algorithm": "SHA256", "secret": secret}}, 201)


def _render_invocation(invocation: Record) -> Record:
    return {key: value for key, value in invocation.items() if key not in ("attempts", "seq")}


@router.get("/{webhook_id}/invocations")
async def list_invocations(request: Request, webhook_id: str) -> JSONResponse:
    state = emulator(request).state
    with state.lock:
        _get(state, webhook_id)
        rows = [
            {**invocation, "seq": n}
            for n, invocation in enumerate(state.invocations.get(webhook_id, []))
        ]
        page = paginate(
            rows,
            key="invocations",
            params=params(request),
            url=f"{base_url(request)}/api/v2/webhooks/{webhook_id}/invocations",
            render=_render_invocation,
            sort_key="seq",
            force_cursor=True,
        )
    return respond(page)


@router.get("/{webhook_id}/invocations/{invocation_id}/attempts")
async def list_attempts(request: Request, webhook_id: str, invocation_id: str) -> JSONResponse:
    state = emulator(request).state
    with state.lock:
        _get(state, webhook_id)
        for invocation in state.invocations.get(webhook_id, []):
            if invocation["id"] == invocation_id:
                return respond({"attempts": [dict(a) for a in invocation["attempts"]]})
    raise webhook_error(404, "NotFound", "Invocation not found", f"No invocation {invocation_id}")

"""The Webhooks API (v3) of the public app: target URL and subscriptions, authenticated with
the developer API key in ``?hapikey=`` as HubSpot's developer APIs are.
https://developers.hubspot.com/docs/api/webhooks
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from syncwright.sandbox.hubspot import _errors as err
from syncwright.sandbox.hubspot._context import HubSpotEmulator, emulator, json_body

router = APIRouter()
_STAMP = "2026-01-01T00:00:00Z"
EVENT_TYPES = frozenset(
    f"{kind}.{change}"
    for kind in ("contact", "company", "deal", "line_item", "product")
    for change in ("creation", "deletion", "propertyChange", "associationChange", "restore")
)


def _app(request: Request, app_id: int) -> HubSpotEmulator:
    em = emulator(request)
    if request.query_params.get("hapikey") != em.developer_api_key:
        raise err.unauthorized()
    if app_id != em.webhooks.app_id:
        raise err.HubSpotApiError(
            404, err.error_body(f"App {app_id} not found", "OBJECT_NOT_FOUND")
        )
    return em


def _settings(em: HubSpotEmulator) -> dict[str, Any]:
    return {
        "targetUrl": em.webhooks.target_url,
        "throttling": {"maxConcurrentRequests": 10, "period": "SECONDLY"},
        "createdAt": _STAMP,
        "updatedAt": _STAMP,
    }


@router.get("/webhooks/v3/{app_id}/settings")
def get_settings(app_id: int, request: Request) -> Any:
    return _settings(_app(request, app_id))


@router.put("/webhooks/v3/{app_id}/settings")
async def put_settings(app_id: int, request: Request) -> Any:
    em = _app(request, app_id)
    body = await json_body(request)
    target = body.get("targetUrl") if isinstance(body, dict) else None
    if not isinstance(target, str) or not target.startswith(("http://", "https://")):
        raise err.validation("targetUrl must be an http(s) URL")
    em.webhooks.target_url = target
    return _settings(em)


@router.get("/webhooks/v3/{app_id}/subscriptions")
def list_subscriptions(app_id: int, request: Request) -> Any:
    em = _app(request, app_id)
    return {"results": [s.as_json() for s in em.webhooks.subscriptions]}


@router.post("/webhooks/v3/{app_id}/subscriptions")
async def create_subscription(app_id: int, request: Request) -> Any:
    em = _app(request, app_id)
    body = await json_body(request)
    event_type = body.get("eventType") if isinstance(body, dict) else None
    if event_type not in EVENT_TYPES:
        raise err.validation(f"eventType {event_type!r} is not a supported subscription type")
    assert isinstance(body, dict)
    prop = body.get("propertyName")
    if event_type.endswith(".propertyChange") and not prop:
        raise err.validation("propertyName is required for a propertyChange subscription")
    sub = em.webhooks.subscribe(event_type, str(prop) if prop else None)
    sub.active = bool(body.get("active", True))
    return JSONResponse(sub.as_json(), 201)


@router.delete("/webhooks/v3/{app_id}/subscriptions/{subscription_id}")
def delete_subscription(app_id: int, subscription_id: int, request: Request) -> Response:
    em = _app(request, app_id)
    if not em.webhooks.unsubscribe(subscription_id):
        raise err.HubSpotApiError(
            404, err.error_body(f"Subscription {subscription_id} not found", "OBJECT_NOT_FOUND")
        )
    return Response(status_code=204)

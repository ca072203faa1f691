"""OAuth 2.0 token endpoint (password and client-credentials flows) and bearer checks.

Username-password flow: https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_username_password_flow.htm
Client credentials flow: https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_client_credentials_flow.htm
The response's ``signature`` is Base64(HMAC-SHA256(client_secret, id + issued_at)), which a client
can verify to know the token came from the org it asked.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ._state import SalesforceState

# Well-known sandbox credentials: this emulator only listens on loopback and holds test data.
DEFAULT_CLIENT_ID = "syncwright-sandbox-consumer-key"
DEFAULT_CLIENT_SECRET = "syncwright-sandbox-consumer-secret"  # noqa: S105
DEFAULT_USERNAME = "integration@syncwright.sandbox"
DEFAULT_PASSWORD = "sandbox-password"  # noqa: S105

INVALID_SESSION = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


@dataclass(frozen=True)
class AuthConfig:
    """The connected app (client id/secret) and the integration user the org accepts."""

    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    username: str = DEFAULT_USERNAME
    password: str = DEFAULT_PASSWORD
    security_token: str = ""
    instance_url: str | None = None


def bearer_token(authorization: str | None) -> str | None:
    """The token from ``Authorization: Bearer <t>`` (Salesforce also accepts ``OAuth <t>``)."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() not in ("bearer", "oauth") or not token.strip():
        return None
    return token.strip()


def _oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def _basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip()).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None


def token_router(state: SalesforceState, config: AuthConfig) -> APIRouter:
    router = APIRouter()

    @router.post("/services/oauth2/token")
    async def token(request: Request) -> JSONResponse:
        # The token endpoint takes application/x-www-form-urlencoded; parse it without pulling
        # in python-multipart (the emulator needs no multipart).
        raw = (await request.body()).decode("utf-8", errors="replace")
        fields = dict(parse_qsl(raw, keep_blank_values=True))
        fields.update({k: v for k, v in request.query_params.items() if k not in fields})
        grant = fields.get("grant_type")
        basic = _basic_credentials(request.headers.get("authorization"))
        client_id = fields.get("client_id") or (basic[0] if basic else None)
        client_secret = fields.get("client_secret") or (basic[1] if basic else None)
        if grant not in ("password", "client_credentials"):
            return _oauth_error("unsupported_grant_type", "grant type not supported")
        if not client_id or not hmac.compare_digest(client_id, config.client_id):
            return _oauth_error("invalid_client_id", "client identifier invalid")
        if not client_secret or not hmac.compare_digest(client_secret, config.client_secret):
            return _oauth_error("invalid_client", "invalid client credentials")
        if grant == "password":
            password = fields.get("password", "")
            accepted = {config.password, config.password + config.security_token}
            if fields.get("username") != config.username or password not in accepted:
                return _oauth_error("invalid_grant", "authentication failure")
        state.count_request("oauth2/token")
        return JSONResponse(_token_body(state, config, str(request.base_url).rstrip("/")))

    return router


def _token_body(state: SalesforceState, config: AuthConfig, base_url: str) -> dict[str, Any]:
    instance_url = config.instance_url or base_url
    identity = f"{instance_url}/id/{state.org_id}/{state.user_id}"
    issued_at = str(int(time.time() * 1000))
    digest = hmac.new(
        config.client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256
    ).digest()
    return {
        "access_token": state.issue_token(),
        "instance_url": instance_url,
        "id": identity,
        "token_type": "Bearer",
        "issued_at": issued_at,
        "signature": base64.b64encode(digest).decode(),
    }

"""Microsoft Entra ID, as far as a Business Central service-to-service client uses it.

The client-credentials grant (Microsoft identity platform, "OAuth 2.0 client credentials flow",
https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow):
``POST /{tenant}/oauth2/v2.0/token`` with ``grant_type=client_credentials``, ``client_id``,
``client_secret`` and ``scope=https://api.businesscentral.dynamics.com/.default``; the answer is
``{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": ...}``.
Errors use Entra's body (``error``, ``error_description`` starting with the AADSTS code,
``error_codes``, ``timestamp``, ``trace_id``, ``correlation_id``). The OpenID Connect discovery
document (``/{tenant}/v2.0/.well-known/openid-configuration``) is what ``msal`` reads first.

Access tokens here are opaque random strings (a real one is a JWT that only Business Central
reads); they expire like real ones, and an unknown or expired token gets Business Central's 401.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["BC_SCOPE", "EntraTokens", "TokenError", "openid_configuration"]

BC_SCOPE = "https://api.businesscentral.dynamics.com/.default"
TOKEN_LIFETIME = 3599


class TokenError(Exception):
    def __init__(self, status: int, error: str, aadsts: int, description: str) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.aadsts = aadsts
        self.description = description

    def body(self) -> dict[str, Any]:
        return {
            "error": self.error,
            "error_description": f"AADSTS{self.aadsts}: {self.description} "
            f"Trace ID: {uuid.uuid4()} Correlation ID: {uuid.uuid4()} "
            f"Timestamp: {datetime.now(UTC):%Y-%m-%d %H:%M:%SZ}",
            "error_codes": [self.aadsts],
            "timestamp": f"{datetime.now(UTC):%Y-%m-%d %H:%M:%SZ}",
            "trace_id": str(uuid.uuid4()),
            "correlation_id": str(uuid.uuid4()),
        }


@dataclass
class EntraTokens:
    """The app registration (one client id and secret) of one tenant, and the tokens issued."""

    tenant: str
    client_id: str
    client_secret: str
    lifetime: int = TOKEN_LIFETIME

    def __post_init__(self) -> None:
        self._tokens: dict[str, float] = {}
        self._lock = threading.Lock()
        self.issued = 0

    def issue(self, form: dict[str, str]) -> dict[str, Any]:
        if form.get("grant_type") != "client_credentials":
            raise TokenError(
                400,
                "unsupported_grant_type",
                70003,
                "The app requested an unsupported grant type.",
            )
        if form.get("client_id") != self.client_id:
            raise TokenError(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{form.get('client_id')}' was not found in the "
                f"directory '{self.tenant}'.",
            )
        if not secrets.compare_digest(form.get("client_secret", ""), self.client_secret):
            raise TokenError(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is "
                "the client secret value, not the client secret ID.",
            )
        scopes = (form.get("scope") or "").split()
        if scopes != [BC_SCOPE]:
            raise TokenError(
                400,
                "invalid_scope",
                1002012,
                f"The provided value for scope {' '.join(scopes) or '(none)'} is not valid. "
                f"Client credential flows must have a scope value with /.default suffixed "
                f"to the resource identifier (application ID URI): use {BC_SCOPE}.",
            )
        token = "eyJ0eXAiOiJKV1Qi." + secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = time.monotonic() + self.lifetime
            self.issued += 1
        return {
            "token_type": "Bearer",
            "expires_in": self.lifetime,
            "ext_expires_in": self.lifetime,
            "access_token": token,
        }

    def valid(self, token: str) -> bool:
        with self._lock:
            expires = self._tokens.get(token)
        return expires is not None and expires > time.monotonic()

    def expire_all(self) -> None:
        """Tests: every token issued so far is expired (the next call gets a 401)."""
        with self._lock:
            self._tokens.clear()


def openid_configuration(base: str, tenant: str) -> dict[str, Any]:
    """The discovery document Entra serves for a tenant (the fields msal and OIDC clients read)."""
    root = f"{base}/{tenant}"
    return {
        "token_endpoint": f"{root}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": [
            "client_secret_post",
            "private_key_jwt",
            "client_secret_basic",
        ],
        "jwks_uri": f"{root}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"{root}/v2.0",
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": f"{base}/oidc/userinfo",
        "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{root}/oauth2/v2.0/logout",
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "tid", "ver"],
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
    }

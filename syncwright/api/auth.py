"""Who may call the HTTP API: bearer tokens from ``auth.tokens``, each with a role.

Roles are ordered ``viewer < operator < admin``; a principal may do what its role and every
weaker role may. Viewers read; operators also retry, resolve, replay, reconcile and validate;
admins also take configuration-level actions (see ``docs/security.md``).

Wiring (done by :func:`syncwright.api.create_api` with
:func:`syncwright.api.hardening.secure_api`)::

    app = FastAPI(dependencies=[Depends(authorize_api)])   # every /api/v1 route, by method
    install_tokens(app, TokenRegistry.from_settings(settings))
    document_bearer_auth(app)                              # the scheme in /openapi.json

and in a route that needs the caller (e.g. to record it as the actor)::

    def retry(record_id: str, who: OperatorPrincipal) -> ...   # = Depends(require("operator"))

A console session middleware that has already authenticated its user may set
``request.state.principal``; :func:`require` accepts that principal as well.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Final

from fastapi import Depends, FastAPI, HTTPException, Request

from syncwright.config import ROLES, Role, Settings, TokenSettings

__all__ = [
    "API_PREFIX",
    "ROLES",
    "AdminPrincipal",
    "OperatorPrincipal",
    "Principal",
    "Role",
    "TokenRegistry",
    "ViewerPrincipal",
    "authorize_api",
    "document_bearer_auth",
    "install_tokens",
    "require",
    "required_role",
]

#: Every route under this prefix needs a token (viewer to read, operator to write).
API_PREFIX: Final = "/api/v1"
_RANK: Final[dict[Role, int]] = {role: rank for rank, role in enumerate(ROLES)}
_SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
_STATE_KEY: Final = "token_registry"


@dataclass(frozen=True)
class Principal:
    """The caller: the token's (or console user's) name and role."""

    name: str
    role: Role

    def can(self, role: Role) -> bool:
        """True when this principal's role is ``role`` or stronger."""
        return _RANK[self.role] >= _RANK[role]


def _digest(secret: str) -> bytes:
    # Comparing fixed-length digests keeps even the token's length out of the timing.
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()


class TokenRegistry:
    """The configured tokens; :meth:`authenticate` maps a presented secret to its principal."""

    def __init__(self, tokens: Iterable[TokenSettings]) -> None:
        self._tokens: tuple[tuple[bytes, Principal], ...] = tuple(
            (_digest(t.secret.reveal()), Principal(t.name, t.role)) for t in tokens
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenRegistry:
        return cls(settings.auth.tokens)

    def __len__(self) -> int:
        return len(self._tokens)

    def authenticate(self, secret: str) -> Principal | None:
        """The principal whose token is ``secret``, or None. Compares in constant time against
        every token (no early exit), so timing tells nothing about which one nearly matched."""
        presented = _digest(secret)
        found: Principal | None = None
        for digest, principal in self._tokens:
            if hmac.compare_digest(presented, digest) and found is None:
                found = principal
        return found


def install_tokens(app: FastAPI, registry: TokenRegistry) -> None:
    """Make ``registry`` the one :func:`require` checks for requests to ``app``."""
    setattr(app.state, _STATE_KEY, registry)


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


def _bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _principal(request: Request) -> Principal:
    session = getattr(request.state, "principal", None)
    if isinstance(session, Principal):
        return session
    registry = getattr(request.app.state, _STATE_KEY, None)
    if not isinstance(registry, TokenRegistry) or not len(registry):
        raise _unauthorized(
            "no API tokens are configured; add one under auth.tokens in syncwright.yaml "
            "(see docs/security.md)"
        )
    token = _bearer_token(request)
    if token is None:
        raise _unauthorized("missing token; send the header `Authorization: Bearer <token>`")
    principal = registry.authenticate(token)
    if principal is None:
        raise _unauthorized("the bearer token is not one of auth.tokens")
    return principal


def require(role: Role) -> Callable[[Request], Awaitable[Principal]]:
    """A FastAPI dependency returning the caller's :class:`Principal`: 401 (with
    ``WWW-Authenticate: Bearer``) without a known token, 403 when its role is weaker than
    ``role``."""
    if role not in _RANK:
        raise ValueError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")

    async def dependency(request: Request) -> Principal:
        principal = _principal(request)
        if not principal.can(role):
            raise HTTPException(
                403, f"{principal.name!r} is a {principal.role}; this needs the {role} role"
            )
        return principal

    dependency.__name__ = f"require_{role}"
    return dependency


def required_role(path: str, method: str) -> Role | None:
    """The weakest role that may send ``method`` to ``path``: None outside ``/api/v1``, viewer
    to read, operator to change anything."""
    if path != API_PREFIX and not path.startswith(API_PREFIX + "/"):
        return None
    return "viewer" if method.upper() in _SAFE_METHODS else "operator"


_require_viewer = require("viewer")
_require_operator = require("operator")

#: Route parameter types that give the caller, e.g. ``def retry(who: OperatorPrincipal)``.
ViewerPrincipal = Annotated[Principal, Depends(_require_viewer)]
OperatorPrincipal = Annotated[Principal, Depends(_require_operator)]
AdminPrincipal = Annotated[Principal, Depends(require("admin"))]


async def authorize_api(request: Request) -> Principal | None:
    """App-wide dependency: guards every ``/api/v1`` route by :func:`required_role`, so a route
    added later is covered without doing anything. A route that needs more (admin) adds
    ``Depends(require("admin"))`` itself."""
    # The matched route's template, not the raw URL: what was routed is what is guarded.
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    role = required_role(path if isinstance(path, str) else request.url.path, request.method)
    if role is None:
        return None
    check = _require_viewer if role == "viewer" else _require_operator
    return await check(request)


def document_bearer_auth(app: FastAPI) -> None:
    """Declare the bearer scheme in ``app``'s OpenAPI document on every ``/api/v1`` operation,
    so /docs can send a token ("Authorize")."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
        schemes["bearer"] = {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token from `auth.tokens` in syncwright.yaml.",
        }
        for path, operations in schema.get("paths", {}).items():
            if required_role(path, "GET") is None:
                continue
            for operation in operations.values():
                if isinstance(operation, dict):
                    operation["security"] = [{"bearer": []}]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]

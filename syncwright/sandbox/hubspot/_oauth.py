"""OAuth for a public app: ``POST /oauth/v1/token`` swaps a refresh token for a short-lived
access token, which the CRM API then accepts as a bearer token until it expires.

https://developers.hubspot.com/docs/api/oauth/tokens -- form-encoded ``grant_type=refresh_token``,
``client_id``, ``client_secret``, ``refresh_token``; the answer is ``{"token_type": "bearer",
"refresh_token", "access_token", "expires_in"}`` (30 minutes); a bad refresh token is a 400
``{"status": "BAD_REFRESH_TOKEN", "message": ...}``. Authorization codes are not emulated: the
app's refresh tokens are given to :func:`create_app`.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from syncwright.sandbox.hubspot._context import emulator

router = APIRouter()


@dataclass
class OAuthApp:
    client_id: str
    client_secret: str
    refresh_tokens: frozenset[str]
    ttl_seconds: float = 1800.0
    clock: Callable[[], float] = time.monotonic
    _issued: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def issue(self) -> tuple[str, int]:
        token = "oauth-" + secrets.token_urlsafe(24)
        with self._lock:
            self._issued[token] = self.clock() + self.ttl_seconds
        return token, int(self.ttl_seconds)

    def expired_for(self, token: str) -> float | None:
        """Seconds since ``token`` expired (0 or more), -1 while valid, None if never issued."""
        with self._lock:
            until = self._issued.get(token)
        if until is None:
            return None
        left = until - self.clock()
        return -1.0 if left > 0 else -left

    def expire_all(self) -> None:
        """Let every issued token run out (tests of the refresh path)."""
        with self._lock:
            now = self.clock()
            self._issued = {token: min(until, now) for token, until in self._issued.items()}


def _error(status: str, message: str) -> JSONResponse:
    return JSONResponse({"status": status, "message": message}, 400)


def _one(form: dict[str, list[str]], key: str) -> str:
    return (form.get(key) or [""])[0]


@router.post("/oauth/v1/token")
async def token(request: Request) -> Any:
    app = emulator(request).oauth
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    if _one(form, "grant_type") != "refresh_token":
        return _error(
            "BAD_GRANT_TYPE",
            "grant_type must be refresh_token (authorization codes are not emulated)",
        )
    if _one(form, "client_id") != app.client_id:
        return _error("BAD_CLIENT_ID", "missing or unknown client id")
    if _one(form, "client_secret") != app.client_secret:
        return _error("BAD_CLIENT_SECRET", "missing or invalid client secret")
    refresh = _one(form, "refresh_token")
    if refresh not in app.refresh_tokens:
        return _error("BAD_REFRESH_TOKEN", "missing or invalid refresh token")
    access, ttl = app.issue()
    return {
        "token_type": "bearer",
        "refresh_token": refresh,
        "access_token": access,
        "expires_in": ttl,
    }


def accepted(tokens: Iterable[str], app: OAuthApp, token: str) -> float | None:
    """None when ``token`` is accepted; else seconds since it expired (0 for unknown)."""
    if token in tokens:
        return None
    expired = app.expired_for(token)
    if expired is not None and expired < 0:
        return None
    return 0.0 if expired is None else expired

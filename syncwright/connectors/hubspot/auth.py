"""OAuth for a HubSpot public app: a refresh token swapped for short-lived access tokens.

https://developers.hubspot.com/docs/api/oauth/tokens -- ``POST /oauth/v1/token`` (form-encoded
``grant_type=refresh_token``, ``client_id``, ``client_secret``, ``refresh_token``) answers
``{"access_token", "expires_in", ...}``; access tokens live 30 minutes. The token is fetched
before the first request, renewed a minute before it runs out, and once more when HubSpot
answers 401 (revoked or expired early); a refused refresh token is an :class:`AuthError`
``hubspot.oauth.<status>`` (``BAD_REFRESH_TOKEN``, ``BAD_CLIENT_ID``, ...). No token or
secret ever shows in ``repr`` or a message.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator

import httpx

from syncwright.errors import AuthError

__all__ = ["OAuthRefreshAuth"]

_MARGIN_SECONDS = 60.0


class OAuthRefreshAuth(httpx.Auth):
    requires_response_body = True

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = token_url
        self._form = {
            "grant_type": "refresh_token",
            "client_id": client_id,
            "client_secret": client_secret,
            "refresh_token": refresh_token,
        }
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = 0.0

    def __repr__(self) -> str:
        return f"OAuthRefreshAuth({self._url!r}, client_id='****', refresh_token='****')"

    def _current(self) -> str | None:
        with self._lock:
            return self._token if self._clock() < self._renew_at else None

    def _store(self, response: httpx.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if (
            response.status_code != 200
            or not isinstance(body, dict)
            or not body.get("access_token")
        ):
            status = (
                str(body.get("status") or f"http_{response.status_code}")
                if isinstance(body, dict)
                else f"http_{response.status_code}"
            )
            raise AuthError(
                f"HubSpot refused the app's refresh token ({status}); reconnect the app "
                "(a new refresh token in credentials.refresh_token)",
                code=f"hubspot.oauth.{status}",
            )
        token = str(body["access_token"])
        lifetime = float(body.get("expires_in") or 1800)
        with self._lock:
            self._token = token
            self._renew_at = self._clock() + max(0.0, lifetime - _MARGIN_SECONDS)
        return token

    def _refresh(self) -> httpx.Request:
        return httpx.Request("POST", self._url, data=self._form)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._current()
        if token is None:
            token = self._store((yield self._refresh()))
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            # Expired or revoked before its time: one new token, one more try (a 401 means
            # nothing was applied, so even a write may be sent again).
            token = self._store((yield self._refresh()))
            request.headers["Authorization"] = f"Bearer {token}"
            yield request

"""Microsoft Entra ID client-credentials tokens for Business Central, as an ``httpx.Auth``.

Microsoft, "Using service-to-service (S2S) authentication" for Business Central and the identity
platform's client-credentials flow: ``POST {login}/{tenant}/oauth2/v2.0/token`` with
``grant_type=client_credentials``, ``client_id``, ``client_secret`` and
``scope=https://api.businesscentral.dynamics.com/.default``. A token is reused until a minute
before it expires; a 401 from Business Central fetches a new one once and repeats the request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Generator

import httpx

from syncwright.errors import AuthError, TransientError

__all__ = ["BC_SCOPE", "EntraClientCredentials"]

BC_SCOPE = "https://api.businesscentral.dynamics.com/.default"
_EARLY_SECONDS = 60.0


class EntraClientCredentials(httpx.Auth):
    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        http: httpx.Client,
    ) -> None:
        self.token_url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._http = http
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"EntraClientCredentials(token_url={self.token_url!r}, client_secret='***')"

    def token(self, *, renew: bool = False) -> str:
        with self._lock:
            if renew or self._token is None or time.monotonic() >= self._expires:
                self._token, self._expires = self._fetch()
            return self._token

    def _fetch(self) -> tuple[str, float]:
        form = {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            "scope": BC_SCOPE,
        }
        try:
            answer = self._http.post(self.token_url, data=form)
        except httpx.TransportError as exc:
            raise TransientError(
                f"Entra ID unreachable at {self.token_url}: {type(exc).__name__}",
                code="business_central.token_network",
            ) from exc
        if answer.status_code >= 500 or answer.status_code == 429:
            raise TransientError(
                f"Entra ID answered {answer.status_code}", code="business_central.token_unavailable"
            )
        try:
            body = answer.json()
        except ValueError:
            body = {}
        if answer.status_code != 200 or "access_token" not in body:
            error = str(body.get("error") or answer.status_code)
            # error_description starts with the AADSTS code; never echo the request (secret).
            described = str(body.get("error_description") or "").split(" Trace ID:")[0]
            raise AuthError(
                f"Entra ID refused the client credentials ({error}): {described}",
                code="business_central.Authentication_InvalidCredentials",
            )
        lifetime = float(body.get("expires_in") or 3599)
        return str(body["access_token"]), time.monotonic() + max(lifetime - _EARLY_SECONDS, 1.0)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        response = yield request
        if response.status_code == 401:
            response.read()
            request.headers["Authorization"] = f"Bearer {self.token(renew=True)}"
            yield request

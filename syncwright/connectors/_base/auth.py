"""Authentication schemes vendors use, as ``httpx.Auth`` objects a client passes to httpx.

- :class:`BearerAuth` -- ``Authorization: Bearer <token>`` (API keys, OAuth2 access tokens).
- :class:`BasicAuth` -- HTTP basic (httpx's own; Zendesk's ``email/token:api_token``).
- :class:`OAuth1Auth` -- OAuth 1.0a with HMAC-SHA256 and a realm, as NetSuite's token-based
  authentication (TBA) uses it.

None of them shows a secret in its ``repr``.
"""

from __future__ import annotations

from collections.abc import Generator

import httpx
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256
from oauthlib.oauth1 import Client as _OAuth1Signer

__all__ = ["BasicAuth", "BearerAuth", "OAuth1Auth"]

BasicAuth = httpx.BasicAuth


class BearerAuth(httpx.Auth):
    """Sends ``Authorization: Bearer <token>`` with every request."""

    def __init__(self, token: str) -> None:
        if not token.strip():
            raise ValueError("bearer token is empty")
        self._token = token

    def __repr__(self) -> str:
        return "BearerAuth(token='**********')"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


class OAuth1Auth(httpx.Auth):
    """Signs every request with OAuth 1.0a (HMAC-SHA256), a fresh nonce and timestamp.

    Only the method and the URL (with its query) are signed: JSON bodies stay out of the OAuth
    1.0a signature base string. ``realm`` is sent as given (NetSuite: the account id).
    """

    def __init__(
        self,
        consumer_key: str,
        consumer_secret: str,
        token_id: str,
        token_secret: str,
        *,
        realm: str | None = None,
    ) -> None:
        self._consumer_key = consumer_key
        self._consumer_secret = consumer_secret
        self._token_id = token_id
        self._token_secret = token_secret
        self._realm = realm

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(realm={self._realm!r}, consumer_key={self._consumer_key!r}, "
            f"token_id={self._token_id!r})"
        )

    def authorization(self, method: str, url: str) -> str:
        """The ``Authorization`` header value for one request."""
        signer = _OAuth1Signer(
            self._consumer_key,
            client_secret=self._consumer_secret,
            resource_owner_key=self._token_id,
            resource_owner_secret=self._token_secret,
            signature_method=SIGNATURE_HMAC_SHA256,
            realm=self._realm,
        )
        _, headers, _ = signer.sign(url, http_method=method)
        value: str = headers["Authorization"]
        return value

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self.authorization(request.method, str(request.url))
        yield request

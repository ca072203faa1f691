"""API authentication as Zendesk does it for API tokens and OAuth access tokens.

https://developer.zendesk.com/api-reference/introduction/security-and-auth/: basic auth with
``{email}/token`` as the user name and the API token as the password, or
``Authorization: Bearer {oauth_access_token}``. Anything else is 401
``{"error": "Couldn't authenticate you"}``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Credentials:
    email: str
    api_token: str
    oauth_tokens: Sequence[str] = ()

    def accepts(self, authorization: str | None) -> bool:
        if not authorization:
            return False
        scheme, _, value = authorization.partition(" ")
        value = value.strip()
        if scheme.lower() == "bearer":
            return any(_same(value, token) for token in self.oauth_tokens)
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        user, _, password = decoded.partition(":")
        expected_user = f"{self.email}/token".lower()
        return _same(user.lower(), expected_user) & _same(password, self.api_token)


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())

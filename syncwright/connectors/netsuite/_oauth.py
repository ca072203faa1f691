"""NetSuite token-based authentication (TBA): OAuth 1.0a signed with HMAC-SHA256.

The NetSuite emulator keeps its own credentials type and verifies signatures with oauthlib's
server side, so a mistake here cannot hide behind a shared implementation.

Oracle: "The Authorization Headers" (realm = account id, HMAC-SHA256 only since 2023.1)
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1534941295.html
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from syncwright.connectors import OAuth1Auth

__all__ = ["TbaAuth", "TbaCredentials"]

_ENV_NAMES = {
    "consumer_key": "NETSUITE_CONSUMER_KEY",
    "consumer_secret": "NETSUITE_CONSUMER_SECRET",
    "token_id": "NETSUITE_TOKEN_ID",
    "token_secret": "NETSUITE_TOKEN_SECRET",
}


@dataclass(frozen=True)
class TbaCredentials:
    """The four TBA values from an integration record and an access token.

    The secrets are excluded from ``repr`` (and so from ``str``, logs and tracebacks that print
    the object); only the key and token *ids* are ever shown.
    """

    consumer_key: str
    consumer_secret: str = field(repr=False)
    token_id: str
    token_secret: str = field(repr=False)

    def __post_init__(self) -> None:
        missing = [name for name in _ENV_NAMES if not getattr(self, name)]
        if missing:
            raise ValueError(f"TBA credentials incomplete: {', '.join(missing)} empty")

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, prefix: str = ""
    ) -> TbaCredentials:
        """Read ``{prefix}NETSUITE_CONSUMER_KEY`` and its three siblings from the environment."""
        env = os.environ if environ is None else environ
        names = {attr: prefix + name for attr, name in _ENV_NAMES.items()}
        missing = [name for name in names.values() if not env.get(name)]
        if missing:
            raise ValueError(f"missing environment variables: {', '.join(missing)}")
        return cls(**{attr: env[name] for attr, name in names.items()})

    def redacted(self) -> dict[str, str]:
        """Ids only, safe to print or log."""
        return {"consumer_key": self.consumer_key, "token_id": self.token_id}


class TbaAuth(OAuth1Auth):
    """Signs every httpx request with a fresh nonce and timestamp (OAuth 1.0a, HMAC-SHA256),
    the kit's :class:`~syncwright.connectors.OAuth1Auth` with NetSuite's realm (the account)."""

    def __init__(self, credentials: TbaCredentials, *, realm: str) -> None:
        super().__init__(
            credentials.consumer_key,
            credentials.consumer_secret,
            credentials.token_id,
            credentials.token_secret,
            realm=realm,
        )

"""Authenticating webhooks from Freshdesk automation rules.

Freshdesk signs nothing: the rule author sets custom headers and, optionally, HTTP basic
authentication on the *Trigger webhook* action
(https://support.freshdesk.com/support/solutions/articles/132589-using-webhooks-in-automation-rules).
So a delivery is authenticated by a shared secret the rule sends: in the header
``options.webhook_secret_header`` (recommended), or as the basic-auth password. Several
secrets (``webhook.secrets``) are accepted during a rotation; each comparison is constant-time.
The secret proves the sender, not the body: use HTTPS to the intake.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence

from syncwright.connectors import header_value, signature_matches
from syncwright.errors import AuthError

__all__ = ["FreshdeskWebhookVerifier"]


class FreshdeskWebhookVerifier:
    def __init__(self, secrets: Sequence[str], *, header: str) -> None:
        if not secrets:
            raise ValueError("at least one webhook secret is needed")
        self._secrets = tuple(secrets)
        self.header = header

    def __repr__(self) -> str:
        return f"FreshdeskWebhookVerifier(header={self.header!r}, secrets={len(self._secrets)})"

    def _known(self, given: str) -> bool:
        return any(signature_matches(secret, [given]) for secret in self._secrets)

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        given = header_value(headers, self.header)
        if given is not None:
            if self._known(given.strip()):
                return
            raise AuthError(
                f"Freshdesk webhook: {self.header} does not hold a configured secret",
                code="freshdesk.webhook_secret_mismatch",
            )
        authorization = header_value(headers, "authorization") or ""
        if authorization.lower().startswith("basic "):
            try:
                pair = base64.b64decode(authorization[6:].strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                pair = ""
            if ":" in pair and self._known(pair.split(":", 1)[1]):
                return
            raise AuthError(
                "Freshdesk webhook: the basic-auth password is not a configured secret",
                code="freshdesk.webhook_basic_auth_mismatch",
            )
        raise AuthError(
            f"Freshdesk webhook without {self.header} or basic auth: set the header (or "
            "'Requires authentication') on the automation rule's Trigger webhook action",
            code="freshdesk.webhook_unauthenticated",
        )

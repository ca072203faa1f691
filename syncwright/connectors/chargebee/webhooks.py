"""Chargebee webhook verification. Chargebee signs nothing: it authenticates a webhook with the
HTTP basic credentials set on the endpoint, and recommends re-fetching the event from the events
API to be sure it is genuine. Both are offered; either or both may be on.
https://www.chargebee.com/docs/2.0/webhook_settings.html (basic authentication),
https://apidocs.chargebee.com/docs/api/events#retrieve_an_event
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from syncwright.connectors import header_value
from syncwright.errors import AuthError, BusinessRuleError, ConfigError

__all__ = ["ChargebeeWebhookVerifier", "parse_credentials"]

EventFetcher = Callable[[str], Mapping[str, Any]]


def parse_credentials(connection: str, secrets: Sequence[str]) -> list[tuple[str, str]]:
    """``webhook.secrets`` entries as ``user:password`` pairs (several during a rotation)."""
    pairs = []
    for index, secret in enumerate(secrets):
        user, sep, password = secret.partition(":")
        if not sep or not user:
            raise ConfigError(
                f"connection {connection!r}: webhook.secrets[{index}] is not user:password",
                code="chargebee.bad_webhook_secret",
                problems=[
                    f"connections.{connection}.webhook.secrets[{index}]: set it to the basic "
                    "auth 'username:password' configured on the Chargebee webhook"
                ],
            )
        pairs.append((user, password))
    return pairs


class ChargebeeWebhookVerifier:
    """Basic auth against every configured pair and/or a re-fetch of the event by id."""

    def __init__(
        self, credentials: Sequence[tuple[str, str]], fetch: EventFetcher | None = None
    ) -> None:
        if not credentials and fetch is None:
            raise ValueError("nothing to verify with")
        self._credentials = tuple(credentials)
        self._fetch = fetch

    def __repr__(self) -> str:
        return (
            f"ChargebeeWebhookVerifier(credentials={len(self._credentials)}, "
            f"refetch={self._fetch is not None})"
        )

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        if self._credentials:
            self._check_basic_auth(header_value(headers, "authorization"))
        if self._fetch is not None:
            self._check_refetch(body)

    def _check_basic_auth(self, header: str | None) -> None:
        scheme, _, value = (header or "").partition(" ")
        if scheme.lower() != "basic" or not value.strip():
            raise AuthError(
                "Chargebee webhook without basic auth credentials",
                code="chargebee.webhook_unauthenticated",
            )
        try:
            user, _, password = (
                base64.b64decode(value.strip(), validate=True).decode().partition(":")
            )
        except (binascii.Error, UnicodeDecodeError):
            raise AuthError(
                "Chargebee webhook with unreadable basic auth credentials",
                code="chargebee.webhook_unauthenticated",
            ) from None
        given = f"{user}:{password}".encode()
        if not any(hmac.compare_digest(given, f"{u}:{p}".encode()) for u, p in self._credentials):
            raise AuthError(
                "Chargebee webhook basic auth credentials do not match webhook.secrets",
                code="chargebee.webhook_bad_credentials",
            )

    def _check_refetch(self, body: bytes) -> None:
        """The events API must hold this event, with the same type and content."""
        try:
            sent = json.loads(body)
        except ValueError:
            raise AuthError(
                "Chargebee webhook body is not JSON", code="chargebee.webhook_not_verified"
            ) from None
        event_id = sent.get("id") if isinstance(sent, dict) else None
        if not isinstance(event_id, str) or not event_id:
            raise AuthError(
                "Chargebee webhook has no event id", code="chargebee.webhook_not_verified"
            )
        try:
            held = self._fetch(event_id) if self._fetch is not None else {}
        except BusinessRuleError as exc:
            raise AuthError(
                f"Chargebee has no event {event_id} (re-fetch verification failed)",
                code="chargebee.webhook_not_verified",
            ) from exc
        if held.get("event_type") != sent.get("event_type") or held.get("content") != sent.get(
            "content"
        ):
            raise AuthError(
                f"Chargebee webhook {event_id} differs from the event the API holds",
                code="chargebee.webhook_not_verified",
            )

"""Server-side check of NetSuite token-based authentication, done by oauthlib for real.

OAuth 1.0a (RFC 5849) with HMAC-SHA256 only (Oracle ended HMAC-SHA1 in 2023.1), ``realm`` =
the account id, one consumer (integration record) and one token. A nonce is accepted once per
timestamp window; timestamps outside the window are refused. Every failure answers 401
INVALID_LOGIN with Oracle's sample body; the reason is kept for tests in
:attr:`TbaVerifier.failures` (never the secrets).

Oracle: https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1534941295.html
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Mapping
from typing import Any

from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, RequestValidator, ResourceEndpoint

from syncwright.sandbox.netsuite._credentials import TbaSecrets

__all__ = ["TbaVerifier"]

_DUMMY = "dummy-not-a-real-key-0000"


class _Validator(RequestValidator):  # type: ignore[misc]
    """oauthlib's hooks, answered from one credential set and an in-memory nonce log."""

    def __init__(self, verifier: TbaVerifier) -> None:
        super().__init__()
        self._v = verifier

    # formats: NetSuite keys are 64 hex characters, nonces vary by client library
    @property
    def allowed_signature_methods(self) -> tuple[str, ...]:
        return (SIGNATURE_HMAC_SHA256,)

    @property
    def client_key_length(self) -> tuple[int, int]:
        return (1, 128)

    @property
    def access_token_length(self) -> tuple[int, int]:
        return (1, 128)

    @property
    def nonce_length(self) -> tuple[int, int]:
        return (6, 64)

    @property
    def enforce_ssl(self) -> bool:
        return False  # the sandbox is plain http on loopback

    @property
    def timestamp_lifetime(self) -> int:
        return self._v.timestamp_window

    @property
    def dummy_client(self) -> str:
        return _DUMMY

    @property
    def dummy_access_token(self) -> str:
        return _DUMMY

    def validate_client_key(self, client_key: str, request: Any) -> bool:
        return _same(client_key, self._v.credentials.consumer_key)

    def validate_access_token(self, client_key: str, token: str, request: Any) -> bool:
        return _same(token, self._v.credentials.token_id)

    def get_client_secret(self, client_key: str, request: Any) -> str:
        if _same(client_key, self._v.credentials.consumer_key):
            return self._v.credentials.consumer_secret
        return _DUMMY

    def get_access_token_secret(self, client_key: str, token: str, request: Any) -> str:
        if _same(token, self._v.credentials.token_id):
            return self._v.credentials.token_secret
        return _DUMMY

    def validate_realms(
        self,
        client_key: str,
        token: str,
        request: Any,
        uri: str | None = None,
        realms: Any = None,
    ) -> bool:
        realm = getattr(request, "realm", None) or ""
        return realm.upper() == self._v.account.upper()

    def validate_timestamp_and_nonce(
        self,
        client_key: str,
        timestamp: str,
        nonce: str,
        request: Any,
        request_token: str | None = None,
        access_token: str | None = None,
    ) -> bool:
        fresh = self._v.remember_nonce(client_key, access_token or "", timestamp, nonce)
        if not fresh:
            request.replayed = True
        return fresh


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


class TbaVerifier:
    """Verifies ``Authorization: OAuth realm=...`` headers against one account's credentials."""

    def __init__(
        self, credentials: TbaSecrets, *, account: str, timestamp_window: int = 300
    ) -> None:
        self.credentials = credentials
        self.account = account
        self.timestamp_window = timestamp_window
        self.failures: list[str] = []
        self.accepted = 0
        self._lock = threading.Lock()
        self._nonces: dict[tuple[str, str, str], float] = {}
        self._endpoint = ResourceEndpoint(_Validator(self))

    def remember_nonce(self, client_key: str, token: str, timestamp: str, nonce: str) -> bool:
        """False if this nonce was already used by this consumer and token (a replay)."""
        now = time.time()
        with self._lock:
            horizon = now - 2 * self.timestamp_window
            if len(self._nonces) > 10_000:
                self._nonces = {k: t for k, t in self._nonces.items() if t >= horizon}
            key = (client_key, token, nonce)
            if key in self._nonces:
                return False
            self._nonces[key] = now
            return True

    def reset(self) -> None:
        with self._lock:
            self._nonces.clear()
            self.failures.clear()
            self.accepted = 0

    def verify(self, method: str, uri: str, headers: Mapping[str, str]) -> bool:
        """Whether the request carries a valid TBA signature for this account."""
        lowered = {key.lower(): value for key, value in headers.items()}
        if not lowered.get("authorization", "").startswith("OAuth "):
            self._fail("missing")
            return False
        # Only the Authorization header matters: JSON bodies are not part of the signature.
        try:
            valid, request = self._endpoint.validate_protected_resource_request(
                uri,
                http_method=method,
                body=None,
                headers={"Authorization": lowered["authorization"]},
            )
        except ValueError:  # oauthlib refuses query strings it cannot decode
            valid, request = False, None
        if valid:
            with self._lock:
                self.accepted += 1
            return True
        if request is None:
            self._fail("malformed")
        elif getattr(request, "replayed", False):
            self._fail("nonce_replayed")
        else:
            log: dict[str, bool] = request.validator_log
            failed = [name for name, ok in log.items() if not ok]
            # An empty log: refused before the checks ran (timestamp window, method, format).
            self._fail(",".join(failed) if failed else "parameters")
        return False

    def _fail(self, reason: str) -> None:
        with self._lock:
            self.failures.append(reason)

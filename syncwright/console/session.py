"""Console sessions: who signed in, until when, and the token every form must echo (CSRF).

A session lives on the server (in this process): the cookie carries only its id, signed so a
forged or altered cookie is refused before any lookup. Expiry is decided here, not by the
browser, and signing out deletes the session, so a copied cookie is worthless afterwards. A
restart of ``syncwright serve`` signs everyone out (the signing key is per process too).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from itsdangerous import BadSignature, Signer

from syncwright.api.auth import Principal

COOKIE_NAME: Final = "sw_console"
#: The sign-in form has no session yet: its CSRF token is a double-submit cookie.
SIGN_IN_COOKIE_NAME: Final = "sw_console_signin"
CSRF_FIELD: Final = "csrf_token"
CSRF_HEADER: Final = "X-CSRF-Token"
DEFAULT_LIFETIME_SECONDS: Final = 8 * 3600


@dataclass(frozen=True)
class Session:
    id: str
    principal: Principal
    csrf_token: str
    expires_at: float

    def csrf_ok(self, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(presented, self.csrf_token)


class SessionStore:
    """Sessions by id; thread-safe (pages run in uvicorn's thread pool)."""

    def __init__(
        self,
        *,
        lifetime_seconds: float = DEFAULT_LIFETIME_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.lifetime_seconds = lifetime_seconds
        self._clock = clock
        self._signer = Signer(secrets.token_bytes(32), salt="syncwright.console.session")
        self._sessions: dict[str, Session] = {}
        self._flashes: dict[str, list[tuple[str, str]]] = {}
        self._lock = threading.Lock()

    def create(self, principal: Principal) -> tuple[str, Session]:
        """A new session for ``principal``; returns the cookie value and the session."""
        session = Session(
            id=secrets.token_urlsafe(32),
            principal=principal,
            csrf_token=secrets.token_urlsafe(32),
            expires_at=self._clock() + self.lifetime_seconds,
        )
        with self._lock:
            self._drop_expired()
            self._sessions[session.id] = session
        return self._signer.sign(session.id).decode(), session

    def get(self, cookie: str | None) -> Session | None:
        """The live session a cookie names, or None (missing, forged, expired, signed out)."""
        if not cookie:
            return None
        try:
            session_id = self._signer.unsign(cookie).decode()
        except BadSignature:
            return None
        with self._lock:
            session = self._sessions.get(session_id)
            if session is not None and session.expires_at <= self._clock():
                del self._sessions[session_id]
                return None
            return session

    def end(self, cookie: str | None) -> None:
        session = self.get(cookie)
        if session is not None:
            with self._lock:
                self._sessions.pop(session.id, None)
                self._flashes.pop(session.id, None)

    def new_form_token(self) -> str:
        """The sign-in form's CSRF token: the cookie holds it signed, the form holds it plain."""
        return self._signer.sign(secrets.token_urlsafe(24)).decode()

    def form_token_ok(self, cookie: str, presented: str) -> bool:
        try:
            self._signer.unsign(cookie)
        except BadSignature:
            return False
        return hmac.compare_digest(cookie, presented)

    def flash(self, session: Session, kind: str, message: str) -> None:
        """A message for the next page this session sees (after a redirect)."""
        with self._lock:
            self._flashes.setdefault(session.id, []).append((kind, message))

    def pop_flash(self, session: Session) -> list[tuple[str, str]]:
        with self._lock:
            return self._flashes.pop(session.id, [])

    def _drop_expired(self) -> None:
        now = self._clock()
        for session_id in [k for k, s in self._sessions.items() if s.expires_at <= now]:
            del self._sessions[session_id]
            self._flashes.pop(session_id, None)

    def __len__(self) -> int:
        with self._lock:
            self._drop_expired()
            return len(self._sessions)

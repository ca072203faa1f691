"""Console sessions: expiry decided on the server, forged cookies refused, sign-out final."""

from __future__ import annotations

from syncwright.api.auth import Principal
from syncwright.console.app import safe_next
from syncwright.console.session import SessionStore


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_a_session_expires_on_the_server_whatever_the_cookie_says() -> None:
    clock = _Clock()
    store = SessionStore(lifetime_seconds=60, clock=clock)
    cookie, session = store.create(Principal("ops", "operator"))
    assert store.get(cookie) == session
    clock.now += 59
    assert store.get(cookie) == session
    clock.now += 1
    assert store.get(cookie) is None
    assert len(store) == 0


def test_forged_or_foreign_cookies_are_refused() -> None:
    store = SessionStore()
    cookie, _ = store.create(Principal("ops", "operator"))
    session_id, _, signature = cookie.rpartition(".")
    assert store.get(f"{session_id}x.{signature}") is None
    assert store.get(session_id) is None
    assert store.get("") is None and store.get(None) is None
    # Another process's store signs with another key: its cookies mean nothing here.
    other_cookie, _ = SessionStore().create(Principal("ops", "operator"))
    assert store.get(other_cookie) is None


def test_sign_out_deletes_the_session_and_its_messages() -> None:
    store = SessionStore()
    cookie, session = store.create(Principal("viewer", "viewer"))
    store.flash(session, "ok", "hello")
    store.end(cookie)
    assert store.get(cookie) is None
    assert store.pop_flash(session) == []


def test_csrf_tokens() -> None:
    store = SessionStore()
    _, session = store.create(Principal("ops", "operator"))
    assert session.csrf_ok(session.csrf_token)
    assert not session.csrf_ok(None) and not session.csrf_ok(session.csrf_token + "x")
    form = store.new_form_token()
    assert store.form_token_ok(form, form)
    assert not store.form_token_ok(form, store.new_form_token())
    assert not store.form_token_ok("unsigned", "unsigned")


def test_the_page_after_sign_in_stays_on_this_site() -> None:
    for path in ("/", "/exceptions?status=open&code=a.b", "/trace?q=cor_01abc"):
        assert safe_next(path) == path
    for foreign in (
        "//evil.example",
        "https://evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "evil",
        "",
        None,
    ):
        assert safe_next(foreign) == "/", foreign

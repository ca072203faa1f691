"""Plain HTTP helpers for the console tests: sign in like a browser, read a page's CSRF token."""

from __future__ import annotations

import re

import httpx

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "no CSRF field on the page"
    return found.group(1)


def sign_in(url: str, token: str) -> httpx.Client:
    client = httpx.Client(base_url=url, follow_redirects=False, timeout=30)
    form = client.get("/sign-in")
    answer = client.post(
        "/sign-in", data={"csrf_token": csrf_token(form.text), "token": token, "next": "/"}
    )
    assert answer.status_code == 303, answer.text
    assert "sw_console" in client.cookies
    return client

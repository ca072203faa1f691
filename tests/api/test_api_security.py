"""Tokens on every /api/v1 route, body limits, hostile input and the security-event log, over a
real uvicorn server on 127.0.0.1 (chunked bodies need a real server, not TestClient)."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import sqlalchemy as sa
from fastapi.routing import APIRoute

from syncwright.api.auth import required_role
from syncwright.connectors.example.signature import HEADER, sign
from syncwright.store.tables import security_events
from tests._support import (
    OPERATOR_TOKEN,
    SHOP_SECRET,
    VIEWER_TOKEN,
    Erp,
    Stack,
    bearer,
    customer_event,
    start_stack,
    write_config,
)

MAX_BODY = 4096


@pytest.fixture
def stack(tmp_path: Path, sqlite_url: str, erp: Erp) -> Iterator[Stack]:
    extra = f"server:\n  max_body_bytes: {MAX_BODY}\n"
    started = start_stack(write_config(tmp_path, db_url=sqlite_url, erp_url=erp.url, extra=extra))
    try:
        yield started
    finally:
        started.close()


def _api_routes(stack: Stack) -> list[tuple[str, str]]:
    app = stack.app
    found = [
        (method, route.path)
        for route in app.routes
        if isinstance(route, APIRoute) and required_role(route.path, "GET") is not None
        for method in sorted(route.methods or ())
    ]
    assert len(found) >= 6, found  # ledger, trace, exceptions (list, show, retry, resolve), ...
    return found


def test_every_api_route_needs_a_token_and_writes_need_an_operator(stack: Stack) -> None:
    anonymous = httpx.Client(timeout=30)
    viewer = httpx.Client(timeout=30, headers=bearer(VIEWER_TOKEN))
    wrong = httpx.Client(timeout=30, headers=bearer("not-one-of-the-configured-tokens"))
    for method, path in _api_routes(stack):
        url = stack.api.url + re.sub(r"\{[^}]+\}", "x", path)
        for client in (anonymous, wrong):
            response = client.request(method, url, json={})
            assert response.status_code == 401, (method, path, response.text)
            assert response.headers["www-authenticate"] == "Bearer"
        as_viewer = viewer.request(method, url, json={})
        if method in ("GET", "HEAD"):
            assert as_viewer.status_code not in (401, 403), (method, path, as_viewer.text)
        else:
            assert as_viewer.status_code == 403, (method, path, as_viewer.text)
            assert "needs the operator role" in as_viewer.json()["detail"]
    # Outside /api/v1 nothing changes: health, readiness and the intake need no token.
    assert anonymous.get(f"{stack.api.url}/healthz").status_code == 200
    assert anonymous.get(f"{stack.api.url}/readyz").status_code == 200
    spec = anonymous.get(f"{stack.api.url}/openapi.json").json()
    assert spec["paths"]["/api/v1/exceptions"]["get"]["security"] == [{"bearer": []}]
    assert "security" not in spec["paths"]["/hooks/{connection}"]["post"]


def test_limit_parameters_are_bounded(stack: Stack) -> None:
    url = f"{stack.api.url}/api/v1/exceptions"
    for bad in ("0", "-1", "1001", "10000000000000000000000"):
        response = stack.http.get(url, params={"limit": bad})
        assert response.status_code == 422, bad
        assert response.json()["detail"][0]["loc"] == ["query", "limit"]
    assert stack.http.get(url, params={"limit": "1000"}).status_code == 200


def _raw_chunked(url: str, path: str, head: dict[str, str], chunks: int) -> tuple[int, int]:
    """Send ``chunks`` chunks of 1 KiB with Transfer-Encoding: chunked and *no* terminating
    chunk, then read the answer: the server must refuse without waiting for a body's end.
    Returns (status, chunks the socket accepted before the answer came)."""
    parts = urlsplit(url)
    lines = [f"POST {path} HTTP/1.1", f"Host: {parts.netloc}", "Transfer-Encoding: chunked"]
    lines += [f"{k}: {v}" for k, v in head.items()]
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        sent = 0
        try:
            for _ in range(chunks):
                sock.sendall(b"400\r\n" + b"x" * 1024 + b"\r\n")
                sent += 1
        except OSError:  # the server answered and closed while we were still sending
            pass
        answer = b""
        while b"\r\n" not in answer:
            data = sock.recv(4096)
            if not data:
                break
            answer += data
    status = int(answer.split(b" ", 2)[1])
    return status, sent


def test_chunked_oversize_body_is_413_without_reading_to_the_end(stack: Stack) -> None:
    body_chunks = MAX_BODY // 1024 + 2
    status, _ = _raw_chunked(stack.api.url, "/hooks/shop", {HEADER: "t=1,v1=00"}, body_chunks)
    assert status == 413
    status, _ = _raw_chunked(
        stack.api.url,
        "/api/v1/exceptions/exc_x/resolve",
        {"Content-Type": "application/json", **bearer(OPERATOR_TOKEN)},
        body_chunks,
    )
    assert status == 413
    # Refused before the signature check: nothing stored, not even a security event.
    assert stack.runtime.inbox.count() == 0
    assert stack.runtime.inbox.security_events() == []
    # A declared Content-Length over the limit is refused too; a body within it is accepted.
    big = stack.post(b"{" + b" " * MAX_BODY + b"}")
    assert big.status_code == 413 and big.json()["error"]["code"] == "intake.too_large"
    assert stack.post(customer_event("evt_ok", "cust_ok")).status_code == 200


@pytest.mark.parametrize(
    "header",
    [
        "t=1700000000,v1=\xff\xfe",  # non-ASCII signature
        "t=\xb2,v1=00",  # a Unicode digit is not a timestamp
        "t=" + "9" * 400 + ",v1=00",  # a timestamp too large for the clock
        "t=1700000000,v1=abc",  # odd number of hex digits
        "v1=00",  # no timestamp
        "t=1700000000",  # no signature
        ",,,",
        "=",
    ],
)
def test_malformed_signature_headers_are_401_and_recorded(stack: Stack, header: str) -> None:
    response = stack.http.post(
        f"{stack.api.url}/hooks/shop",
        content=customer_event("evt_m", "cust_m"),
        headers={HEADER.encode(): header.encode("latin-1")},
    )
    assert response.status_code == 401, response.text
    [event] = stack.runtime.inbox.security_events()
    assert event["code"] == response.json()["error"]["code"]
    assert event["kind"] == "webhook_signature_rejected" and event["count"] == 1
    assert stack.runtime.inbox.count() == 0


def _signed(stack: Stack, body: bytes) -> httpx.Response:
    return stack.http.post(
        f"{stack.api.url}/hooks/shop", content=body, headers={HEADER: sign(body, SHOP_SECRET)}
    )


def test_hostile_json_is_400_never_500(tmp_path: Path, sqlite_url: str, erp: Erp) -> None:
    # A large body limit, so what is refused is the JSON's shape, not its size.
    extra = "server:\n  max_body_bytes: 4194304\n"
    stack = start_stack(write_config(tmp_path, db_url=sqlite_url, erp_url=erp.url, extra=extra))
    try:
        deep = b"[" * 10_000 + b"]" * 10_000
        huge_number = b'{"id": "evt_n", "amount": 1' + b"0" * 100_000 + b"}"
        moderately_deep = b'{"id": "evt_d", "x": ' + b"[" * 70 + b"]" * 70 + b"}"
        for body in (deep, huge_number, moderately_deep, b'{"id": "evt_f", "x": 1e999}'):
            response = _signed(stack, body)
            assert response.status_code == 400, response.text[:200]
            assert response.json()["error"]["code"] in (
                "intake.hostile_json",
                "intake.malformed_json",
            )
        nan = _signed(stack, b'{"id": "evt_nan", "x": NaN}')
        assert nan.status_code == 400
        assert stack.runtime.inbox.count() == 0
        # The API's own JSON bodies: 400 as well (FastAPI's parser, behind the body limit).
        url = f"{stack.api.url}/api/v1/exceptions/exc_x/resolve"
        for body in (deep, huge_number):
            headers = {"content-type": "application/json"}
            response = stack.http.post(url, content=body, headers=headers)
            assert response.status_code == 400, response.text[:200]
    finally:
        stack.close()


def test_a_forged_signature_flood_leaves_a_bounded_number_of_rows(stack: Stack) -> None:
    body = customer_event("evt_f", "cust_f")
    codes = set()
    for n in range(150):
        secret = "whsec_forged" if n % 2 else None
        headers = {HEADER: sign(body, secret)} if secret else {}
        response = stack.http.post(f"{stack.api.url}/hooks/shop", content=body, headers=headers)
        assert response.status_code == 401
        codes.add(response.json()["error"]["code"])
    with stack.runtime.db.engine.connect() as conn:
        rows = conn.execute(sa.select(security_events.c.code, security_events.c["count"])).all()
    # One row per code and five-minute window (two windows if the flood straddles a boundary).
    assert codes == {"signature.mismatch", "signature.missing"}
    assert len(rows) <= 2 * len(codes)
    assert sum(count for _, count in rows) == 150
    assert stack.runtime.inbox.count() == 0
    assert "whsec_forged" not in json.dumps(stack.runtime.inbox.security_events(), default=str)

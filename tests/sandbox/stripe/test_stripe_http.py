"""The wire level: form decoding, auth, error bodies, idempotency headers, expansion, paging."""

from __future__ import annotations

import base64
import subprocess
import sys
import threading
import time
from typing import Any

import httpx
import pytest

from syncwright.sandbox import FaultInjector, FaultPlan, ServerThread
from syncwright.sandbox._server import free_port
from syncwright.sandbox.stripe import StripeState
from syncwright.sandbox.stripe._errors import StripeAPIError
from syncwright.sandbox.stripe._forms import Params, decode_form

API_KEY = "sk_test_syncwright_emulator"
AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture
def http(stripe_server: ServerThread) -> Any:
    with httpx.Client(base_url=stripe_server.url, headers=AUTH) as client:
        yield client


# -- form decoding ---------------------------------------------------------------------------


def test_decode_brackets_lists_and_hashes() -> None:
    data = decode_form(
        [
            ("items[0][price]", "price_a"),
            ("items[0][quantity]", "2"),
            ("items[1][price]", "price_b"),
            ("metadata[plan]", "pro"),
            ("metadata[1]", "digit-key"),
            ("expand[]", "customer"),
            ("expand[]", "latest_invoice"),
            ("description", ""),
        ]
    )
    p = Params(data)
    items = p.sub_list("items")
    assert items is not None and [i.text("price") for i in items] == ["price_a", "price_b"]
    assert items[0].integer("quantity") == 2
    assert p.metadata() == {"plan": "pro", "1": "digit-key"}
    assert p.text_list("expand") == ["customer", "latest_invoice"]
    assert p.has("description") and p.text("description") is None
    p.finish()


def test_decode_rack_style_array_of_hashes() -> None:
    data = decode_form(
        [("lines[][type]", "custom"), ("lines[][amount]", "1"), ("lines[][type]", "other")]
    )
    assert data["lines"] == [{"type": "custom", "amount": "1"}, {"type": "other"}]


def test_params_errors_have_stripe_codes() -> None:
    p = Params(decode_form([("quantity", "two"), ("bogus", "1")]))
    with pytest.raises(StripeAPIError) as bad_int:
        p.integer("quantity")
    assert bad_int.value.code == "parameter_invalid_integer"
    with pytest.raises(StripeAPIError) as missing:
        p.req_text("customer")
    assert missing.value.code == "parameter_missing" and missing.value.param == "customer"
    with pytest.raises(StripeAPIError) as unknown:
        p.finish()
    assert unknown.value.code == "parameter_unknown" and unknown.value.param == "bogus"
    nested = Params(decode_form([("items[0][prise]", "x")]))
    entries = nested.sub_list("items")
    assert entries is not None
    with pytest.raises(StripeAPIError) as deep:
        nested.finish()
    assert deep.value.param == "items[0][prise]"


# -- auth and errors -------------------------------------------------------------------------


def test_auth_bearer_basic_missing_and_wrong(stripe_server: ServerThread) -> None:
    with httpx.Client(base_url=stripe_server.url) as raw:
        assert raw.get("/v1/customers", headers=AUTH).status_code == 200
        basic = base64.b64encode(f"{API_KEY}:".encode()).decode()
        assert (
            raw.get("/v1/customers", headers={"Authorization": f"Basic {basic}"}).status_code == 200
        )
        missing = raw.get("/v1/customers")
        assert missing.status_code == 401
        assert missing.json()["error"]["type"] == "invalid_request_error"
        assert "did not provide an API key" in missing.json()["error"]["message"]
        wrong = raw.get("/v1/customers", headers={"Authorization": "Bearer sk_test_nope1234"})
        assert wrong.status_code == 401
        body = wrong.json()["error"]
        assert body["type"] == "invalid_request_error"
        assert "sk_test_nope1234" not in body["message"] and body["message"].endswith("1234")


def test_error_bodies(http: httpx.Client) -> None:
    missing = http.get("/v1/customers/cus_nope")
    assert missing.status_code == 404
    err = missing.json()["error"]
    assert err["code"] == "resource_missing" and err["param"] == "id"
    assert err["message"] == "No such customer: 'cus_nope'"
    assert err["doc_url"].endswith("/error-codes/resource-missing")
    assert missing.headers["request-id"].startswith("req_")
    unknown = http.post("/v1/customers", data={"nmae": "x"})
    assert unknown.status_code == 400
    assert unknown.json()["error"]["code"] == "parameter_unknown"
    no_route = http.get("/v1/unicorns")
    assert no_route.status_code == 404
    assert no_route.json()["error"]["message"].startswith(
        "Unrecognized request URL (GET: /v1/unicorns)"
    )
    bad_limit = http.get("/v1/customers", params={"limit": "1000"})
    assert bad_limit.status_code == 400 and bad_limit.json()["error"]["param"] == "limit"


def test_rate_limit_body(stripe_server: ServerThread) -> None:
    with httpx.Client(base_url=stripe_server.url) as raw:
        raw.post("/_sandbox/rate_limit", json={"per_second": 1}).raise_for_status()
        codes = [raw.get("/v1/customers", headers=AUTH).status_code for _ in range(4)]
        assert 429 in codes
        limited = raw.get("/v1/customers", headers=AUTH)
        assert limited.status_code == 429
        assert limited.json()["error"] == {
            "code": "rate_limit",
            "doc_url": "https://docs.stripe.com/error-codes/rate-limit",
            "message": limited.json()["error"]["message"],
            "request_log_url": limited.json()["error"]["request_log_url"],
            "type": "rate_limit_error",
        }
        raw.post("/_sandbox/rate_limit", json={"per_second": None}).raise_for_status()
        assert raw.get("/v1/customers", headers=AUTH).status_code == 200


# -- idempotency -----------------------------------------------------------------------------


def test_idempotency_headers_and_saved_errors(
    http: httpx.Client, stripe_state: StripeState
) -> None:
    key = {"Idempotency-Key": "abc"}
    first = http.post("/v1/customers", data={"name": "I"}, headers=key)
    again = http.post("/v1/customers", data={"name": "I"}, headers=key)
    assert first.content == again.content
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["original-request"] == first.headers["request-id"]
    assert "idempotent-replayed" not in first.headers
    conflict = http.post("/v1/customers", data={"name": "J"}, headers=key)
    assert conflict.status_code == 400
    assert conflict.json()["error"]["type"] == "idempotency_error"
    # A 404 after the endpoint ran is saved and replayed; a validation error is not saved.
    k2 = {"Idempotency-Key": "k2"}
    assert http.post("/v1/customers/cus_nope", data={"name": "x"}, headers=k2).status_code == 404
    replay = http.post("/v1/customers/cus_nope", data={"name": "x"}, headers=k2)
    assert replay.status_code == 404 and replay.headers.get("idempotent-replayed") == "true"
    k3 = {"Idempotency-Key": "k3"}
    assert http.post("/v1/customers", data={"bad": "x"}, headers=k3).status_code == 400
    assert (
        "idempotent-replayed"
        not in http.post("/v1/customers", data={"bad": "x"}, headers=k3).headers
    )
    assert len(stripe_state.objects["customer"]) == 1


def test_concurrent_same_key_gets_409(http: httpx.Client, stripe_faults: FaultInjector) -> None:
    stripe_faults.configure(FaultPlan(latency_ms=400))
    results: list[int] = []

    def post() -> None:
        results.append(
            http.post(
                "/v1/customers", data={"name": "c"}, headers={"Idempotency-Key": "same"}
            ).status_code
        )

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
        time.sleep(0.1)
    for t in threads:
        t.join()
    assert sorted(results) == [200, 409]


# -- expansion and pagination ----------------------------------------------------------------


def test_expand_rules(http: httpx.Client, catalog: Any) -> None:
    price = http.get(f"/v1/prices/{catalog.monthly.id}", params={"expand[]": "product"}).json()
    assert price["product"]["object"] == "product"
    listed = http.get("/v1/prices", params={"expand[]": "data.product"}).json()
    assert all(p["product"]["object"] == "product" for p in listed["data"])
    bad = http.get(f"/v1/prices/{catalog.monthly.id}", params={"expand[]": "currency"})
    assert bad.status_code == 400 and "cannot be expanded" in bad.json()["error"]["message"]
    deep = http.get("/v1/prices", params={"expand[]": "data.a.b.c.d"})
    assert deep.status_code == 400


def test_list_pagination_cursors(http: httpx.Client) -> None:
    ids = [http.post("/v1/customers", data={"name": f"n{i}"}).json()["id"] for i in range(7)]
    newest_first = list(reversed(ids))
    page = http.get("/v1/customers", params={"limit": 3}).json()
    assert page["object"] == "list" and page["url"] == "/v1/customers" and page["has_more"] is True
    assert [c["id"] for c in page["data"]] == newest_first[:3]
    nxt = http.get(
        "/v1/customers", params={"limit": 3, "starting_after": page["data"][-1]["id"]}
    ).json()
    assert [c["id"] for c in nxt["data"]] == newest_first[3:6]
    last = http.get(
        "/v1/customers", params={"limit": 3, "starting_after": nxt["data"][-1]["id"]}
    ).json()
    assert [c["id"] for c in last["data"]] == newest_first[6:] and last["has_more"] is False
    prev = http.get(
        "/v1/customers", params={"limit": 2, "ending_before": nxt["data"][0]["id"]}
    ).json()
    assert [c["id"] for c in prev["data"]] == newest_first[1:3] and prev["has_more"] is True
    bad = http.get("/v1/customers", params={"starting_after": "cus_nope"})
    assert bad.status_code == 404 and bad.json()["error"]["param"] == "starting_after"


def test_events_created_filter_and_previous_attributes(http: httpx.Client) -> None:
    start = int(time.time())
    cid = http.post("/v1/customers", data={"name": "Old", "metadata[a]": "1"}).json()["id"]
    http.post(f"/v1/customers/{cid}", data={"name": "New", "metadata[a]": ""})
    events = http.get(
        "/v1/events", params={"created[gte]": start, "type": "customer.updated"}
    ).json()["data"]
    assert len(events) == 1
    prev = events[0]["data"]["previous_attributes"]
    assert prev == {"name": "Old", "metadata": {"a": "1"}}
    assert events[0]["data"]["object"]["name"] == "New"
    none_later = http.get("/v1/events", params={"created[gt]": start + 3600}).json()["data"]
    assert none_later == []


def test_module_entry_point_serves() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "syncwright.sandbox.stripe", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/_sandbox/health", timeout=1)
                if r.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "emulator did not start"
            time.sleep(0.1)
        created = httpx.post(
            f"http://127.0.0.1:{port}/v1/customers",
            data={"name": "CLI"},
            headers={"Authorization": "Bearer sk_test_sandbox"},
        )
        assert created.status_code == 200 and created.json()["id"].startswith("cus_")
    finally:
        proc.terminate()
        proc.wait(10)

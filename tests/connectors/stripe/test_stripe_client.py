"""Our Stripe client against the emulator (reads, error classification, limits), plus the
header rules the emulator never exercises (Retry-After, Stripe-Should-Retry) on a stub server."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
import pytest
import stripe

from syncwright.connectors._base import ConcurrencyLimiter
from syncwright.connectors.stripe.client import API_VERSION, StripeClient
from syncwright.errors import AuthError, BusinessRuleError, TransientError
from syncwright.sandbox import FaultInjector, FaultPlan, ServerThread
from syncwright.sandbox._server import free_port
from syncwright.sandbox.stripe import DEFAULT_API_VERSION
from tests.connectors.stripe._support import API_KEY


def _client(
    server: ServerThread, *, api_key: str = API_KEY, limiter: ConcurrencyLimiter | None = None
) -> StripeClient:
    return StripeClient(server.url, api_key, timeout=5, limiter=limiter)


def test_reads_against_the_emulator(sdk: stripe.StripeClient, stripe_server: ServerThread) -> None:
    product = sdk.v1.products.create({"name": "Seats"})
    price = sdk.v1.prices.create(
        {
            "product": product.id,
            "currency": "eur",
            "unit_amount": 1200,
            "recurring": {"interval": "year"},
        }
    )
    customer = sdk.v1.customers.create(
        {
            "name": "Reader",
            "payment_method": "pm_card_visa",
            "invoice_settings": {"default_payment_method": "pm_card_visa"},
        }
    )
    sub = sdk.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}]})
    note = sdk.v1.credit_notes.create({"invoice": str(sub.latest_invoice), "amount": 100})
    with _client(stripe_server) as client:
        assert API_KEY not in repr(client)
        assert client.get_customer(customer.id)["name"] == "Reader"
        expanded = client.get_subscription(sub.id, expand=["customer", "items.data.price.product"])
        assert expanded["customer"]["id"] == customer.id
        assert expanded["items"]["data"][0]["price"]["product"]["name"] == "Seats"
        invoice = client.get_invoice(str(sub.latest_invoice))
        assert invoice["total"] == 1200 and invoice["currency"] == "eur"
        assert client.get_credit_note(note.id)["amount"] == 100
        assert [line["amount"] for line in client.list_invoice_lines(invoice["id"])] == [1200]
        assert len(client.list_credit_note_lines(note.id)) == 1
        page = client.list_events(limit=2, types=["customer.created", "invoice.paid"])
        assert [e["type"] for e in page["data"]] == ["invoice.paid", "customer.created"]
        older = client.list_events(starting_after=page["data"][0]["id"], types=["customer.*"])
        assert [e["type"] for e in older["data"]] == [
            "customer.subscription.created",
            "customer.created",
        ]


def test_missing_object_is_a_business_rule_error(stripe_server: ServerThread) -> None:
    with _client(stripe_server) as client, pytest.raises(BusinessRuleError) as info:
        client.get_invoice("in_does_not_exist")
    assert info.value.code == "stripe.resource_missing"
    assert "in_does_not_exist" in info.value.message and "param: id" in info.value.message
    assert "another Stripe account" in info.value.remediation


def test_wrong_key_is_an_auth_error_and_never_echoed(stripe_server: ServerThread) -> None:
    wrong = "sk_test_wrong_key_0123456789abcdef"
    with _client(stripe_server, api_key=wrong) as client, pytest.raises(AuthError) as info:
        client.get_customer("cus_x")
    assert info.value.code == "stripe.invalid_request_error"
    for text in (str(info.value), repr(info.value), info.value.message, repr(client)):
        assert wrong not in text
        assert API_KEY not in text


def test_rate_limited_is_transient(stripe_server: ServerThread) -> None:
    httpx.post(f"{stripe_server.url}/_sandbox/rate_limit", json={"per_second": 1}, timeout=5)
    try:
        with _client(stripe_server) as client, pytest.raises(TransientError) as info:
            for _ in range(10):
                client.list_events(limit=1)
        assert info.value.code == "stripe.rate_limit"
    finally:
        httpx.post(f"{stripe_server.url}/_sandbox/rate_limit", json={"per_second": None}, timeout=5)


def test_server_errors_and_timeouts_are_transient(
    stripe_server: ServerThread, stripe_faults: FaultInjector
) -> None:
    stripe_faults.configure(FaultPlan(error_5xx_rate=1.0, only_methods=frozenset({"GET"})))
    with _client(stripe_server) as client, pytest.raises(TransientError) as info:
        client.get_customer("cus_x")
    assert info.value.code == "stripe.api_error"
    stripe_faults.configure(
        FaultPlan(timeout_rate=1.0, stall_seconds=1.0, only_methods=frozenset({"GET"}))
    )
    slow = StripeClient(stripe_server.url, API_KEY, timeout=0.2)
    with pytest.raises(TransientError) as info:
        slow.get_customer("cus_x")
    slow.close()
    assert info.value.code == "stripe.timeout"
    stripe_faults.configure(FaultPlan())


def test_unreachable_is_transient() -> None:
    client = StripeClient(f"http://127.0.0.1:{free_port()}", API_KEY, timeout=2)
    with client, pytest.raises(TransientError) as info:
        client.get_customer("cus_x")
    assert info.value.code == "stripe.network"


def test_concurrency_limit_holds(stripe_server: ServerThread, stripe_faults: FaultInjector) -> None:
    stripe_faults.configure(FaultPlan(latency_ms=50))
    limiter = ConcurrencyLimiter(2)
    client = _client(stripe_server, limiter=limiter)
    threads = [threading.Thread(target=lambda: client.list_events(limit=1)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    client.close()
    stripe_faults.configure(FaultPlan())
    assert limiter.max_in_flight == 2


# -- header rules, on a stub Stripe ------------------------------------------------------


def _stub(handler: Callable[[httpx.Request], httpx.Response]) -> StripeClient:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return StripeClient("https://api.stripe.test", API_KEY, timeout=5, http=http)


def _error(status: int, code: str | None = None, **headers: str) -> httpx.Response:
    body = {"error": {"type": "invalid_request_error", "message": "nope"}}
    if code:
        body["error"]["code"] = code
    return httpx.Response(status, json=body, headers=headers)


def test_request_shape() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"object": "list", "data": [], "has_more": False})

    _stub(handler).list_events(
        ending_before="evt_1", limit=5, types=["a.b", "c.d"], created_gte=100
    )
    request = seen[0]
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    # The literal pinned in client.py is the emulator's (and the SDK's) version.
    assert request.headers["stripe-version"] == API_VERSION == DEFAULT_API_VERSION
    assert request.url.path == "/v1/events"
    assert list(request.url.params.multi_items()) == [
        ("limit", "5"),
        ("ending_before", "evt_1"),
        ("types[0]", "a.b"),
        ("types[1]", "c.d"),
        ("created[gte]", "100"),
    ]


@pytest.mark.parametrize(
    ("response", "kind", "code", "retry_after"),
    [
        (
            _error(429, "rate_limit", **{"Retry-After": "7"}),
            TransientError,
            "stripe.rate_limit",
            7.0,
        ),
        (
            _error(409, "lock_timeout", **{"Stripe-Should-Retry": "true"}),
            TransientError,
            "stripe.lock_timeout",
            None,
        ),
        (_error(400, "x", **{"Stripe-Should-Retry": "true"}), TransientError, "stripe.x", None),
        (_error(503, None), TransientError, "stripe.invalid_request_error", None),
        (
            _error(500, None, **{"Stripe-Should-Retry": "false"}),
            BusinessRuleError,
            "stripe.invalid_request_error",
            None,
        ),
        (_error(403, "secret_key_required"), AuthError, "stripe.secret_key_required", None),
        (_error(400, "parameter_unknown"), BusinessRuleError, "stripe.parameter_unknown", None),
        (
            httpx.Response(502, text="<html>bad gateway</html>"),
            TransientError,
            "stripe.http_502",
            None,
        ),
    ],
)
def test_classification(
    response: httpx.Response, kind: type[Exception], code: str, retry_after: float | None
) -> None:
    client = _stub(lambda _request: response)
    with pytest.raises(kind) as info:
        client.get_customer("cus_1")
    error = info.value
    assert type(error) is kind and getattr(error, "code", None) == code
    if isinstance(error, TransientError):
        assert error.retry_after == retry_after


def test_keys_in_error_text_are_scrubbed() -> None:
    leaked = "sk_live_abcdefghijklmnop"
    client = _stub(
        lambda _r: httpx.Response(
            400, json={"error": {"message": f"key {API_KEY} and {leaked}", "type": "x"}}
        )
    )
    with pytest.raises(BusinessRuleError) as info:
        client.get_customer("cus_1")
    assert API_KEY not in info.value.message and leaked not in info.value.message

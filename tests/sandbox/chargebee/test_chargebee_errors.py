"""Errors as Chargebee sends them: each status with the body its spec's error schema describes
(``tests/vendor/chargebee/api_v1_spec.subset.json``), raised by the SDK as its own error
classes; 429 with Retry-After; idempotent replays."""

from __future__ import annotations

import uuid
from typing import Any

import chargebee
import httpx
import pytest

from syncwright.sandbox import FaultPlan
from tests._vendor import vendor_json
from tests.connectors.chargebee._support import PRO_PRICE, sdk_for
from tests.sandbox.chargebee.conftest import Emulator


def _conforms(status: int, body: dict[str, Any]) -> None:
    """``body`` satisfies the spec's schema for ``status``: required keys, enum values."""
    schema = vendor_json("chargebee/api_v1_spec.subset.json")["error_schemas"][str(status)]
    for key in schema["required"]:
        if key == "type" and "untyped" in schema["properties"]["type"]["enum"]:
            continue  # "untyped": the error carries no type
        assert key in body, (status, key)
    for key, spec in schema["properties"].items():
        if key in body and "enum" in spec:
            assert body[key] in spec["enum"], (status, key, body[key])


def _raw(emulator: Emulator, method: str, path: str, **kwargs: Any) -> httpx.Response:
    kwargs.setdefault("auth", (emulator.sdk.env.api_key, ""))
    return httpx.request(method, f"{emulator.url}/api/v2{path}", trust_env=False, **kwargs)


def test_not_found_is_the_sdks_invalid_request_error(emulator: Emulator) -> None:
    with pytest.raises(chargebee.InvalidRequestError) as raised:
        emulator.sdk.Customer.retrieve("no-such-customer")
    error = raised.value
    assert (error.http_status_code, error.api_error_code, error.error_code) == (
        404,
        "resource_not_found",
        "resource_not_found",
    )
    _conforms(404, error.json_obj)


def test_wrong_api_key_is_401(emulator: Emulator) -> None:
    other = sdk_for(emulator.url, api_key="test_wrong_key")
    with pytest.raises(chargebee.APIError) as raised:
        other.Customer.list()
    assert raised.value.http_status_code == 401
    assert raised.value.api_error_code == "api_authentication_failed"
    _conforms(401, raised.value.json_obj)


def test_bad_parameters_name_the_parameter(emulator: Emulator) -> None:
    sdk = emulator.sdk
    customer = sdk.Customer.create({"company": "Params"}).customer
    with pytest.raises(chargebee.InvalidRequestError) as unknown_price:
        sdk.Subscription.create_with_items(
            customer.id, {"subscription_items": [{"item_price_id": "nope", "quantity": 1}]}
        )
    assert unknown_price.value.param == "subscription_items[item_price_id][0]"
    with pytest.raises(chargebee.InvalidRequestError) as duplicate:
        sdk.Customer.create({"id": customer.id, "company": "Again"})
    assert duplicate.value.api_error_code == "duplicate_entry"
    _conforms(400, duplicate.value.json_obj)
    with pytest.raises(chargebee.InvalidRequestError) as limit:
        sdk.Event.list({"limit": 101})
    assert (limit.value.api_error_code, limit.value.param) == ("param_wrong_value", "limit")


def test_rate_limit_is_429_with_retry_after(emulator: Emulator) -> None:
    url = f"{emulator.url}/_sandbox/rate_limit"
    httpx.post(url, json={"per_minute": 1}, trust_env=False).raise_for_status()
    try:
        emulator.sdk.Event.list({"limit": 1})
        with pytest.raises(chargebee.OperationFailedError) as raised:
            emulator.sdk.Event.list({"limit": 1})
        response = _raw(emulator, "GET", "/events")
    finally:
        httpx.post(url, json={"per_minute": None}, trust_env=False).raise_for_status()
    assert raised.value.http_status_code == 429
    assert raised.value.api_error_code == "api_request_limit_exceeded"
    assert response.status_code == 429 and 1 <= int(response.headers["retry-after"]) <= 60
    _conforms(429, response.json())


def test_outage_is_503(emulator: Emulator) -> None:
    emulator.faults.configure(FaultPlan(error_5xx_rate=1.0, only_methods=frozenset({"GET"})))
    try:
        response = _raw(emulator, "GET", "/events")
    finally:
        emulator.faults.configure(FaultPlan())
    assert response.status_code == 503
    _conforms(503, response.json())


def test_idempotency_key_replays_and_refuses_other_payloads(emulator: Emulator) -> None:
    sdk = emulator.sdk
    customer = sdk.Customer.create({"company": "Idem"}).customer
    key = {"chargebee-idempotency-key": str(uuid.uuid4())}
    params = {"subscription_items": [{"item_price_id": PRO_PRICE, "quantity": 1}]}
    first = sdk.Subscription.create_with_items(customer.id, params, headers=dict(key))
    again = sdk.Subscription.create_with_items(customer.id, params, headers=dict(key))
    assert again.subscription.id == first.subscription.id
    assert again.is_idempotency_replayed and not first.is_idempotency_replayed
    listed = sdk.Subscription.list({"customer_id": {"is": customer.id}}).list
    assert len(listed) == 1
    other = {"subscription_items": [{"item_price_id": PRO_PRICE, "quantity": 2}]}
    with pytest.raises(chargebee.InvalidRequestError) as raised:
        sdk.Subscription.create_with_items(customer.id, other, headers=dict(key))
    assert (raised.value.http_status_code, raised.value.api_error_code) == (
        422,
        "unable_to_process_request",
    )
    _conforms(422, raised.value.json_obj)

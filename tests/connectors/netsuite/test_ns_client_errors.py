"""Error classification: each NetSuite failure becomes the syncwright error that says what next."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import replace
from email.utils import format_datetime

import httpx
import pytest

from syncwright.connectors.netsuite._errors import parse_retry_after, value_at
from syncwright.connectors.netsuite.client import NetSuiteClient, TbaCredentials
from syncwright.errors import (
    AuthError,
    BusinessRuleError,
    SyncwrightError,
    TransientError,
    UncertainOutcomeError,
)
from syncwright.sandbox import FaultPlan
from syncwright.sandbox._server import free_port

CUSTOMER = {"companyName": "Err Co", "subsidiary": {"id": "1"}, "externalId": "ERR-1"}


# -- business rules (400) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "body", "code", "remedy"),
    [
        ("customer", {"companyName": "X"}, "netsuite.USER_ERROR", "map the account's legal entity"),
        (
            "customer",
            {"companyName": "X", "subsidiary": {"id": "99"}},
            "netsuite.INVALID_KEY_OR_REF",
            "Create subsidiary 99 in NetSuite or map the account's legal entity to an existing "
            "subsidiary (ownership/mapping), then retry the exception.",
        ),
        (
            "customer",
            {"companyName": "X", "subsidiary": {"id": "1"}, "currency": {"id": "9"}},
            "netsuite.INVALID_KEY_OR_REF",
            "Enable currency 9 in NetSuite",
        ),
        (
            "customer",
            {"companyName": "X", "subsidiary": {"id": "1"}, "taxItem": {"id": "55"}},
            "netsuite.INVALID_KEY_OR_REF",
            "Tax code 55 is not valid",
        ),
        (
            "salesOrder",
            {"entity": {"id": "110"}, "item": {"items": [{"item": {"id": 9999}, "amount": 1}]}},
            "netsuite.INVALID_CONTENT",
            "Item 9999 does not exist in NetSuite",
        ),
        (
            "salesOrder",
            {
                "entity": {"id": "110"},
                "item": {"items": [{"item": {"id": 98}, "taxCode": {"id": "5"}}]},
            },
            "netsuite.USER_ERROR",
            "Tax code 5 is not valid for this subsidiary",
        ),
        (
            "salesOrder",
            {"entity": {"id": "8080"}, "item": {"items": [{"item": {"id": 98}}]}},
            "netsuite.INVALID_KEY_OR_REF",
            "Customer 8080 does not exist in NetSuite: sync the customer first",
        ),
    ],
)
def test_business_rule_errors_carry_remediation(
    client: NetSuiteClient, record: str, body: dict, code: str, remedy: str
) -> None:
    with pytest.raises(BusinessRuleError) as info:
        client.create(record, body)
    error = info.value
    assert error.code == code
    assert remedy in error.remediation
    assert not error.retryable
    assert error.to_dict()["remediation"] == error.remediation


def test_duplicate_external_id_points_to_upsert(client: NetSuiteClient) -> None:
    client.create("customer", CUSTOMER)
    with pytest.raises(BusinessRuleError) as info:
        client.create("customer", CUSTOMER)
    assert info.value.code == "netsuite.USER_ERROR"
    assert "upsert by external ID" in info.value.remediation


def test_missing_record_on_get(client: NetSuiteClient) -> None:
    with pytest.raises(BusinessRuleError) as info:
        client.get("customer", "999999")
    assert info.value.code == "netsuite.NONEXISTENT_ID"
    with pytest.raises(BusinessRuleError) as unknown_type:
        client.get_by_external_id("spaceship", "X")  # not a "not found": a wrong record type
    assert unknown_type.value.code == "netsuite.INVALID_RCRD_TYPE"


# -- authentication (401) -------------------------------------------------------------------


def test_bad_credentials_raise_auth_error(emulator) -> None:
    wrong = replace(emulator.credentials, token_secret="0" * 64)
    with emulator.client(credentials=wrong) as client, pytest.raises(AuthError) as info:
        client.get("customer", "110")
    assert info.value.code == "netsuite.INVALID_LOGIN"
    assert not info.value.retryable


# -- transient (429, 5xx, timeouts on reads, never-sent writes) -----------------------------


def test_concurrency_limit_is_transient(emulator) -> None:
    emulator.sandbox.set_concurrency_limit(1)
    emulator.sandbox.configure_faults(FaultPlan(latency_ms=500))

    def hold_the_only_slot() -> None:
        with emulator.client() as other:
            other.get("customer", "110")

    holder = threading.Thread(target=hold_the_only_slot)
    holder.start()
    # The holder is inside the account's only slot once the emulator counts it (not after a
    # fixed sleep, which a loaded machine can outrun); its 500 ms latency keeps it there.
    deadline = time.monotonic() + 30
    while emulator.sandbox.governor.in_flight < 1:
        assert time.monotonic() < deadline, "the holder's request never reached NetSuite"
        time.sleep(0.005)
    try:
        with emulator.client() as client, pytest.raises(TransientError) as info:
            client.get("customer", "107")
    finally:
        holder.join()
    assert info.value.code == "netsuite.CONCURRENCY_LIMIT_EXCEEDED"
    assert info.value.retryable
    assert emulator.sandbox.breaches == 1


def test_5xx_is_transient(emulator, client: NetSuiteClient) -> None:
    emulator.sandbox.configure_faults(FaultPlan(error_5xx_rate=1.0))
    with pytest.raises(TransientError) as info:
        client.create("customer", CUSTOMER)
    assert info.value.code == "netsuite.UNEXPECTED_ERROR"
    assert client.get_by_external_id("customer", "ERR-1") is None


def test_read_timeout_is_transient(emulator) -> None:
    emulator.sandbox.configure_faults(FaultPlan(latency_ms=400))
    with emulator.client(timeout=0.1) as client, pytest.raises(TransientError) as info:
        client.get("customer", "110")
    assert info.value.code == "netsuite.timeout"
    with emulator.client(timeout=0.1) as client, pytest.raises(TransientError):
        list(client.suiteql("SELECT id FROM customer"))  # a POST, but a read


def test_write_to_a_closed_port_is_transient(emulator) -> None:
    client = NetSuiteClient(
        f"http://127.0.0.1:{free_port()}", "TSTDRV1", emulator.credentials, timeout=1
    )
    with client, pytest.raises(TransientError) as info:
        client.create("customer", CUSTOMER)
    assert info.value.code == "netsuite.connection"


# -- uncertain outcome (write sent, no answer) ----------------------------------------------


def test_timeout_on_write_is_uncertain_and_probe_says_not_applied(emulator) -> None:
    emulator.sandbox.configure_faults(FaultPlan(timeout_rate=1.0, stall_seconds=0.4))
    with emulator.client(timeout=0.1) as client, pytest.raises(UncertainOutcomeError) as info:
        client.create("customer", CUSTOMER)
    assert info.value.retryable
    time.sleep(0.45)
    emulator.sandbox.configure_faults(FaultPlan())
    with emulator.client() as client:
        assert client.get_by_external_id("customer", "ERR-1") is None


def test_lost_response_then_probe_then_safe_retry(emulator) -> None:
    emulator.sandbox.configure_faults(FaultPlan(lost_response_rate=1.0, stall_seconds=0.4))
    with emulator.client(timeout=0.1) as client:
        with pytest.raises(UncertainOutcomeError) as info:
            client.create("customer", CUSTOMER)
        assert info.value.code == "netsuite.uncertain_outcome"
        probed = client.get_by_external_id("customer", "ERR-1")  # GETs are not faulted
    assert probed is not None
    assert probed["companyName"] == "Err Co"
    emulator.sandbox.configure_faults(FaultPlan())
    with emulator.client() as client:
        assert client.upsert_by_external_id("customer", "ERR-1", CUSTOMER) == probed["id"]
    assert [c.get("externalId") for c in emulator.sandbox.state.all("customer")].count("ERR-1") == 1


# -- classification without a server --------------------------------------------------------


def _client_answering(response: httpx.Response, creds: TbaCredentials) -> NetSuiteClient:
    transport = httpx.MockTransport(lambda request: response)
    return NetSuiteClient(
        "https://tstdrv1.suitetalk.api.netsuite.com",
        "TSTDRV1",
        creds,
        timeout=1,
        http=httpx.Client(transport=transport),
    )


def _ns_error(status: int, code: str, **extra: str) -> dict:
    return {
        "type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html",
        "title": "x",
        "status": status,
        "o:errorDetails": [{"detail": f"{code} happened", "o:errorCode": code, **extra}],
    }


@pytest.mark.parametrize(
    ("status", "headers", "body", "kind", "code", "retry_after"),
    [
        (
            429,
            {"Retry-After": "7"},
            _ns_error(429, "CONCURRENCY_LIMIT_EXCEEDED"),
            TransientError,
            "netsuite.CONCURRENCY_LIMIT_EXCEEDED",
            7.0,
        ),
        (503, {}, None, TransientError, "netsuite.http_503", None),
        (502, {"Retry-After": "1.5"}, None, TransientError, "netsuite.http_502", 1.5),
        (
            500,
            {},
            _ns_error(500, "UNEXPECTED_ERROR"),
            TransientError,
            "netsuite.UNEXPECTED_ERROR",
            None,
        ),
        (401, {}, _ns_error(401, "INVALID_LOGIN"), AuthError, "netsuite.INVALID_LOGIN", None),
        (
            403,
            {},
            _ns_error(403, "INSUFFICIENT_PERMISSION"),
            AuthError,
            "netsuite.INSUFFICIENT_PERMISSION",
            None,
        ),
        (
            400,
            {},
            _ns_error(400, "INVALID_KEY_OR_REF", **{"o:errorPath": "subsidiary"}),
            BusinessRuleError,
            "netsuite.INVALID_KEY_OR_REF",
            None,
        ),
        (
            404,
            {},
            _ns_error(404, "NONEXISTENT_ID"),
            BusinessRuleError,
            "netsuite.NONEXISTENT_ID",
            None,
        ),
        (400, {}, None, BusinessRuleError, "netsuite.http_400", None),
    ],
)
def test_classification_table(
    emulator,
    status: int,
    headers: dict,
    body: dict | None,
    kind: type[SyncwrightError],
    code: str,
    retry_after: float | None,
) -> None:
    response = (
        httpx.Response(status, headers=headers, json=body)
        if body
        else httpx.Response(status, headers=headers, text="oops")
    )
    with (
        _client_answering(response, emulator.credentials) as client,
        pytest.raises(SyncwrightError) as info,
    ):
        client.update("customer", "1", {"subsidiary": {"id": "42"}})
    assert type(info.value) is kind
    assert info.value.code == code
    if isinstance(info.value, TransientError):
        assert info.value.retry_after == retry_after
    if status == 400 and body:
        assert "Create subsidiary 42" in info.value.remediation  # type: ignore[attr-defined]


def test_create_without_location_is_uncertain(emulator) -> None:
    client = _client_answering(httpx.Response(204), emulator.credentials)
    with client, pytest.raises(UncertainOutcomeError):
        client.create("customer", CUSTOMER)


def test_retry_after_as_http_date() -> None:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
    assert 25 < (parse_retry_after(format_datetime(later, usegmt=True)) or 0) <= 30
    assert parse_retry_after("garbage") is None
    assert parse_retry_after(None) is None


def test_value_at_follows_error_paths() -> None:
    body = {
        "Entity": {"id": 7},
        "item": {"items": [{"item": {"id": 9999}}, {"taxCode": {"id": "5"}}]},
    }
    assert value_at(body, "entity") == "7"
    assert value_at(body, "item.items[0].item") == "9999"
    assert value_at(body, "item.items[1].taxCode") == "5"
    assert value_at(body, "item.items[5].item") is None
    assert value_at(body, "nothing") is None
    assert value_at(None, "entity") is None


def test_errors_and_logs_carry_no_secrets(emulator, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    creds = emulator.credentials
    raised: list[SyncwrightError] = []
    wrong = replace(creds, consumer_secret="9" * 64)
    for credentials in (creds, wrong):
        with emulator.client(credentials=credentials) as client:
            for call in (
                lambda c=client: c.get("customer", "999999"),
                lambda c=client: c.create("customer", {"companyName": "X"}),
            ):
                try:
                    call()
                except SyncwrightError as exc:
                    raised.append(exc)
    assert len(raised) == 4
    shown = caplog.text + " ".join(str(e) + repr(e.to_dict()) for e in raised)
    for secret in (creds.consumer_secret, creds.token_secret, "9" * 64):
        assert secret not in shown

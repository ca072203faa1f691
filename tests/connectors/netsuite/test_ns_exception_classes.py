"""Exception classes from what the NetSuite emulator really answers, through our NetSuite
client's error translation: value, missing_reference, connection, intermittent, rate_limit,
authorisation and business_rule."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from syncwright.connectors.netsuite.client import NetSuiteClient
from syncwright.errors import SyncwrightError
from syncwright.exceptions.classify import CLASS_GUIDANCE, classify
from syncwright.sandbox import FaultPlan
from tests._support import wait_until

if TYPE_CHECKING:
    from tests.connectors.netsuite.conftest import Emulator


def _error(call: Callable[[], object]) -> SyncwrightError:
    with pytest.raises(SyncwrightError) as caught:
        call()
    return caught.value


def _class_of(error: SyncwrightError) -> str:
    return classify(error.code, error.kind)


def test_bad_value_and_missing_reference(client: NetSuiteClient) -> None:
    value = _error(lambda: client.create("customer", {"companyName": "V", "creditLimit": "lots"}))
    assert value.code == "netsuite.INVALID_CONTENT"
    assert _class_of(value) == "value"
    missing = _error(
        lambda: client.create("customer", {"companyName": "M", "subsidiary": {"id": "999"}})
    )
    assert missing.code == "netsuite.INVALID_KEY_OR_REF"
    assert _class_of(missing) == "missing_reference"


def test_business_rule(client: NetSuiteClient) -> None:
    refused = _error(lambda: client.create("customer", {}))  # no name: NetSuite's USER_ERROR
    assert refused.code == "netsuite.USER_ERROR"
    assert _class_of(refused) == "business_rule"
    assert CLASS_GUIDANCE["business_rule"]


def test_connection_intermittent_and_rate_limit(emulator: Emulator) -> None:
    reads = frozenset({"GET"})
    with emulator.client(timeout=0.3) as client:
        emulator.sandbox.configure_faults(
            FaultPlan(timeout_rate=1.0, stall_seconds=1.0, only_methods=reads)
        )
        timeout = _error(lambda: client.get("customer", "1"))
        assert (timeout.kind, _class_of(timeout)) == ("TransientError", "connection")
        emulator.sandbox.configure_faults(FaultPlan(error_5xx_rate=1.0, only_methods=reads))
        failing = _error(lambda: client.get("customer", "1"))
        assert failing.code == "netsuite.UNEXPECTED_ERROR"
        assert _class_of(failing) == "intermittent"
    # One slot, held by a write the emulator answers late: the read over the limit gets 429.
    emulator.sandbox.set_concurrency_limit(1)
    emulator.sandbox.configure_faults(
        FaultPlan(timeout_rate=1.0, stall_seconds=2.0, only_methods=frozenset({"POST"}))
    )
    governor = emulator.sandbox.governor

    def hold_the_only_slot() -> None:
        with emulator.client(timeout=10) as other, contextlib.suppress(SyncwrightError):
            other.create("customer", {"companyName": "Slow"})

    holder = threading.Thread(target=hold_the_only_slot)
    holder.start()
    try:
        wait_until(lambda: governor.in_flight == 1, what="the slot taken")
        with emulator.client() as client:
            throttled = _error(lambda: client.get("customer", "1"))
    finally:
        holder.join()
        emulator.sandbox.configure_faults(FaultPlan())
    assert throttled.code == "netsuite.CONCURRENCY_LIMIT_EXCEEDED"
    assert _class_of(throttled) == "rate_limit"


def test_authorisation(emulator: Emulator) -> None:
    wrong = dataclasses.replace(emulator.credentials, token_secret="0" * 64)
    with emulator.client(credentials=wrong) as client:
        refused = _error(lambda: client.get("customer", "1"))
    assert (refused.kind, refused.code) == ("AuthError", "netsuite.INVALID_LOGIN")
    assert _class_of(refused) == "authorisation"

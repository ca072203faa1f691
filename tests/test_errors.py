"""The error hierarchy: retryability is part of the type; errors survive a JSON round trip."""

from __future__ import annotations

import pytest

from syncwright.errors import (
    AuthError,
    BusinessRuleError,
    ConfigError,
    SyncwrightError,
    TransientError,
    UncertainOutcomeError,
    error_from_dict,
)


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (TransientError("x", retry_after=2.5), True),
        (UncertainOutcomeError("x"), True),
        (BusinessRuleError("x", remediation="fix it"), False),
        (ConfigError("x", problems=["a.b: bad"]), False),
        (AuthError("x"), False),
    ],
)
def test_round_trip_keeps_type_code_and_details(error: SyncwrightError, retryable: bool) -> None:
    rebuilt = error_from_dict(error.to_dict())
    assert type(rebuilt) is type(error)
    assert rebuilt.code == error.code and rebuilt.message == error.message
    assert rebuilt.retryable is retryable
    assert rebuilt.to_dict() == error.to_dict()


def test_codes_are_stable_defaults() -> None:
    assert TransientError("x").code == "transient"
    assert BusinessRuleError("x", remediation="r").code == "business_rule"
    assert UncertainOutcomeError("x").code == "uncertain_outcome"
    assert str(AuthError("bad", code="signature.mismatch")) == "[signature.mismatch] bad"

"""The class of an exception follows the error's type, then its code (docs/operations.md)."""

from __future__ import annotations

import pytest

from syncwright.exceptions.classify import CLASS_GUIDANCE, CLASSES, classify

DOCUMENTED = [
    ("netsuite.INVALID_CONTENT", "BusinessRuleError", "value"),
    ("netsuite.amount_precision", "BusinessRuleError", "value"),
    ("netsuite.unmapped_currency", "BusinessRuleError", "missing_reference"),
    ("netsuite.customer_not_synced", "DependencyMissingError", "missing_reference"),
    ("stripe.resource_missing", "BusinessRuleError", "missing_reference"),
    ("example.UNKNOWN_SUBSIDIARY", "BusinessRuleError", "missing_reference"),
    ("netsuite.timeout", "TransientError", "connection"),
    ("step.timeout", "UncertainOutcomeError", "connection"),
    ("netsuite.http_503", "TransientError", "intermittent"),
    ("salesforce.server_unavailable", "TransientError", "intermittent"),
    ("stripe.api_error", "TransientError", "intermittent"),
    ("netsuite.http_429", "TransientError", "rate_limit"),
    ("salesforce.request_limit_exceeded", "TransientError", "rate_limit"),
    ("stripe.rate_limit", "TransientError", "rate_limit"),
    ("stripe.lines_truncated", "BusinessRuleError", "too_large"),
    ("dispatch.normalize_failed", None, "parse"),
    ("stripe.idempotency_key_in_use", "BusinessRuleError", "duplicate"),
    ("netsuite.INVALID_LOGIN", "AuthError", "authorisation"),
    ("zendesk.forbidden", "AuthError", "authorisation"),
    ("netsuite.total_mismatch", "BusinessRuleError", "business_rule"),
    ("stripe.card_declined", "BusinessRuleError", "business_rule"),
    # A transient failure nobody named still needs no data fix.
    ("vendor.something", "TransientError", "intermittent"),
]


@pytest.mark.parametrize(("code", "kind", "expected"), DOCUMENTED)
def test_documented_codes(code: str, kind: str | None, expected: str) -> None:
    assert classify(code, kind) == expected


def test_every_class_has_guidance_for_operations() -> None:
    assert set(CLASS_GUIDANCE) == set(CLASSES)
    assert {expected for _, _, expected in DOCUMENTED} == set(CLASSES)

"""Every exception gets a class that says what kind of fix it needs, derived from its error.

The error's *type* decides first (``AuthError`` -> authorisation; a transient failure whose
retries ran out -> rate_limit, connection or intermittent), then its stable ``code``
(``<vendor>.<vendor code>``, see ``syncwright/errors.py`` and each connector's error
translation) is matched against the patterns below, in order. What matches nothing is a
``business_rule``: the target refused the data and a person must decide.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["CLASSES", "CLASS_GUIDANCE", "classify"]

CLASSES: Final = (
    "value",
    "missing_reference",
    "connection",
    "intermittent",
    "rate_limit",
    "too_large",
    "parse",
    "duplicate",
    "authorisation",
    "business_rule",
)

# What operations people do about each class; shown beside the error's own remediation.
CLASS_GUIDANCE: Final[dict[str, str]] = {
    "value": "A field holds a value the target does not accept: correct it at the source (or "
    "in the mapping) and retry.",
    "missing_reference": "The record points at something the target does not have (a customer, "
    "item, tax code, currency): create or map it, then retry.",
    "connection": "The target could not be reached in time: check its status page, network and "
    "base URL, then retry.",
    "intermittent": "The target failed for a while (5xx): nothing is wrong with the data; retry "
    "once the target is healthy.",
    "rate_limit": "The target throttled us: retry later, or lower the connection's "
    "limits.requests_per_second / limits.concurrency.",
    "too_large": "The payload is over the target's size limit: split the record (fewer lines) or "
    "raise the limit, then retry.",
    "parse": "A payload could not be read (malformed or unexpected shape): fix the mapping or the "
    "source record, then retry; edit the stored payload for a parked delivery.",
    "duplicate": "The target already has this record: link the existing record (external id) or "
    "resolve this exception if the record is already right.",
    "authorisation": "Credentials or permissions were refused: rotate or fix the connection's "
    "credentials and the role's permissions, then retry.",
    "business_rule": "The target refused the data on a business rule: read the message, fix the "
    "data where it is owned, then retry or resolve.",
}

_TRANSIENT_KINDS = frozenset({"TransientError", "UncertainOutcomeError"})

_PATTERNS: Final[tuple[tuple[str, re.Pattern[str]], ...]] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        ("rate_limit", r"rate_limit|http_429|too_many|limit_exceeded|throttl"),
        ("authorisation", r"^auth\.|signature\.|oauth|login|credential|no_api_key|permission"),
        ("authorisation", r"http_40[13]$|unauthori[sz]ed|forbidden|insufficient_"),
        (
            "too_large",
            r"too_large|http_413|lines_truncated|size_limit|exceeded_id_limit|exceeded_max",
        ),
        ("connection", r"\.timeout$|\.network$|\.connection$|base_url|uncertain_outcome"),
        ("intermittent", r"http_5\d\d|unexpected_error|api_error|unavailable|^transient"),
        ("duplicate", r"duplicate|already_exists|key_in_use|dup_"),
        (
            "missing_reference",
            r"not_synced|unlinked|not_found|nonexistent|invalid_key_or_ref|resource_missing"
            r"|unmapped|missing_subsidiary|unknown_org_field|no_location|dependency_missing"
            r"|price_missing|field_missing|\.unknown_",
        ),
        (
            "parse",
            r"payload_invalid|bad_response|invalid_canonical|malformed|normalize_failed|parse"
            r"|invalid_json|mapping_invalid|bad_cursor",
        ),
        (
            "value",
            r"amount_|currency_|address_incomplete|quantity_|invalid_content|invalid_fld"
            r"|parameter_|value_invalid|_fraction|interval_unsupported|unnamed|no_lines",
        ),
    )
)


def classify(code: str, kind: str | None = None) -> str:
    """The class of an error with ``code``; ``kind`` is its type's name when known."""
    if kind == "AuthError":
        return "authorisation"
    for name, pattern in _PATTERNS:
        if pattern.search(code):
            return name
    if kind in _TRANSIENT_KINDS:
        return "intermittent"
    return "business_rule"

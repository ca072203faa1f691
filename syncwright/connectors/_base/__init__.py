"""The kit's private modules. Connectors import the public kit, :mod:`syncwright.connectors`;
these names stay importable from here only so that older imports keep working."""

from syncwright.connectors._base.connector import (
    Action,
    Connector,
    Delivery,
    PollBatch,
    PolledEvent,
    WebhookIdentity,
    WebhookVerifier,
)
from syncwright.connectors._base.http import (
    NEVER_SENT,
    VendorHttpClient,
    honour_retry_after,
    parse_retry_after,
)
from syncwright.connectors._base.limits import ConcurrencyLimiter, RateLimiter
from syncwright.connectors._base.registry import connector_class, register_connector
from syncwright.connectors._base.steps import (
    audit_write,
    call_timeout,
    connector_for,
    differing,
    ledger_block,
    parse_canonical,
    parse_entitlement,
    partial_write_result,
)

__all__ = [
    "NEVER_SENT",
    "Action",
    "ConcurrencyLimiter",
    "Connector",
    "Delivery",
    "PollBatch",
    "PolledEvent",
    "RateLimiter",
    "VendorHttpClient",
    "WebhookIdentity",
    "WebhookVerifier",
    "audit_write",
    "call_timeout",
    "connector_class",
    "connector_for",
    "differing",
    "honour_retry_after",
    "ledger_block",
    "parse_canonical",
    "parse_entitlement",
    "parse_retry_after",
    "partial_write_result",
    "register_connector",
]

"""What every connector is made of: a verifier for inbound webhooks, a normalizer to canonical
change events, and actions on the vendor's API. Copy ``connectors/example`` to start a new one."""

from syncwright.connectors._base.connector import (
    Action,
    Connector,
    Delivery,
    PollBatch,
    PolledEvent,
    WebhookIdentity,
    WebhookVerifier,
)
from syncwright.connectors._base.http import NEVER_SENT, VendorHttpClient, parse_retry_after
from syncwright.connectors._base.limits import ConcurrencyLimiter, RateLimiter
from syncwright.connectors._base.registry import connector_class, register_connector
from syncwright.connectors._base.steps import (
    audit_write,
    call_timeout,
    connector_for,
    ledger_block,
    parse_canonical,
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
    "ledger_block",
    "parse_canonical",
    "parse_retry_after",
    "register_connector",
]

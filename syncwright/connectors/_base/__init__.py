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
from syncwright.connectors._base.limits import ConcurrencyLimiter, RateLimiter
from syncwright.connectors._base.registry import connector_class, register_connector

__all__ = [
    "Action",
    "ConcurrencyLimiter",
    "Connector",
    "Delivery",
    "PollBatch",
    "PolledEvent",
    "RateLimiter",
    "WebhookIdentity",
    "WebhookVerifier",
    "connector_class",
    "register_connector",
]

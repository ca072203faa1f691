"""The public connector kit: everything a connector is built from, in one import.

    from syncwright.connectors import Action, Connector, ConnectorOptions, Stream, ...

A connector is a small package (copy ``syncwright/connectors/example``): a :class:`Connector`
subclass whose class attributes declare what it is (vendor, streams, actions, options model,
whether it takes webhooks and maps inbound events), an HTTP client on :class:`VendorHttpClient`
with the auth, pagination and error classification helpers below, and an entry point in the
``syncwright.connectors`` group. ``docs/connectors.md`` walks through writing one;
``tests/contract`` is the suite every connector passes.

Names not listed in ``__all__`` (``syncwright.connectors._base``) are private and may change.
"""

from syncwright.config._vendors import ENTRY_POINT_GROUP
from syncwright.connectors._base.auth import BasicAuth, BearerAuth, OAuth1Auth
from syncwright.connectors._base.classify import (
    DEFAULT_REMEDIATION,
    RETRYABLE_STATUSES,
    error_for_status,
    error_for_transport,
)
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
from syncwright.connectors._base.options import ConnectorOptions, ValidationOptions, parse_options
from syncwright.connectors._base.pagination import (
    PaginationError,
    next_link,
    paginate_cursor,
    paginate_links,
    paginate_offset,
)
from syncwright.connectors._base.registry import (
    connector_class,
    installed_vendors,
    register_connector,
)
from syncwright.connectors._base.signatures import (
    check_timestamp,
    header_value,
    hmac_sha256_base64,
    hmac_sha256_hex,
    parse_signature_header,
    signature_matches,
)
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
from syncwright.connectors._base.streams import Stream
from syncwright.connectors._base.vocabulary import ACTIONS

__all__ = [
    "ACTIONS",
    "DEFAULT_REMEDIATION",
    "ENTRY_POINT_GROUP",
    "NEVER_SENT",
    "RETRYABLE_STATUSES",
    "Action",
    "BasicAuth",
    "BearerAuth",
    "ConcurrencyLimiter",
    "Connector",
    "ConnectorOptions",
    "Delivery",
    "OAuth1Auth",
    "PaginationError",
    "PollBatch",
    "PolledEvent",
    "RateLimiter",
    "Stream",
    "ValidationOptions",
    "VendorHttpClient",
    "WebhookIdentity",
    "WebhookVerifier",
    "audit_write",
    "call_timeout",
    "check_timestamp",
    "connector_class",
    "connector_for",
    "differing",
    "error_for_status",
    "error_for_transport",
    "header_value",
    "hmac_sha256_base64",
    "hmac_sha256_hex",
    "honour_retry_after",
    "installed_vendors",
    "ledger_block",
    "next_link",
    "paginate_cursor",
    "paginate_links",
    "paginate_offset",
    "parse_canonical",
    "parse_entitlement",
    "parse_options",
    "parse_retry_after",
    "parse_signature_header",
    "partial_write_result",
    "register_connector",
    "signature_matches",
]

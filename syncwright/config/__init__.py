"""Typed settings from ``syncwright.yaml``; secrets come from the environment or files.

>>> settings = load_settings(Path("syncwright.yaml"))   # doctest: +SKIP
>>> settings.connections["stripe"].credentials["api_key"]  # doctest: +SKIP
Secret('**********')

Reference of every key: ``docs/config.md``.
"""

from ._diff import diff_settings
from ._load import DEFAULT_CONFIG_PATH, format_loc, load_settings, parse_settings
from ._models import (
    DOMAINS,
    ROLES,
    AuthSettings,
    ConnectionSettings,
    DatabaseSettings,
    Domain,
    DunningPolicy,
    EngineSettings,
    HooksListenerSettings,
    LifecycleSettings,
    LimitSettings,
    MappingRef,
    OwnershipRule,
    ReconciliationRule,
    RetryPolicy,
    Role,
    ServerSettings,
    Settings,
    TelemetrySettings,
    TokenSettings,
    TraceSettings,
    Vendor,
    WebhookSettings,
    WorkflowSettings,
    is_loopback_host,
)
from ._schema import settings_json_schema
from ._secret import MASK, Secret, SecretReferenceError, resolve_secret
from ._vendors import ENTRY_POINT_GROUP, installed_vendors

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "DOMAINS",
    "ENTRY_POINT_GROUP",
    "MASK",
    "ROLES",
    "AuthSettings",
    "ConnectionSettings",
    "DatabaseSettings",
    "Domain",
    "DunningPolicy",
    "EngineSettings",
    "HooksListenerSettings",
    "LifecycleSettings",
    "LimitSettings",
    "MappingRef",
    "OwnershipRule",
    "ReconciliationRule",
    "RetryPolicy",
    "Role",
    "Secret",
    "SecretReferenceError",
    "ServerSettings",
    "Settings",
    "TelemetrySettings",
    "TokenSettings",
    "TraceSettings",
    "Vendor",
    "WebhookSettings",
    "WorkflowSettings",
    "diff_settings",
    "format_loc",
    "installed_vendors",
    "is_loopback_host",
    "load_settings",
    "parse_settings",
    "resolve_secret",
    "settings_json_schema",
]

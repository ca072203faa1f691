"""The typed shape of ``syncwright.yaml``.

Every model forbids unknown keys (a typo is an error, not a silently ignored setting), is frozen,
and is strict about scalar types (YAML already has types: ``port: "8787"`` or ``workers: true`` is
a mistake worth reporting). Defaults here are the documented defaults (``docs/config.md``).
"""

from __future__ import annotations

import difflib
import importlib.util
import ipaddress
import re
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Annotated, Any, Final, Literal, get_args
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from ._secret import Secret
from ._vendors import installed_vendors

__all__ = [
    "DOMAINS",
    "ROLES",
    "AuditSettings",
    "AuthSettings",
    "ConnectionSettings",
    "DatabaseSettings",
    "Domain",
    "EngineSettings",
    "ExceptionSettings",
    "HooksListenerSettings",
    "LimitSettings",
    "MappingRef",
    "OwnershipRule",
    "ReconciliationRule",
    "RetryPolicy",
    "Role",
    "RouteMatch",
    "RoutingRule",
    "ServerSettings",
    "Settings",
    "TelemetrySettings",
    "TokenSettings",
    "Vendor",
    "WebhookSettings",
    "WorkflowSettings",
    "is_loopback_host",
    "reference_problems",
]


def _package_version() -> str:
    try:
        return metadata.version("syncwright")
    except metadata.PackageNotFoundError:
        return "0.1.0"


PACKAGE_VERSION: Final = _package_version()


def _check_vendor(value: str) -> str:
    """A vendor is valid when a connector for it is installed (entry points, not a fixed list)."""
    installed = installed_vendors()
    if value in installed:
        return value
    # Vendor names are identifiers, never secrets: echoing one is safe.
    close = difflib.get_close_matches(value, installed, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ValueError(
        f"no connector installed for vendor {value!r}{hint}; installed: "
        f"{', '.join(installed) or 'none'}"
    )


#: A vendor name; the JSON schema lists the installed ones (``settings_json_schema``).
Vendor = Annotated[str, StringConstraints(strict=True, min_length=1), AfterValidator(_check_vendor)]

Domain = Literal[
    "account",
    "contact",
    "product",
    "price",
    "subscription",
    "contract",
    "order",
    "invoice",
    "payment",
    "credit_note",
    "entitlement",
    "case",
    "deal",
]
DOMAINS: Final[tuple[str, ...]] = get_args(Domain)

# Connection names appear in URLs (POST /hooks/{connection}), so they are slugs.
_CONNECTION_NAME = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$"
_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"
# Registered workflow names are dotted: subscription.activate_in_erp.
_WORKFLOW_NAME = r"^[a-z][a-z0-9_.]{0,99}$"
_EXECUTOR_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
#: What each name pattern means, in words (used in error messages).
NAME_RULES: Final = {
    _CONNECTION_NAME: "letters, digits, '_' and '-', starting with a letter or digit, "
    "at most 63 characters",
    _NAME: "letters, digits, '_', '.' and '-', starting with a letter or digit",
    _WORKFLOW_NAME: "a registered workflow name: lowercase letters, digits, '_' and '.', "
    "starting with a letter (e.g. subscription.activate_in_erp)",
    _EXECUTOR_ID: "letters, digits, '_', '.' and '-', starting with a letter or digit, "
    "at most 64 characters",
}
ConnectionName = Annotated[str, StringConstraints(pattern=_CONNECTION_NAME, strict=True)]
# Names of mappings and reconciliation rules.
Name = Annotated[str, StringConstraints(pattern=_NAME)]
WorkflowName = Annotated[str, StringConstraints(pattern=_WORKFLOW_NAME, strict=True)]


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        hide_input_in_errors=True,  # a raw ValidationError must never echo a literal secret
        use_attribute_docstrings=True,
    )

    @model_validator(mode="before")
    @classmethod
    def _empty_means_default(cls, data: Any) -> Any:
        # `connections:` with nothing after it is YAML null; people mean "none yet".
        if isinstance(data, Mapping) and any(value is None for value in data.values()):
            return {k: v for k, v in data.items() if v is not None or k not in cls.model_fields}
        return data


# --- value checks ----------------------------------------------------------------------------


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback IP addresses (127.0.0.0/8, ::1)."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_http_url(value: str) -> str:
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL, e.g. https://api.stripe.com")
    if parts.username or parts.password:
        raise ValueError(
            "must not contain credentials; remove user:password@ and put them under credentials:"
        )
    if parts.query or parts.fragment:
        raise ValueError("must not have a query string or fragment; give the API root only")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ValueError(
            "must use https:// (plain http:// is accepted only for a loopback address such as "
            "127.0.0.1 or localhost, e.g. an emulator on this machine)"
        )
    try:
        _ = parts.port
    except ValueError:
        raise ValueError("has an invalid port number") from None
    return value.rstrip("/")


HttpUrlStr = Annotated[
    str,
    AfterValidator(_check_http_url),
    WithJsonSchema({"type": "string", "format": "uri", "pattern": "^https?://"}),
]


def _check_database_url(value: str) -> str:
    value = value.strip()
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", value):
        raise ValueError(
            "must be a database URL, e.g. sqlite:///syncwright.db or "
            "postgresql+psycopg://syncwright@db.internal/syncwright"
        )
    if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
        raise ValueError(
            "names a database syncwright does not support; use sqlite:///PATH (embedded) or "
            "postgresql://USER@HOST/DB"
        )
    if not value.startswith("sqlite") and urlsplit(value).password:
        raise ValueError(
            "contains a password; remove it from the URL and set database.password: "
            "${DATABASE_PASSWORD} (or file:/path) instead"
        )
    return value


_SCHEDULE_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_UNIT = r"(s|secs?|seconds?|m|mins?|minutes?|h|hours?|d|days?)"
_DURATION = re.compile(rf"^(?:every\s+)?((?:\d+\s*{_UNIT}\s*)+)$", re.IGNORECASE)
_MACROS: Final = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
)
# minute, hour, day of month, month, day of week
_CRON_RANGES: Final = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*/,?-]+$")
_SCHEDULE_HELP = (
    "must be an interval in seconds (e.g. 900), a duration such as 15m, 1h or 1d, "
    "or a 5-field cron expression such as '*/15 * * * *'"
)


def _parse_schedule(value: Any) -> int | str:
    """Intervals become whole seconds (int); cron expressions stay strings."""
    if isinstance(value, bool):
        raise ValueError(_SCHEDULE_HELP)
    if isinstance(value, int):
        if value < 1:
            raise ValueError("interval must be at least 1 second")
        return value
    if not isinstance(value, str):
        raise ValueError(_SCHEDULE_HELP)
    text = " ".join(value.split())
    if text.isdigit():
        return _parse_schedule(int(text))
    if text.lower() in _MACROS:
        return text.lower()
    duration = _DURATION.match(text)
    if duration:
        seconds = sum(
            int(n) * _SCHEDULE_UNITS[u[0].lower()]
            for n, u in re.findall(rf"(\d+)\s*{_UNIT}", duration.group(1), re.IGNORECASE)
        )
        return _parse_schedule(seconds)
    fields = text.split(" ")
    if len(fields) == 5 and all(_CRON_FIELD.match(f) for f in fields):
        for field, (low, high) in zip(fields, _CRON_RANGES, strict=True):
            for number in re.findall(r"\d+", field):
                if not low <= int(number) <= high and "/" not in field:
                    raise ValueError(f"cron field {field!r} is outside {low}-{high}")
        return text
    raise ValueError(_SCHEDULE_HELP)


Schedule = Annotated[
    int | str,
    PlainValidator(_parse_schedule),
    WithJsonSchema(
        {
            "description": (
                "Interval in seconds, a duration (15m, 1h, 1d) or a 5-field cron expression"
            ),
            "oneOf": [
                {"type": "integer", "minimum": 1},
                {"type": "string", "examples": ["15m", "1h", "*/15 * * * *", "@daily"]},
            ],
        }
    ),
]


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


# --- sections --------------------------------------------------------------------------------


class DatabaseSettings(_Model):
    """Where syncwright keeps its state: the engine's tables and ours."""

    url: Annotated[str, AfterValidator(_check_database_url)] = "sqlite:///syncwright.db"
    """SQLAlchemy URL: sqlite:///path (embedded default) or postgresql+psycopg://user@host/db.
    Never put the password here; use `password`."""
    password: Secret | None = None
    """The database password, as ${ENV} or file:PATH; inserted into `url` at connect time."""
    pool_size: int = Field(default=5, ge=1, le=1000)
    """Connections per process in the pool (PostgreSQL)."""

    def url_with_password(self) -> str:
        """The URL to connect with, the password inserted. Never log the result."""
        if self.password is None:
            return self.url
        parts = urlsplit(self.url)
        host = parts.netloc.rpartition("@")[2]
        user = quote(parts.username or "", safe="")
        secret = quote(self.password.reveal(), safe="")
        return urlunsplit(parts._replace(netloc=f"{user}:{secret}@{host}"))


_HOST_PATTERN = r"^(\*|(\*\.)?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])$"
TrustedHost = Annotated[
    str,
    StringConstraints(pattern=_HOST_PATTERN, strict=True, to_lower=True),
    WithJsonSchema({"type": "string", "examples": ["syncwright.example.com", "*.example.com"]}),
]


class HooksListenerSettings(_Model):
    """A second listener that serves only the webhook intake (``/hooks/*`` and ``/healthz``)."""

    host: str = Field(min_length=1)
    """Interface the webhook listener binds, e.g. 0.0.0.0 to face the internet."""
    port: int = Field(ge=1, le=65535)
    """TCP port of the webhook listener; must differ from `server.port`."""


class ServerSettings(_Model):
    """The HTTP server: API, webhook intake and console."""

    host: str = Field(default="127.0.0.1", min_length=1)
    """Interface to bind. The default only accepts local connections."""
    port: int = Field(default=8787, ge=1, le=65535)
    """TCP port."""
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    """Largest request body accepted (webhook deliveries included); larger ones get 413."""
    hooks: HooksListenerSettings | None = None
    """Serve the webhook intake on its own address and port; the main listener then no
    longer serves /hooks. Unset: one listener serves everything."""
    trusted_hosts: list[TrustedHost] = Field(default_factory=list)
    """Host header values the API listener answers (e.g. syncwright.example.com,
    *.example.com); any other gets 400. Empty accepts every host."""
    docs_enabled: bool = True
    """Serve the OpenAPI document at /openapi.json and its pages at /docs and /redoc."""
    docs_token_required: bool = False
    """/docs, /redoc and /openapi.json need a viewer token (or a console session)."""

    @model_validator(mode="after")
    def _listeners_differ(self) -> ServerSettings:
        if self.hooks is not None and self.hooks.port == self.port:
            raise ValueError(
                f"hooks.port ({self.hooks.port}) must differ from port ({self.port}): "
                "the webhook intake gets a listener of its own"
            )
        return self


class EngineSettings(_Model):
    """The durable workflow engine."""

    application_version: str = Field(default=PACKAGE_VERSION, min_length=1)
    """Version recorded on each workflow; executors recover only workflows of their own version."""
    executor_id: str | None = Field(default=None, pattern=_EXECUTOR_ID)
    """Stable id of this executor; unset lets the engine choose one. Keep it stable across
    restarts of the same process so it recovers its own pending workflows."""
    workers: int = Field(default=4, ge=1, le=1024)
    """How many workflows this process runs concurrently."""
    partition_concurrency: int = Field(default=1, ge=1, le=1024)
    """Concurrent workflows per partition key (one entity); 1 keeps each entity's events in
    order."""
    heartbeat_seconds: float = Field(default=10.0, gt=0, le=3600)
    """How often this worker records that it is alive."""
    takeover_after_seconds: float = Field(default=60.0, gt=0, le=86400)
    """A worker silent this long is dead: a live worker of the same application version takes
    over its pending runs. More than twice ``heartbeat_seconds``. Several workers on one
    database need distinct ``executor_id`` values."""

    @model_validator(mode="after")
    def _takeover_after_heartbeats(self) -> EngineSettings:
        if self.takeover_after_seconds <= 2 * self.heartbeat_seconds:
            raise ValueError(
                f"takeover_after_seconds ({self.takeover_after_seconds:g}) must be more than "
                f"twice heartbeat_seconds ({self.heartbeat_seconds:g}), or a live worker looks "
                "dead between two heartbeats"
            )
        return self


class RetryPolicy(_Model):
    """Exponential backoff for transient failures; a vendor's Retry-After wins when sent."""

    max_attempts: int = Field(default=5, ge=1, le=100)
    """Attempts in total, the first included."""
    base_delay_seconds: float = Field(default=0.5, ge=0)
    """Delay before the second attempt; doubles each time."""
    max_delay_seconds: float = Field(default=60.0, ge=0)
    """Upper bound of one delay."""

    @model_validator(mode="after")
    def _delays_ordered(self) -> RetryPolicy:
        if self.max_delay_seconds < self.base_delay_seconds:
            raise ValueError(
                f"max_delay_seconds ({self.max_delay_seconds:g}) must be at least "
                f"base_delay_seconds ({self.base_delay_seconds:g})"
            )
        return self


class LimitSettings(_Model):
    """How hard syncwright may call one connection."""

    requests_per_second: float | None = Field(default=None, gt=0)
    """Client-side rate limit; unset uses the connector's default for the vendor."""
    concurrency: int | None = Field(default=None, ge=1, le=1024)
    """Requests in flight at once; unset uses the connector's default."""
    timeout_seconds: float = Field(default=30.0, gt=0)
    """Timeout of one HTTP request."""
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    """Retry policy for transient failures (timeouts, 5xx, 429)."""
    scope: Literal["process", "shared"] = "process"
    """Where ``concurrency``, ``requests_per_second`` and a vendor's Retry-After are held:
    ``process`` (each process alone) or ``shared`` (in the database, one budget for every
    ``serve``/``worker`` process of the deployment)."""


class WebhookSettings(_Model):
    """Verification of inbound webhooks for one connection."""

    secrets: list[Secret] = Field(default_factory=list)
    """Signing secrets; a delivery is accepted if any verifies, so a new secret can be added
    before the old one is removed (rotation)."""
    tolerance_seconds: int = Field(default=300, ge=1, le=86400)
    """Largest accepted age of a signed timestamp (replay protection)."""


class ConnectionSettings(_Model):
    """One connected system (an account at a vendor)."""

    vendor: Vendor
    """Which connector speaks to it."""
    base_url: HttpUrlStr | None = None
    """API root (http or https); unset uses the vendor's production URL. Point it at an
    emulator from `syncwright sandbox up` to work offline."""
    credentials: dict[str, Secret] = Field(default_factory=dict)
    """Named credentials (api_key, client_id, client_secret, ...); each a secret reference."""
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)
    """Inbound webhook verification."""
    limits: LimitSettings = Field(default_factory=LimitSettings)
    """Rate, concurrency, timeout and retry limits."""
    options: dict[str, Any] = Field(default_factory=dict)
    """Vendor-specific options, checked against the connector's options model (its
    ``options_model``; see docs/connectors.md). Not for secrets."""
    enabled: bool = True
    """A disabled connection is neither polled nor written to; its webhooks are refused."""


class OwnershipRule(_Model):
    """Which connection is the system of record for a domain, with per-field exceptions."""

    system: ConnectionName
    """Connection that owns the domain."""
    fields: dict[str, ConnectionName] = Field(default_factory=dict)
    """Field name -> connection that owns that field instead."""


class MappingRef(_Model):
    """A versioned declarative mapping file."""

    name: Name
    """Mapping name."""
    connection: ConnectionName
    """Connection the mapping translates for."""
    version: int = Field(ge=1)
    """Version recorded in the ledger with each step it shaped."""
    path: Annotated[Path, Field(strict=False)]
    """Mapping file; relative paths are relative to the config file."""
    replay_only: bool = False
    """Keep this version loadable for ``syncwright replay --mapping NAME@VERSION`` (an older
    version, or a candidate to try) without using it for live traffic."""

    @field_validator("path", mode="after")
    @classmethod
    def _relative_to_config(cls, value: Path, info: ValidationInfo) -> Path:
        base = info.context.get("base_dir") if isinstance(info.context, Mapping) else None
        if isinstance(base, Path) and not value.expanduser().is_absolute():
            return base / value
        return value.expanduser()


class WorkflowSettings(_Model):
    """Per-workflow settings; the key is a registered workflow name (docs/config.md lists
    them)."""

    enabled: bool = True
    """A disabled workflow is not started by new events; each skipped start is recorded in the
    ledger (outcome `skipped`), and a delivery that started nothing is marked `skipped`."""
    queue_concurrency: int | None = Field(default=None, ge=1, le=1024)
    """Concurrent runs of this workflow per process, on a queue of its own; unset shares
    `engine.workers` on the shared queue."""
    timeout_seconds: float | None = Field(default=None, gt=0)
    """Wall-clock limit of one run, after which it is stopped and an exception opened; unset
    means none (a parked run can wait for a fix)."""
    priority: Literal["high", "normal", "low"] = "normal"
    """Priority class: `high` and `low` runs take a lane of their own (`high` as wide as
    `engine.workers`, `low` a quarter of it), so a flood of low-priority work cannot hold back
    the rest. Not together with `queue_concurrency` (that is a queue of its own already)."""

    @model_validator(mode="after")
    def _one_lane(self) -> WorkflowSettings:
        if self.priority != "normal" and self.queue_concurrency is not None:
            raise ValueError(
                "priority and queue_concurrency exclude each other: a workflow with its own "
                "queue_concurrency already runs on a queue of its own; remove one of them"
            )
        return self


class ReconciliationRule(_Model):
    """A scheduled comparison of two systems."""

    name: Name
    """Rule name (unique)."""
    schedule: Schedule
    """Interval in seconds, a duration (15m, 1h, 1d) or a 5-field cron expression."""
    check: Literal["invoices", "subscriptions", "entitlements", "crm_standing"]
    """What to compare: ``invoices`` (amount, currency, settlement of issued invoices),
    ``subscriptions`` (live billing subscriptions against open ERP sales orders),
    ``entitlements`` (the support desk's tier against the plan of the customer's active billing
    subscriptions) or ``crm_standing`` (the CRM account's latest invoice and its status against
    the billing system's)."""
    compare: list[ConnectionName] = Field(min_length=2, max_length=2)
    """The two connections to compare: the system of record first, then the target."""
    heal: bool = False
    """Re-send each missing or different record from the system of record, so the workflow
    that should have written it runs again (otherwise only report). Extra records are never
    deleted automatically."""
    fields: list[str] | None = None
    """Compare only these fields of the check (default: all of them). ``invoices``: total,
    currency, settled; ``subscriptions``: active; ``entitlements``: tier; ``crm_standing``:
    last_invoice_number, last_invoice_status."""

    @field_validator("compare", mode="after")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if value[0] == value[1]:
            raise ValueError("must name two different connections")
        return value

    @model_validator(mode="after")
    def _known_fields(self) -> ReconciliationRule:
        from syncwright.reconcile.snapshot import CHECK_FIELDS  # the reconciler owns them

        known = CHECK_FIELDS[self.check]
        unknown = [name for name in self.fields or [] if name not in known]
        if unknown or self.fields == []:
            raise ValueError(
                f"fields: {unknown or '[]'} cannot be compared by check {self.check!r}; "
                f"choose from {', '.join(known)}"
            )
        return self


#: The connection roles whose targets workflows choose by ``routing:`` rules.
RoutedRole = Literal["erp"]
ROUTED_ROLES: Final[tuple[str, ...]] = get_args(RoutedRole)
_COUNTRY = r"^[A-Z]{2}$"
_ISO_CURRENCY = r"^[A-Z]{3}$"
CountryList = list[Annotated[str, StringConstraints(pattern=_COUNTRY, strict=True)]]
CurrencyList = list[Annotated[str, StringConstraints(pattern=_ISO_CURRENCY, strict=True)]]


class RouteMatch(_Model):
    """What an account must have for a routing rule to apply: every key given must match (one
    of its listed values); a rule without ``when`` matches every account."""

    billing_country: CountryList | None = Field(default=None, min_length=1)
    """ISO 3166 alpha-2 codes of the account's billing address country, e.g. [JP, KR]."""
    currency: CurrencyList | None = Field(default=None, min_length=1)
    """ISO 4217 codes of the account's currency, e.g. [JPY]."""
    legal_entity: list[Annotated[str, StringConstraints(min_length=1, strict=True)]] | None = Field(
        default=None, min_length=1
    )
    """The account's legal entity (``Account.subsidiary``: the CRM's entity field, or Stripe's
    ``metadata.subsidiary``), matched exactly."""


class RoutingRule(_Model):
    """One rule of ``routing.<role>``: which connection (and legal entity) books the accounts
    it matches. The first matching rule wins."""

    name: Name
    """Rule name, unique within the role (named in the ledger and in remediation)."""
    when: RouteMatch = Field(default_factory=lambda: RouteMatch())
    """What the account must have; unset matches every account (a catch-all, put it last)."""
    connection: ConnectionName
    """The connection (of this role) that receives the matched accounts' documents."""
    subsidiary: str | None = Field(default=None, min_length=1)
    """The legal entity that books them there; it replaces the account's own legal entity in
    the writes to that connection (a NetSuite connection maps it to a subsidiary id through
    ``options.subsidiaries``, and to a tax code through ``options.tax_codes``)."""
    currencies: CurrencyList | None = Field(default=None, min_length=1)
    """Currencies this legal entity books; a document in another currency parks with
    remediation instead of being converted (FX is never invented). Unset: any currency."""


OTLP_EXPORTER_MODULE = "opentelemetry.exporter.otlp.proto.http"


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


class TraceSettings(_Model):
    """OpenTelemetry traces: one trace per business event (correlation id)."""

    exporter: Literal["none", "console", "otlp"] = "none"
    """Where spans go: nowhere, standard output, or an OTLP/HTTP collector (needs the
    `syncwright[otel]` extra)."""
    endpoint: str | None = Field(default=None, min_length=1)
    """OTLP/HTTP traces URL, e.g. http://collector:4318/v1/traces (only with exporter: otlp;
    unset: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or http://localhost:4318/v1/traces)."""
    service_name: str = Field(default="syncwright", min_length=1)
    """The service.name resource attribute of every span."""

    @model_validator(mode="after")
    def _endpoint_needs_otlp(self) -> TraceSettings:
        if self.endpoint is not None and self.exporter != "otlp":
            raise ValueError("endpoint is only used with exporter: otlp")
        if self.exporter == "otlp" and not _installed(OTLP_EXPORTER_MODULE):
            raise ValueError(
                "exporter otlp needs the OTLP exporter: pip install 'syncwright[otel]'"
            )
        return self


class TelemetrySettings(_Model):
    """Logs and metrics."""

    log_level: Annotated[
        Literal["debug", "info", "warning", "error", "critical"], BeforeValidator(_lower)
    ] = "info"
    """Lowest level logged."""
    metrics_enabled: bool = True
    """Serve Prometheus metrics at /metrics (false: /metrics answers 404)."""
    log_format: Literal["text", "json"] = "text"
    """Log lines as text, or as one JSON object per line with correlation ids."""
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    """Port on which `syncwright worker` serves its own /metrics (on server.host); unset: none."""
    traces: TraceSettings = Field(default_factory=lambda: TraceSettings())
    """OpenTelemetry traces."""
    metrics_token_required: bool = False
    """/metrics needs a viewer token (`Authorization: Bearer ...`), e.g. for a scraper that
    reaches a listener which is not loopback-only."""


Role = Literal["viewer", "operator", "admin"]
#: The roles, weakest first: each may do what the ones before it may.
ROLES: Final[tuple[Role, ...]] = get_args(Role)
MIN_TOKEN_LENGTH: Final = 16


class TokenSettings(_Model):
    """One API token: who holds it, what it may do, and its value."""

    name: Name
    """Who holds the token; the ledger records it as the actor of the actions taken with it."""
    role: Annotated[Role, BeforeValidator(_lower)]
    """viewer (read), operator (also retry, resolve, replay, reconcile, validate) or admin
    (also configuration-level actions)."""
    secret: Secret
    """The token value, as ${ENV} or file:PATH; at least 16 characters."""

    @field_validator("secret", mode="after")
    @classmethod
    def _long_enough(cls, value: Secret) -> Secret:
        if len(value.reveal()) < MIN_TOKEN_LENGTH:
            raise ValueError(
                f"the token in {value.source} is shorter than {MIN_TOKEN_LENGTH} characters; "
                "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return value


class AuthSettings(_Model):
    """Who may call the HTTP API (`Authorization: Bearer <token>`)."""

    tokens: list[TokenSettings] = Field(default_factory=list)
    """API tokens; names unique, values distinct."""

    @model_validator(mode="after")
    def _distinct(self) -> AuthSettings:
        names: dict[str, int] = {}
        for index, token in enumerate(self.tokens):
            if token.name in names:
                raise ValueError(
                    f"tokens[{index}].name: {token.name!r} is already used at "
                    f"tokens[{names[token.name]}]; names must be unique"
                )
            names[token.name] = index
            for earlier in self.tokens[:index]:
                if earlier.secret == token.secret:
                    raise ValueError(
                        f"tokens[{index}].secret: same value as token {earlier.name!r}; "
                        "each token needs its own value"
                    )
        return self


class AuditSettings(_Model):
    """The hash-chained audit trail of financial writes and operator actions."""

    key: Secret | None = None
    """HMAC-SHA256 key of the chain, as ${ENV} or file:PATH; unset, entries are plain SHA-256
    (anyone who can write the database can recompute them). Set it before the first entry."""


class ExceptionSettings(_Model):
    """The exception queue."""

    dependency_check_seconds: float = Field(default=30.0, gt=0, le=86400)
    """How often the worker checks whether what a ``waiting`` exception waits for has appeared
    (a record in the cross-reference, or the target's own read), and retries it if so."""


class DunningPolicy(_Model):
    """What the support desk does with an account whose invoice payment failed
    (docs/lifecycle.md)."""

    action: Literal["none", "downgrade", "suspend"] = "none"
    """`none`: the entitlement stays; `downgrade`: the support tier becomes `tier`; `suspend`:
    the entitlement is suspended (the support connection's revoked tier, no SLA). A payment
    that clears the account's dues restores the tier of its plan."""
    after_attempts: int = Field(default=1, ge=1, le=100)
    """Failed collection attempts of one invoice before the action is taken."""
    tier: str | None = Field(default=None, min_length=1)
    """The tier of a downgraded account; required with `action: downgrade`, and only then."""

    @model_validator(mode="after")
    def _tier_with_downgrade(self) -> DunningPolicy:
        if self.action == "downgrade" and self.tier is None:
            raise ValueError("action: downgrade needs tier: <the support tier while in dunning>")
        if self.action != "downgrade" and self.tier is not None:
            raise ValueError(f"tier is used only with action: downgrade (action is {self.action})")
        return self


class LifecycleSettings(_Model):
    """Policies of the customer lifecycle workflows (docs/lifecycle.md)."""

    dunning: DunningPolicy = Field(default_factory=DunningPolicy)
    """Support entitlement while an invoice is unpaid after failed collection."""
    escalation_tags: list[Annotated[str, StringConstraints(min_length=1)]] = Field(
        default_factory=lambda: ["credit_request", "refund_request"]
    )
    """Support case tags that ask for a commercial decision: an open case carrying one becomes
    a task on the CRM account; empty, no case is escalated."""


class Settings(_Model):
    """The whole of ``syncwright.yaml``."""

    model_config = ConfigDict(title="syncwright.yaml")

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    """State database."""
    server: ServerSettings = Field(default_factory=ServerSettings)
    """HTTP server."""
    engine: EngineSettings = Field(default_factory=EngineSettings)
    """Workflow engine."""
    connections: dict[ConnectionName, ConnectionSettings] = Field(default_factory=dict)
    """Connected systems by name; the name is used in /hooks/{name} and everywhere else."""
    ownership: dict[Domain, OwnershipRule] = Field(default_factory=dict)
    """System of record per domain (and per field)."""
    mappings: list[MappingRef] = Field(default_factory=list)
    """Versioned mapping files."""
    workflows: dict[WorkflowName, WorkflowSettings] = Field(default_factory=dict)
    """Per-workflow settings by workflow name."""
    reconciliation: list[ReconciliationRule] = Field(default_factory=list)
    """Reconciliation rules."""
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)
    """Logs and metrics."""
    audit: AuditSettings = Field(default_factory=AuditSettings)
    """Audit trail."""
    exceptions: ExceptionSettings = Field(default_factory=ExceptionSettings)
    """Exception queue."""
    auth: AuthSettings = Field(default_factory=AuthSettings)
    """API tokens and their roles."""
    lifecycle: LifecycleSettings = Field(default_factory=LifecycleSettings)
    """Customer lifecycle policies (dunning)."""
    routing: dict[RoutedRole, list[RoutingRule]] = Field(default_factory=dict)
    """Per connection role (today ``erp``, the role workflows route), rules choosing which
    connection of that role (and which legal entity) serves each account. Without rules: every
    connection of the role serves every account (docs/routing.md)."""

    @model_validator(mode="after")
    def _references(self, info: ValidationInfo) -> Settings:
        # load_settings() runs this check itself on the raw document, so that reference problems
        # are reported together with every other problem; it then turns this one off.
        if isinstance(info.context, Mapping) and info.context.get("check_references") is False:
            return self
        problems = reference_problems(self.model_dump(mode="json"))
        if problems:
            raise ValueError("; ".join(f"{_dotted(loc)}: {msg}" for loc, msg in problems))
        return self


Loc = tuple[str | int, ...]


def _ownership_field_problems(domain: str, fields: Mapping[Any, Any]) -> list[tuple[Loc, str]]:
    """Field names under ``ownership.<domain>.fields`` must be the canonical model's."""
    from syncwright.policy.entities import DOMAIN_MODELS  # the model is heavy; only when used

    model = DOMAIN_MODELS.get(domain)
    if model is None:
        return []
    known = [name for name in model.model_fields if name != "global_id"]
    return [
        (
            ("ownership", domain, "fields", str(name)),
            f"{model.__name__} has no field {name!r}; fields are {', '.join(known)}",
        )
        for name in fields
        if str(name) not in known
    ]


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def reference_problems(data: Any) -> list[tuple[Loc, str]]:
    """Cross-references and uniqueness, checked on a plain (possibly invalid) document.

    Tolerates any shape: what is not a mapping or list where expected is left to the type
    checks, so each problem is reported once.
    """
    if not isinstance(data, Mapping):
        return []
    problems: list[tuple[Loc, str]] = []
    connections = data.get("connections")
    names = sorted(str(k) for k in connections) if isinstance(connections, Mapping) else []
    known = ", ".join(names) if names else "none are defined"

    def check(loc: Loc, name: Any) -> None:
        if isinstance(name, str) and name not in names:
            problems.append(
                (
                    loc,
                    f"unknown connection {name!r}; define it under connections: or use one of "
                    f"the defined ones ({known})",
                )
            )

    ownership = data.get("ownership")
    if isinstance(ownership, Mapping):
        for domain, rule in ownership.items():
            if not isinstance(rule, Mapping):
                continue
            check(("ownership", str(domain), "system"), rule.get("system"))
            fields = rule.get("fields")
            if isinstance(fields, Mapping):
                for field, owner in fields.items():
                    check(("ownership", str(domain), "fields", str(field)), owner)
                problems.extend(_ownership_field_problems(str(domain), fields))

    mappings = data.get("mappings")
    if isinstance(mappings, list):
        seen: dict[tuple[Any, Any], int] = {}
        for index, item in enumerate(mappings):
            if not isinstance(item, Mapping):
                continue
            check(("mappings", index, "connection"), item.get("connection"))
            key = (item.get("name"), item.get("version"))
            if isinstance(key[0], str) and key in seen:
                problems.append(
                    (
                        ("mappings", index, "version"),
                        f"mapping {key[0]!r} version {key[1]} is already listed at "
                        f"mappings[{seen[key]}]; bump the version or remove one",
                    )
                )
            seen.setdefault(key, index)

    rules = data.get("reconciliation")
    if isinstance(rules, list):
        rule_names: dict[str, int] = {}
        for index, item in enumerate(rules):
            if not isinstance(item, Mapping):
                continue
            compare = item.get("compare")
            if isinstance(compare, list):
                for position, name in enumerate(compare):
                    check(("reconciliation", index, "compare", position), name)
            name = item.get("name")
            if isinstance(name, str):
                if name in rule_names:
                    problems.append(
                        (
                            ("reconciliation", index, "name"),
                            f"rule name {name!r} is already used at "
                            f"reconciliation[{rule_names[name]}]; names must be unique",
                        )
                    )
                rule_names.setdefault(name, index)

    from syncwright.config._routing import routing_problems

    problems.extend(routing_problems(data, check))
    return problems

"""The Salesforce connector: Change Data Capture in, billing facts out.

Config (``connections.<name>`` in ``syncwright.yaml``; every key is in this folder's README):
``base_url`` (login / My Domain URL), ``credentials.client_id``, ``client_secret``, ``username``,
``password`` (``security_token``), ``limits``, and ``options``: ``client_name``, ``ca_file``,
``api_version``, ``default_currency``, ``default_subsidiary``, ``legal_entity_field``,
``won_stages``, ``renewal_types``, ``poll_streams``, ``poll_page_size``, ``cdc_start_replay_id``,
``poll_lookback_seconds``, ``soql_overlap_seconds``, ``billing_fields``,
``subscription_status_values``, ``standing_values``, ``describe_cache_seconds``,
``pubsub_endpoint``, ``cdc_topic``, ``pubsub_wait_seconds``.

Two poll streams:

- ``cdc`` (default): Change Data Capture. With ``options.pubsub_endpoint`` set, over
  Salesforce's Pub/Sub API (gRPC, Avro; ``pubsub.py``; the ``salesforce-cdc`` extra), cursor =
  the hex of the last event's replay id; the Salesforce emulator serves the same API. Without
  it, the emulator's CDC replay endpoint (``/_sandbox/cdc/events?replay_id=N``, cursor = the
  last replay id), which only the emulator has.
- ``soql``: works against real Salesforce and the emulator alike. It polls won opportunities by
  ``SystemModstamp`` and hands each one on as a synthetic change-event-shaped delivery, so the
  same normalizer maps it. Accounts are not polled this way.

Webhooks: the emulator pushes change events to HTTP subscribers unsigned, and Salesforce has no
signed CDC webhook, so :meth:`SalesforceConnector.webhook_verifier` returns None (``POST
/hooks/<connection>`` answers 404) and intake relies on polling.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Iterator, Mapping
from typing import Any

from syncwright.connectors import (
    Action,
    Connector,
    Delivery,
    PollBatch,
    PolledEvent,
    Stream,
    WebhookIdentity,
    WebhookVerifier,
)
from syncwright.connectors.salesforce import snapshots
from syncwright.connectors.salesforce.client import (
    DEFAULT_API_VERSION,
    DEFAULT_CLIENT_NAME,
    DEFAULT_LOGIN_URL,
    SalesforceClient,
    SalesforceCredentials,
)
from syncwright.connectors.salesforce.escalation import escalate_case, probe_escalation
from syncwright.connectors.salesforce.inbound import (
    DEFAULT_LEGAL_ENTITY_FIELD,
    DEFAULT_RENEWAL_TYPES,
    DEFAULT_WON_STAGES,
    MAPPED_ENTITIES,
    InboundOptions,
    SalesforceReader,
    change_header,
    normalize,
)
from syncwright.connectors.salesforce.options import SalesforceOptionsModel
from syncwright.connectors.salesforce.outbound import (
    billing_fields as declared_billing_fields,
)
from syncwright.connectors.salesforce.outbound import (
    probe_account_billing,
    read_account,
    read_deal,
    update_account_billing,
    withdraw_account_billing,
)
from syncwright.connectors.salesforce.pubsub import PubSubReader
from syncwright.connectors.salesforce.pubsub import require as require_pubsub
from syncwright.errors import (
    AuthError,
    BusinessRuleError,
    ConfigError,
    TransientError,
    UncertainOutcomeError,
)
from syncwright.mapping import mapping_override
from syncwright.reconcile.snapshot import Dataset, SnapshotRecord

__all__ = ["STREAMS", "SalesforceConnector"]

log = logging.getLogger(__name__)

STREAMS = ("cdc", "soql")
# Salesforce replay semantics: -2 = every retained event, -1 = only new ones (the default of
# options.cdc_start_replay_id, like the other option defaults, lives in options.py).
REPLAY_NEW = -1
# Salesforce limits concurrent long-running requests (25 per org) and counts requests per day;
# it has no per-second limit.
# https://developer.salesforce.com/docs/atlas.en-us.salesforce_app_limits_cheatsheet.meta/salesforce_app_limits_cheatsheet/salesforce_app_limits_platform_api.htm
DEFAULT_CONCURRENCY = 25

_CLIENT_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_SF_DATETIME = "%Y-%m-%dT%H:%M:%S.%f%z"


class SalesforceConnector(Connector):
    vendor = "salesforce"
    #: What reconciliation can read here (``syncwright.reconcile``).
    reconcile_datasets: tuple[str, ...] = ("crm_standing",)
    takes_webhooks = False  # see the module docstring: polling is the intake
    maps_inbound = True
    streams = (
        # https://developer.salesforce.com/docs/platform/pub-sub-api/guide/ (gRPC Subscribe)
        Stream("cdc", "/data/ChangeEvents", primary_key="replayId", cursor_field="replayId"),
        # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_query.htm
        Stream(
            "soql",
            "/services/data/{version}/query",
            primary_key="Id",
            cursor_field="SystemModstamp",
        ),
    )
    poll_streams = ("cdc",)
    options_model = SalesforceOptionsModel
    # REST API "Status Codes and Error Responses" and OAuth errors: the codes this connector
    # raises as salesforce.<code>.
    # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm
    documented_errors = {
        "oauth.invalid_client": AuthError,
        "not_found": BusinessRuleError,
        "invalid_field": BusinessRuleError,
        "malformed_id": BusinessRuleError,
        "required_field_missing": BusinessRuleError,
        "request_limit_exceeded": TransientError,
        "unknown_exception": TransientError,
        "write_outcome_unknown": UncertainOutcomeError,
    }
    actions = {
        "read_account": Action(read_account),
        "read_deal": Action(read_deal),
        "update_account_billing": Action(
            update_account_billing,
            probe=probe_account_billing,
            compensate=withdraw_account_billing,
        ),
        "escalate_case": Action(escalate_case, probe=probe_escalation),
    }

    def __init__(self, name: str, settings: Any) -> None:
        super().__init__(name, settings)
        self._client: SalesforceClient | None = None
        self._reader: SalesforceReader | None = None
        # One limit per connection, shared by whichever thread builds the client first.
        self._limiter, self._rate = self.limiters(default_concurrency=DEFAULT_CONCURRENCY)
        # Types and ranges: the options model (``config validate`` checks the same); what needs
        # Salesforce's naming rules is checked here, at start-up.
        options: SalesforceOptionsModel = self.parse_options(name, settings.options)
        self.options = options
        self.inbound_options = InboundOptions(
            client_name=options.client_name or DEFAULT_CLIENT_NAME,
            default_currency=_upper(options.default_currency or None),
            default_subsidiary=options.default_subsidiary or None,
            legal_entity_field=self._api_name("legal_entity_field", options.legal_entity_field)
            or DEFAULT_LEGAL_ENTITY_FIELD,
            won_stages=tuple(options.won_stages or DEFAULT_WON_STAGES),
            renewal_types=tuple(options.renewal_types or DEFAULT_RENEWAL_TYPES),
        )
        if not _CLIENT_NAME.match(self.inbound_options.client_name):
            raise self._bad(
                "client_name", "letters, digits, '_', '.', '-' (1-64)", options.client_name
            )
        # Change events come over the Pub/Sub API: without its endpoint, SOQL polling.
        default = self.poll_streams if options.pubsub_endpoint else ("soql",)
        streams = tuple(options.poll_streams or default)
        if "cdc" in streams and not options.pubsub_endpoint:
            raise ConfigError(
                f"connection {name!r}: the cdc stream reads change events over the Salesforce "
                "Pub/Sub API, and options.pubsub_endpoint is not set",
                code="salesforce.bad_option",
                problems=[
                    f"connections.{name}.options.pubsub_endpoint: api.pubsub.salesforce.com:7443 "
                    "(or poll_streams: [soql])"
                ],
            )
        if streams != type(self).poll_streams:
            # poll_streams is what the vendor *can* poll; a connection may choose which of them
            # it runs (``soql`` against real Salesforce), so the instance shadows the class value.
            vars(self)["poll_streams"] = streams
        # Renames and picklist values over the outbound mapping's (mappings/outbound.yaml);
        # a renamed key the mapping does not write is refused when the mapping is read.
        self.billing_field_names: dict[str, str] = self._field_names(
            "billing_fields", options.billing_fields
        )
        self.subscription_status_values: dict[str, str] = dict(
            options.subscription_status_values or {}
        )
        self.standing_values: dict[str, str] = dict(options.standing_values or {})
        self._page_size = options.poll_page_size
        self._cdc_start = options.cdc_start_replay_id
        self._lookback = options.poll_lookback_seconds
        self._overlap = options.soql_overlap_seconds
        self._describe_ttl = options.describe_cache_seconds
        self._pubsub: PubSubReader | None = None
        if options.pubsub_endpoint and "cdc" in streams:
            require_pubsub(name)  # say what to install at start-up, not at the first poll

    # -- inbound: webhooks --------------------------------------------------------------------

    def webhook_verifier(self) -> WebhookVerifier | None:
        # The emulator pushes CDC to HTTP subscribers without any signature, and Salesforce
        # itself offers no signed CDC webhook (Pub/Sub API / CometD are pull subscriptions), so
        # there is nothing to verify a push with: webhooks are refused, polling is the intake.
        return None

    def identify(self, payload: Any, body: bytes) -> WebhookIdentity:
        """A CDC event's id is its replay id; its type ``<entity>.<changeType>``."""
        parts = change_header(payload)
        event = payload.get("event") if isinstance(payload, dict) else None
        replay = event.get("replayId") if isinstance(event, dict) else None
        if parts is None or not isinstance(replay, int) or isinstance(replay, bool):
            return super().identify(payload, body)
        header = parts[1]
        return WebhookIdentity(str(replay), _event_type(header))

    def normalize(self, delivery: Delivery) -> list[Any]:
        return normalize(delivery, self.services.xref, self.reader)

    # -- inbound: polling ---------------------------------------------------------------------

    def poll(self, stream: str, cursor: str | None) -> PollBatch:
        if stream == "cdc":
            return self._poll_cdc(cursor)
        if stream == "soql":
            return self._poll_soql(cursor)
        raise ConfigError(
            f"connection {self.name!r} (salesforce) has no poll stream {stream!r}",
            code="salesforce.unknown_stream",
            problems=[f"salesforce streams: {', '.join(STREAMS)}"],
        )

    def _poll_cdc(self, cursor: str | None) -> PollBatch:
        return self._poll_pubsub(cursor)

    def _poll_pubsub(self, cursor: str | None) -> PollBatch:
        """Change events after the replay id ``cursor`` (hex of Salesforce's opaque replay id)
        over the Pub/Sub API (``pubsub.py``). Without a cursor, ``cdc_start_replay_id`` picks
        the preset: -2 EARLIEST, -1 LATEST. With ``pubsub_managed_subscription`` the server
        keeps the position: the cursor (stored once the previous page was accepted) is
        committed, and without one the subscription resumes after its last commit (or at its
        default replay). Events of objects the mapping ignores move the
        cursor but are not stored."""
        replay: bytes | None = None
        if cursor is not None:
            try:
                replay = bytes.fromhex(cursor)
            except ValueError as exc:
                raise self._bad_cursor("cdc", cursor, "a Pub/Sub replay id (hex)") from exc
        managed = self.options.pubsub_managed_subscription
        if managed:
            # Managed replay: committing the stored cursor moves the server's position to it.
            fetched = self.pubsub.fetch_managed(managed, replay, limit=self._page_size)
        else:
            fetched = self.pubsub.fetch(
                replay, earliest=self._cdc_start != REPLAY_NEW, limit=self._page_size
            )
        polled: list[PolledEvent] = []
        for replay_hex, event_uuid, body in fetched.events:
            body["event"] = {"replayId": replay_hex, "EventUuid": event_uuid}
            header = body["payload"]["ChangeEventHeader"]
            if header.get("entityName") in MAPPED_ENTITIES:
                polled.append(PolledEvent(event_uuid, _event_type(header), json.dumps(body)))
        new_cursor = fetched.events[-1][0] if fetched.events else None
        if new_cursor is None and cursor is None:
            # Nothing yet: remember where "now" was (from the keepalive), or LATEST skips what
            # comes meanwhile.
            new_cursor = fetched.latest
        return PollBatch(polled, new_cursor, has_more=len(fetched.events) >= self._page_size)

    def _poll_soql(self, cursor: str | None) -> PollBatch:
        """Won opportunities modified at or after the cursor (a ``SystemModstamp``).

        Salesforce keeps ``SystemModstamp`` to the second, so several rows share one: the query
        uses ``>=`` and reaches back ``soql_overlap_seconds``; rows at or before the cursor are
        handed out again (the inbox drops them: the vendor event id is per opportunity) but do
        not count towards the page, and a page never ends inside one second, so the cursor
        always moves past what was read.
        https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_dateformats.htm
        """
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        watermark = _parse_stamp(cursor) if cursor else now - dt.timedelta(seconds=self._lookback)
        if watermark is None:
            raise self._bad_cursor("soql", str(cursor), "a date-time")
        since = watermark - dt.timedelta(seconds=self._overlap if cursor else 0)
        # Only our own formatted date-time goes into the query text.
        soql = (
            "SELECT Id, StageName, IsWon, SystemModstamp FROM Opportunity "  # noqa: S608
            f"WHERE IsWon = true AND SystemModstamp >= {since.strftime('%Y-%m-%dT%H:%M:%SZ')} "
            "ORDER BY SystemModstamp ASC, Id ASC"
        )
        polled: list[PolledEvent] = []
        counted = 0
        last_stamp: dt.datetime | None = None
        last_text: str | None = None
        has_more = False
        for row in self.client.query(soql):
            stamp = _parse_stamp(str(row.get("SystemModstamp") or ""))
            if stamp is None or not row.get("Id"):
                continue
            if counted >= self._page_size and stamp != last_stamp:
                has_more = True
                break
            polled.append(_synthetic_won(row, stamp))
            if cursor is None or stamp > watermark:
                counted += 1
            last_stamp, last_text = stamp, str(row["SystemModstamp"])
        moved = last_stamp is not None and (cursor is None or last_stamp > watermark)
        new_cursor = last_text if moved else None
        return PollBatch(polled, new_cursor, has_more=has_more)

    # -- client and options -------------------------------------------------------------------

    @property
    def client(self) -> SalesforceClient:
        if self._client is None:
            creds = self.settings.credentials
            missing = [k for k in ("client_id", "client_secret") if not _secret(creds, k)]
            username, password = _secret(creds, "username"), _secret(creds, "password")
            if bool(username) != bool(password):
                missing.append("password" if username else "username")
            if missing:
                raise ConfigError(
                    f"connection {self.name!r} (salesforce) lacks credentials: "
                    + ", ".join(missing),
                    code="salesforce.no_credentials",
                    problems=[
                        f"connections.{self.name}.credentials.{key}: set it to "
                        "${ENV_VAR} or file:/path"
                        for key in missing
                    ],
                )
            limits = self.settings.limits
            self._client = SalesforceClient(
                str(self.settings.base_url or DEFAULT_LOGIN_URL),
                SalesforceCredentials(
                    client_id=_secret(creds, "client_id") or "",
                    client_secret=_secret(creds, "client_secret") or "",
                    username=username,
                    password=password,
                    security_token=_secret(creds, "security_token") or "",
                ),
                api_version=str(self.options.api_version or DEFAULT_API_VERSION),
                client_name=self.inbound_options.client_name,
                timeout=limits.timeout_seconds,
                ca_file=self.options.ca_file or None,
                limiter=self._limiter,
                rate=self._rate,
                describe_ttl_seconds=float(self._describe_ttl),
            )
        return self._client

    @property
    def pubsub(self) -> PubSubReader:
        if self._pubsub is None:
            endpoint = str(self.options.pubsub_endpoint)
            self._pubsub = PubSubReader(
                self.name,
                endpoint,
                self.client.pubsub_session,
                ca_file=self.options.ca_file or None,
                topic=self.options.cdc_topic,
                wait_seconds=self.options.pubsub_wait_seconds,
            )
        return self._pubsub

    @property
    def reader(self) -> SalesforceReader:
        replayed = mapping_override(self.vendor, "inbound")
        if replayed is not None:  # a replay under another mapping version: only for it
            return SalesforceReader(self.client, self.inbound_options, replayed)
        if self._reader is None:
            self._reader = SalesforceReader(
                self.client, self.inbound_options, self.mapping("inbound")
            )
        return self._reader

    # -- reconciliation -----------------------------------------------------------------------

    def snapshot(self, dataset: Dataset) -> Iterator[SnapshotRecord]:
        """The billing standing each Account shows (``crm_standing``)."""
        # The Account fields update_account_billing writes (the outbound mapping's, renamed).
        names = declared_billing_fields(self).names
        return snapshots.snapshot(self.client, names, self.name, dataset)

    def reemit(self, dataset: Dataset, native_id: str, reason: str) -> list[PolledEvent]:
        """Nothing: the CRM shows billing standing, the billing system is its record."""
        return []

    def close(self) -> None:
        if self._pubsub is not None:
            self._pubsub.close()
            self._pubsub = None
        if self._client is not None:
            self._client.close()
            self._client = None
            self._reader = None

    def _bad_cursor(self, stream: str, cursor: str, wanted: str) -> ConfigError:
        return ConfigError(
            f"connection {self.name!r}: {stream} cursor {cursor!r} is not {wanted}",
            code="salesforce.bad_cursor",
            problems=[f"sw_cursors {self.name}/{stream}: reset it to {wanted} or delete it"],
        )

    def _bad(self, key: str, wanted: str, value: Any) -> ConfigError:
        return ConfigError(
            f"connection {self.name!r}: options.{key} must be {wanted}",
            code="salesforce.bad_option",
            problems=[f"connections.{self.name}.options.{key}: {wanted}; got {value!r}"],
        )

    def _api_name(self, key: str, value: str | None) -> str | None:
        if value and not _API_NAME.match(value):
            raise self._bad(key, "a Salesforce field API name such as Legal_Entity__c", value)
        return value or None

    def _field_names(self, key: str, found: Mapping[str, str] | None) -> dict[str, str]:
        for api_name in (found or {}).values():
            if not _API_NAME.match(api_name):
                raise self._bad(key, "Salesforce field API names as values", found)
        return dict(found or {})


def _secret(credentials: Mapping[str, Any], key: str) -> str | None:
    value = credentials.get(key)
    if value is None:
        return None
    text = str(value.reveal())
    return text if text.strip() else None


def _upper(value: str | None) -> str | None:
    return value.upper() if value else None


def _event_type(header: Mapping[str, Any]) -> str:
    return f"{header.get('entityName') or 'unknown'}.{header.get('changeType') or 'unknown'}"


def _parse_stamp(text: str) -> dt.datetime | None:
    """A Salesforce date-time (``2026-01-31T09:30:00.000+0000``) as an aware datetime."""
    try:
        return dt.datetime.strptime(text, _SF_DATETIME).astimezone(dt.UTC)
    except ValueError:
        return None


def _synthetic_won(row: Mapping[str, Any], stamp: dt.datetime) -> PolledEvent:
    """A won opportunity found by SOQL, shaped like the CDC UPDATE that won it, so the one
    normalizer maps both. Its id is per opportunity: a deal is handed on once however often
    the stream re-reads it (re-opening and winning again is not seen by this stream)."""
    opp_id = str(row["Id"])
    body = {
        "schema": "syncwright/soql",
        "payload": {
            "ChangeEventHeader": {
                "entityName": "Opportunity",
                "recordIds": [opp_id],
                "changeType": "UPDATE",
                "changeOrigin": "syncwright/soql-poll",
                "changedFields": ["StageName"],
                "commitTimestamp": int(stamp.timestamp() * 1000),
            },
            "StageName": row.get("StageName"),
            "IsWon": True,
        },
        "event": {"replayId": None},
    }
    return PolledEvent(
        f"soql:Opportunity:{opp_id}:closed_won", "Opportunity.UPDATE", json.dumps(body)
    )

"""The HubSpot CRM connector: signed webhook batches and deal polling in, billing facts out.

Config (``connections.<name>`` in ``syncwright.yaml``; every key is in this folder's README):
``base_url`` (default ``https://api.hubapi.com``), ``credentials.access_token`` (a private
app's token) or ``credentials.client_id``/``client_secret``/``refresh_token`` (a public app's
OAuth), ``webhook.secrets`` (the app's client secret),
``limits``, and ``options`` (:class:`~syncwright.connectors.hubspot.options.HubSpotOptionsModel`).

One poll stream, ``deals``: won deals by ``hs_lastmodifieddate`` through the search API, each
handed on as a one-event batch shaped like the ``dealstage`` webhook, so the one normalizer maps
both and polling heals a missed webhook (the policy gate drops the second closed-won of a deal).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
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
from syncwright.connectors.hubspot.auth import OAuthRefreshAuth
from syncwright.connectors.hubspot.client import DEFAULT_BASE_URL, HubSpotClient
from syncwright.connectors.hubspot.inbound import (
    DEFAULT_LEGAL_ENTITY_PROPERTY,
    DEFAULT_WON_STAGES,
    HubSpotReader,
    InboundOptions,
    identify,
    normalize,
)
from syncwright.connectors.hubspot.options import HubSpotOptionsModel
from syncwright.connectors.hubspot.outbound import (
    probe_account_billing,
    read_account,
    read_deal,
    update_account_billing,
    withdraw_account_billing,
)
from syncwright.connectors.hubspot.signature import HubSpotSignatureVerifier
from syncwright.errors import (
    AuthError,
    BusinessRuleError,
    ConfigError,
    TransientError,
    UncertainOutcomeError,
)

__all__ = ["HubSpotConnector"]

STREAMS = ("deals",)
# A private app may make 100 (Free/Starter) to 190 (Professional, Enterprise) requests per 10
# seconds (../shared/vendor/RATE-LIMITS.json; https://developers.hubspot.com/docs/api/usage-details).
# The default start rate stays under the smallest allowance: 9 a second; set
# limits.requests_per_second for a larger one.
DEFAULT_REQUESTS_PER_SECOND = 9.0
DEFAULT_CONCURRENCY = 10


class HubSpotConnector(Connector):
    vendor = "hubspot"
    takes_webhooks = True
    maps_inbound = True
    streams = (
        # https://developers.hubspot.com/docs/api/crm/search
        Stream(
            "deals",
            "/crm/v3/objects/deals/search",
            primary_key="id",
            cursor_field="hs_lastmodifieddate",
            description="won deals by last modification (heals missed dealstage webhooks)",
        ),
    )
    options_model = HubSpotOptionsModel
    # The ``category`` values of HubSpot's error body this connector raises as hubspot.<code>
    # (https://developers.hubspot.com/docs/faq/api-error-responses), plus a write whose answer
    # was lost.
    documented_errors = {
        "INVALID_AUTHENTICATION": AuthError,
        "oauth.BAD_REFRESH_TOKEN": AuthError,
        "OBJECT_NOT_FOUND": BusinessRuleError,
        "VALIDATION_ERROR": BusinessRuleError,
        "RATE_LIMITS": TransientError,
        "INTERNAL_ERROR": TransientError,
        "uncertain": UncertainOutcomeError,
    }
    actions = {
        "read_account": Action(read_account),
        "read_deal": Action(read_deal),
        "update_account_billing": Action(
            update_account_billing,
            probe=probe_account_billing,
            compensate=withdraw_account_billing,
        ),
    }

    def __init__(self, name: str, settings: Any) -> None:
        super().__init__(name, settings)
        # Malformed options stop the process at start-up, with every problem named.
        self.options: HubSpotOptionsModel = self.parse_options(name, settings.options)
        opts = self.options
        self.inbound_options = InboundOptions(
            default_currency=opts.default_currency.upper() if opts.default_currency else None,
            default_subsidiary=opts.default_subsidiary,
            legal_entity_property=opts.legal_entity_property or DEFAULT_LEGAL_ENTITY_PROPERTY,
            won_stages=tuple(opts.won_stages or DEFAULT_WON_STAGES),
        )
        if opts.poll_streams is not None:
            vars(self)["poll_streams"] = tuple(opts.poll_streams)
        self._client: HubSpotClient | None = None
        self._reader: HubSpotReader | None = None
        self._lock = threading.Lock()

    # -- inbound: webhooks --------------------------------------------------------------------

    def webhook_verifier(self) -> WebhookVerifier | None:
        secrets = [s.reveal() for s in self.settings.webhook.secrets if s.reveal().strip()]
        if not secrets:
            return None
        return HubSpotSignatureVerifier(
            secrets,
            connection=self.name,
            webhook_url=self.options.webhook_url,
            tolerance_seconds=self.settings.webhook.tolerance_seconds,
        )

    def identify(self, payload: Any, body: bytes) -> WebhookIdentity:
        return identify(payload, body)

    def normalize(self, delivery: Delivery) -> list[Any]:
        return normalize(delivery, self.services.xref, self.reader)

    # -- inbound: polling ---------------------------------------------------------------------

    def poll(self, stream: str, cursor: str | None) -> PollBatch:
        """Won deals modified after ``cursor`` (``<epoch ms>:<deal id>``), oldest first.

        The search filters on the stamp and, for deals sharing the cursor's millisecond, on the
        id, so nothing is read twice or skipped; a page never ends inside one millisecond.
        https://developers.hubspot.com/docs/api/crm/search"""
        if stream not in STREAMS:
            raise ConfigError(
                f"connection {self.name!r} (hubspot) has no poll stream {stream!r}",
                code="hubspot.unknown_stream",
                problems=[f"hubspot streams: {', '.join(STREAMS)}"],
            )
        stamp, last_id = self._cursor(cursor)
        won = {
            "propertyName": "dealstage",
            "operator": "IN",
            "values": list(self.inbound_options.won_stages),
        }
        modified = "hs_lastmodifieddate"
        groups: list[dict[str, Any]] = [
            {"filters": [won, {"propertyName": modified, "operator": "GT", "value": str(stamp)}]}
        ]
        if last_id is not None:
            groups.append(
                {
                    "filters": [
                        won,
                        {"propertyName": modified, "operator": "EQ", "value": str(stamp)},
                        {"propertyName": "hs_object_id", "operator": "GT", "value": last_id},
                    ]
                }
            )
        request = {
            "filterGroups": groups,
            "sorts": [{"propertyName": modified, "direction": "ASCENDING"}],
            "properties": ["dealstage", modified],
        }
        return self._page(self.client.search("deals", request))

    def _page(self, rows: Iterator[dict[str, Any]]) -> PollBatch:
        found: list[tuple[int, int, str]] = []
        has_more = False
        for row in rows:
            props = row.get("properties") or {}
            stamp = _epoch_ms(str(props.get("hs_lastmodifieddate") or ""))
            if stamp is None or not str(row.get("id", "")).isdigit():
                continue
            if len(found) >= self.options.poll_page_size and stamp != found[-1][0]:
                has_more = True
                break
            found.append((stamp, int(row["id"]), str(props.get("dealstage"))))
        found.sort()
        events = [_synthetic_won(deal_id, stamp, stage) for stamp, deal_id, stage in found]
        cursor = f"{found[-1][0]}:{found[-1][1]}" if found else None
        return PollBatch(events, cursor, has_more=has_more)

    def _cursor(self, cursor: str | None) -> tuple[int, str | None]:
        if cursor is None:
            start = dt.datetime.now(dt.UTC) - dt.timedelta(
                seconds=self.options.poll_lookback_seconds
            )
            return int(start.timestamp() * 1000), None
        stamp, _, last_id = cursor.partition(":")
        if not stamp.isdigit() or not last_id.isdigit():
            raise ConfigError(
                f"connection {self.name!r}: deals cursor {cursor!r} is not <epoch ms>:<deal id>",
                code="hubspot.bad_cursor",
                problems=[f"sw_cursors {self.name}/deals: reset it or delete it"],
            )
        return int(stamp), last_id

    # -- client -------------------------------------------------------------------------------

    @property
    def client(self) -> HubSpotClient:
        with self._lock:
            if self._client is None:
                self._client = self._build_client()
            return self._client

    def _build_client(self) -> HubSpotClient:
        """A private app's ``access_token``, or a public app's ``client_id``, ``client_secret``
        and ``refresh_token`` (OAuth; access tokens renewed as they run out)."""
        creds = self.settings.credentials
        value = {k: creds[k].reveal().strip() for k in creds if creds[k].reveal().strip()}
        base_url = str(self.settings.base_url or DEFAULT_BASE_URL)
        oauth_keys = ("client_id", "client_secret", "refresh_token")
        auth: OAuthRefreshAuth | None = None
        if "access_token" not in value:
            missing = [k for k in oauth_keys if k not in value]
            if missing:
                raise ConfigError(
                    f"connection {self.name!r} (hubspot) lacks credentials: set access_token "
                    "(a private app) or client_id, client_secret and refresh_token (OAuth)",
                    code="hubspot.no_credentials",
                    problems=[
                        f"connections.{self.name}.credentials.access_token: a private app's "
                        "token as ${HUBSPOT_ACCESS_TOKEN} or file:/path",
                        *(
                            f"connections.{self.name}.credentials.{k}: for OAuth instead"
                            for k in missing
                        ),
                    ],
                )
            auth = OAuthRefreshAuth(
                base_url.rstrip("/") + "/oauth/v1/token", *(value[k] for k in oauth_keys)
            )
        limits = self.settings.limits
        limiter, rate = self.limiters(
            default_concurrency=DEFAULT_CONCURRENCY,
            default_requests_per_second=DEFAULT_REQUESTS_PER_SECOND,
        )
        return HubSpotClient(
            base_url,
            value.get("access_token"),
            auth=auth,
            timeout=limits.timeout_seconds,
            limiter=limiter,
            rate=rate,
        )

    @property
    def reader(self) -> HubSpotReader:
        if self._reader is None:
            self._reader = HubSpotReader(self.client, self.inbound_options, self.mapping("inbound"))
        return self._reader

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
                self._reader = None


def _epoch_ms(text: str) -> int | None:
    try:
        return int(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return int(text) if text.isdigit() else None


def _synthetic_won(deal_id: int, stamp: int, stage: str) -> PolledEvent:
    """A won deal found by polling, shaped like the webhook that won it. Its id is per deal:
    a deal is handed on once however often the stream re-reads it."""
    event: Mapping[str, Any] = {
        "eventId": 0,
        "subscriptionId": 0,
        "occurredAt": stamp,
        "subscriptionType": "deal.propertyChange",
        "attemptNumber": 0,
        "objectId": deal_id,
        "propertyName": "dealstage",
        "propertyValue": stage,
        "changeSource": "syncwright/poll",
    }
    return PolledEvent(f"poll:deal:{deal_id}:won", "deal.propertyChange", json.dumps([event]))

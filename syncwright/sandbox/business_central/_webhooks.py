"""Business Central webhooks: subscriptions, the validation handshake, notification batches.

Microsoft, "Working with webhooks in Dynamics 365 Business Central" (dynamics-subscriptions.md):

- ``POST /api/v2.0/subscriptions`` with ``notificationUrl``, ``resource`` (an entity set of a
  company, e.g. ``/api/v2.0/companies(<id>)/customers``) and an optional ``clientState`` (up to
  2048 characters). Before answering 201, Business Central calls
  ``notificationUrl?validationToken=<token>`` and the subscriber must answer 200 with the token
  as the body; otherwise the subscription is refused. ``PATCH`` (renewal) repeats the handshake.
- Subscriptions expire after 3 days unless renewed.
- Notifications are POSTed as ``{"value": [{subscriptionId, clientState, expirationDateTime,
  resource, changeType, lastModifiedDateTime}, ...]}``; one POST can batch notifications of
  several subscriptions; a change of a document line notifies the document's subscription.
  They carry no signature: the subscriber checks ``clientState``.

Here a notification is queued when a record changes and sent when a test (or the demo) calls
``/_sandbox/webhooks/deliver`` -- or at once, with ``deliver_immediately`` -- grouped by
notification URL. Emulators never import connector code; delivery uses httpx directly.
"""

from __future__ import annotations

import re
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from syncwright.sandbox.business_central._errors import BcApiError
from syncwright.sandbox.business_central._state import BcState, Change

__all__ = ["Subscriptions"]

EXPIRY = timedelta(days=3)
_RESOURCE = re.compile(r"^/?api/v2\.0/companies\(([0-9a-fA-F-]{36})\)/([A-Za-z]+)$")


@dataclass
class Subscriptions:
    state: BcState
    api_prefix: str = ""  # resource paths in notifications: api/v2.0/companies(...)/...
    deliver_immediately: bool = False
    verify: bool | str = True
    timeout: float = 10.0
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    pending: list[dict[str, Any]] = field(default_factory=list)
    delivered: list[dict[str, Any]] = field(default_factory=list)
    failed_deliveries: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.state.listeners.append(self.on_change)

    # -- the subscriptions entity set ----------------------------------------------------------

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        unknown = set(body) - {"notificationUrl", "resource", "clientState", "subscriptionId"}
        if unknown:
            raise BcApiError(
                400,
                "BadRequest",
                f"The property '{sorted(unknown)[0]}' does not exist on type "
                "'Microsoft.NAV.subscriptions'.",
            )
        url, resource = body.get("notificationUrl"), body.get("resource")
        if not url or not resource:
            raise BcApiError(
                400,
                "BadRequest_RequiredParamNotProvided",
                "Field 'notificationUrl' and 'resource' must not be blank or empty.",
            )
        match = _RESOURCE.match(str(resource))
        if match is None:
            raise BcApiError(
                400,
                "BadRequest_ResourceNotFound",
                f"Resource not found for the segment '{resource}'",
            )
        self.state.company(match.group(1))
        if len(str(body.get("clientState") or "")) > 2048:
            raise BcApiError(
                400,
                "Application_StringExceededLength",
                "The length of the string clientState must be less than or equal to 2048 "
                "characters.",
            )
        self._handshake(str(url))
        now = self.state.now()
        record = {
            "subscriptionId": body.get("subscriptionId") or uuid.uuid4().hex,
            "notificationUrl": url,
            "resource": resource,
            "userId": "00000000-0000-0000-0000-000000000001",
            "lastModifiedDateTime": now,
            "clientState": body.get("clientState") or "",
            "expirationDateTime": _iso(datetime.now(UTC) + EXPIRY),
            "systemCreatedAt": now,
            "systemModifiedAt": now,
        }
        with self._lock:
            self.records[record["subscriptionId"]] = record
        return dict(record)

    def renew(self, subscription_id: str, body: dict[str, Any]) -> dict[str, Any]:
        record = self.get(subscription_id)
        self._handshake(str(record["notificationUrl"]))
        with self._lock:
            if "clientState" in body:
                record["clientState"] = body["clientState"] or ""
            record["expirationDateTime"] = _iso(datetime.now(UTC) + EXPIRY)
            record["lastModifiedDateTime"] = record["systemModifiedAt"] = self.state.now()
        return dict(record)

    def get(self, subscription_id: str) -> dict[str, Any]:
        found = self.records.get(subscription_id)
        if found is None:
            raise BcApiError(
                404,
                "BadRequest_NotFound",
                "The subscription does not exist. Identification fields and values: "
                f"Subscription Id='{subscription_id}'",
            )
        return found

    def delete(self, subscription_id: str) -> None:
        self.get(subscription_id)
        with self._lock:
            del self.records[subscription_id]

    def _handshake(self, url: str) -> None:
        token = secrets.token_urlsafe(16)
        try:
            with httpx.Client(verify=self.verify, timeout=self.timeout, trust_env=False) as client:
                answer = client.post(url, params={"validationToken": token})
        except httpx.HTTPError:
            answer = None
        if answer is None or answer.status_code != 200 or answer.text.strip() != token:
            raise BcApiError(
                400,
                "Application_DialogException",
                f"The subscription could not be validated: {url} did not answer the validation "
                "token.",
            )

    # -- notifications -------------------------------------------------------------------------

    def on_change(self, change: Change) -> None:
        path = f"api/v2.0/companies({change.company_id})/{change.entity_set}"
        now = _iso(datetime.now(UTC))
        for record in list(self.records.values()):
            # an expired subscription (not renewed within 3 days) hears nothing
            if record["resource"].lstrip("/") != path or record["expirationDateTime"] <= now:
                continue
            notification = {
                "subscriptionId": record["subscriptionId"],
                "clientState": record["clientState"],
                "expirationDateTime": record["expirationDateTime"],
                "resource": f"{path}({change.record_id})",
                "changeType": change.change_type,
                "lastModifiedDateTime": change.at,
            }
            with self._lock:
                self.pending.append(
                    {"url": record["notificationUrl"], "notification": notification}
                )
        if self.deliver_immediately:
            threading.Thread(target=self.deliver, daemon=True).start()

    def deliver(self) -> int:
        """Send what is pending, one batch per notification URL; how many notifications went."""
        with self._lock:
            batch, self.pending = self.pending, []
        by_url: dict[str, list[dict[str, Any]]] = {}
        for item in batch:
            by_url.setdefault(item["url"], []).append(item["notification"])
        sent = 0
        with httpx.Client(verify=self.verify, timeout=self.timeout, trust_env=False) as client:
            for url, notifications in by_url.items():
                body = {"value": notifications}
                try:
                    answer = client.post(url, json=body)
                    ok = answer.status_code < 300
                except httpx.HTTPError:
                    ok = False
                with self._lock:
                    if ok:
                        sent += len(notifications)
                        self.delivered.append({"url": url, "body": body})
                    else:
                        self.failed_deliveries += 1
        return sent

    def stats(self) -> dict[str, Any]:
        return {
            "subscriptions": len(self.records),
            "pending": len(self.pending),
            "delivered_batches": len(self.delivered),
            "failed_deliveries": self.failed_deliveries,
        }


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

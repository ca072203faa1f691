"""Business Central webhooks and polling -> canonical account events (a message translator).

A notification (Microsoft, "Working with webhooks in Dynamics 365 Business Central") says only
*that* a record changed: ``{"value": [{subscriptionId, clientState, expirationDateTime,
resource, changeType, lastModifiedDateTime}, ...]}``. For each ``created``/``updated`` customer
the connector reads the customer fresh (a content enricher) and maps it with
``mappings/inbound.yaml`` to ``syncwright.account.upserted.v1``; for a customer linked to an
account, the facts the ERP owns (``erp_facts.py``) that differ from the account's canonical
state also make ``syncwright.account.erp_changed.v1`` (the ERP as a source, as NetSuite's
poll). ``deleted`` customers and other entity sets map to nothing. A ``collection``
notification (many changes at once) maps to nothing as well: the ``customers`` poll stream,
which reads every customer changed since its cursor, heals it.

Notifications carry no signature: Business Central echoes the subscription's ``clientState``,
which is our shared secret (``webhook.secrets``); every notification of a batch must carry one
of them. Ownership, echo suppression and staleness are the policy gate's (``syncwright/policy``).
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from syncwright.connectors import Delivery
from syncwright.connectors._base.erp_source import erp_changed
from syncwright.connectors.business_central.erp_facts import erp_facts, payment_term_names
from syncwright.errors import AuthError, BusinessRuleError
from syncwright.mapping import XrefResolver
from syncwright.model import Account
from syncwright.model.event_data import AccountUpsertedV1
from syncwright.model.events import ChangeEvent, make_event

if TYPE_CHECKING:
    from syncwright.connectors.business_central.connector import BusinessCentralConnector

__all__ = ["ClientStateVerifier", "normalize", "notification_of"]

_RESOURCE = re.compile(r"companies\(([0-9a-fA-F-]{36})\)/([A-Za-z]+)\(([0-9a-fA-F-]{36})\)$")


class ClientStateVerifier:
    """Every notification of a batch must carry one of the configured ``clientState`` values."""

    def __init__(self, secrets: Sequence[str]) -> None:
        self._secrets = [s.encode() for s in secrets]

    def __repr__(self) -> str:
        return f"ClientStateVerifier({len(self._secrets)} secrets)"

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        notifications = payload.get("value") if isinstance(payload, dict) else None
        if not isinstance(notifications, list) or not notifications:
            raise AuthError(
                "not a Business Central notification batch (no value list)",
                code="business_central.notification_malformed",
            )
        for notification in notifications:
            state = notification.get("clientState") if isinstance(notification, dict) else None
            if not isinstance(state, str) or not state:
                raise AuthError(
                    "a notification carries no clientState",
                    code="business_central.client_state_missing",
                )
            if not any(hmac.compare_digest(state.encode(), s) for s in self._secrets):
                raise AuthError(
                    "a notification's clientState matches no configured webhook secret",
                    code="business_central.client_state_mismatch",
                )


def notification_of(record: Mapping[str, Any], company_id: str, entity_set: str) -> dict[str, Any]:
    """A polled record as the notification a webhook would have sent for it (so polled and
    pushed changes normalize alike)."""
    return {
        "value": [
            {
                "subscriptionId": "poll",
                "resource": f"api/v2.0/companies({company_id})/{entity_set}({record['id']})",
                "changeType": "updated",
                "lastModifiedDateTime": record.get("lastModifiedDateTime"),
            }
        ]
    }


def _invalid(delivery: Delivery, problem: str) -> BusinessRuleError:
    return BusinessRuleError(
        f"Business Central delivery {delivery.vendor_event_id} on {delivery.connection}: {problem}",
        code="business_central.payload_invalid",
        remediation=(
            "The delivery is not a Business Central notification syncwright understands; check "
            "the sender (syncwright trace), then resolve this exception."
        ),
    )


def normalize(delivery: Delivery, connector: BusinessCentralConnector) -> list[ChangeEvent[Any]]:
    try:
        payload = delivery.json()
    except ValueError:
        raise _invalid(delivery, "the body is not JSON") from None
    notifications = payload.get("value") if isinstance(payload, dict) else None
    if not isinstance(notifications, list):
        raise _invalid(delivery, "no 'value' list of notifications")
    events: list[ChangeEvent[Any]] = []
    terms: dict[str, str] | None = None  # payment terms, read when first needed
    for notification in notifications:
        if not isinstance(notification, dict) or not isinstance(notification.get("resource"), str):
            raise _invalid(delivery, "a notification without a resource")
        if notification.get("changeType") not in ("created", "updated"):
            continue
        match = _RESOURCE.search(notification["resource"])
        if match is None or match.group(2) != "customers":
            continue
        if match.group(1).lower() != connector.options.company_id.lower():
            continue  # another company's books: not this connection's
        try:
            record = connector.client.get("customers", match.group(3))
        except BusinessRuleError as exc:
            if exc.code == "business_central.BadRequest_NotFound":
                continue  # deleted since the notification
            raise
        linked = connector.services.xref.global_id_for("account", connector.name, record["id"])
        account = account_from_customer(record, connector)
        when = _time(notification.get("lastModifiedDateTime"), delivery.received_at)
        events.append(
            make_event(
                "syncwright.account.upserted.v1",
                AccountUpsertedV1(account=account),
                source=f"syncwright/{delivery.connection}",
                correlation_id=delivery.correlation_id,
                entity_key=f"account:{account.global_id}",
                subject=account.global_id,
                event_id=f"{delivery.connection}:{delivery.vendor_event_id}:{len(events)}",
                time=when,
            )
        )
        if linked is not None:  # a customer syncwright knows: the facts the ERP owns
            if terms is None:
                terms = payment_term_names(connector.client)
            events += erp_changed(
                connector.services,
                delivery,
                linked,
                erp_facts(record, terms),
                when=when,
                event_id=f"{delivery.connection}:{delivery.vendor_event_id}:{len(events)}",
            )
    return events


def account_from_customer(
    record: Mapping[str, Any], connector: BusinessCentralConnector
) -> Account:
    values = connector.mapping("inbound").apply(
        "account", record, resolver=XrefResolver(connector.services.xref, connector.name)
    )
    try:
        return Account.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise BusinessRuleError(
            f"Business Central customer {record.get('number')} does not fit the canonical "
            f"Account ({problems})",
            code="business_central.mapping_invalid",
            remediation=(
                "Correct the customer in Business Central so that it can be mapped (the message "
                "names the field), then retry this exception."
            ),
        ) from exc


def _time(value: Any, fallback: datetime) -> datetime:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return fallback

"""Example shop webhooks -> canonical change events (message translator)."""

from __future__ import annotations

from typing import Any

from syncwright.connectors import Delivery
from syncwright.errors import BusinessRuleError
from syncwright.model.events import make_event
from syncwright.xref import CrossReference

MAPPING_VERSION = "example-shop/1"


def normalize(delivery: Delivery, xref: CrossReference) -> list[Any]:
    payload = delivery.json()
    event_type = payload.get("type")
    if event_type != "customer.updated":
        return []  # the shop sends more than we sync; other types are acknowledged and ignored
    customer = (payload.get("data") or {}).get("customer")
    if not isinstance(customer, dict) or not customer.get("id") or not customer.get("name"):
        raise BusinessRuleError(
            f"customer.updated {delivery.vendor_event_id} lacks data.customer.id or .name",
            code="example.payload_invalid",
            remediation="The shop sent a customer without an id or a name; fill them in at the "
            "shop and resend the event, or resolve this exception to discard it.",
        )
    global_id = xref.resolve("account", delivery.connection, str(customer["id"]))
    account = {
        "global_id": global_id,
        "name": customer["name"],
        "billing_email": customer.get("email"),
        "currency": customer.get("currency"),
        "subsidiary": customer.get("subsidiary"),
    }
    return [
        make_event(
            "syncwright.account.upserted.v1",
            {"account": account},
            # Deterministic: normalizing the same delivery again yields the same event.
            event_id=f"{delivery.connection}:{delivery.vendor_event_id}",
            source=f"syncwright/{delivery.connection}",
            subject=global_id,
            correlation_id=delivery.correlation_id,
            entity_key=f"account:{global_id}",
        )
    ]

"""Zendesk ticket events -> canonical support cases (message translator).

The connection's inbound mapping (shipped: ``mappings/inbound.yaml``, ``zendesk_inbound``)
chooses which deliveries it maps and how; every other event type is acknowledged and kept in
the inbox without a canonical event. A case is keyed by its account (``account:<id>``), so it
is handled in order with the account's billing events; a ticket without an organization by
itself (``case:<id>``).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from syncwright.connectors import Delivery
from syncwright.errors import BusinessRuleError
from syncwright.mapping import CompiledMapping, XrefResolver
from syncwright.model import SupportCase
from syncwright.model.event_data import CaseUpsertedV1
from syncwright.model.events import ChangeEvent, make_event
from syncwright.xref import CrossReference

__all__ = ["normalize"]


def _invalid(delivery: Delivery, mapping: CompiledMapping, problem: str) -> BusinessRuleError:
    return BusinessRuleError(
        f"Zendesk event {delivery.vendor_event_id}: {problem}",
        code=mapping.on_error.code,
        remediation=mapping.on_error.remediation,
    )


def normalize(
    delivery: Delivery, xref: CrossReference, mapping: CompiledMapping
) -> list[ChangeEvent[Any]]:
    """The canonical change events of one Zendesk webhook delivery (``[]`` for types the
    mapping does not select)."""
    try:
        payload = delivery.json()
    except ValueError as exc:
        raise _invalid(delivery, mapping, "the body is not JSON") from exc
    if not isinstance(payload, dict):
        raise _invalid(delivery, mapping, "the body is not a JSON object")
    selected = mapping.select(payload)
    if selected is None:
        return []
    entity, record = selected
    values = mapping.apply(entity, record, resolver=XrefResolver(xref, delivery.connection))
    try:
        case = SupportCase.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise _invalid(delivery, mapping, problems) from exc
    key = f"account:{case.account_id}" if case.account_id else f"case:{case.global_id}"
    return [
        make_event(
            "syncwright.case.upserted.v1",
            CaseUpsertedV1(support_case=case),
            # Deterministic: normalizing the same delivery again yields the same event.
            event_id=f"{delivery.connection}:{delivery.vendor_event_id}",
            source=f"syncwright/{delivery.connection}",
            subject=case.global_id,
            correlation_id=delivery.correlation_id,
            entity_key=key,
        )
    ]

"""Freshdesk tickets -> ``syncwright.case.upserted.v1`` (a message translator).

Two kinds of delivery reach :func:`normalize`:

- a **webhook** from an automation rule, whose body the rule author writes; the recommended
  rule sends ``{"freshdesk_webhook": {"ticket_id": {{ticket.id}}}}`` (this folder's README).
  Placeholders render names, not the API's numbers, so the ticket is read fresh through the API
  (a *content enricher*): the webhook says *that* a ticket changed, the read says what it is;
- a **polled ticket** from the ``tickets`` stream (``GET /tickets?updated_since=``), already
  in the API's shape, mapped as it is.

The field mapping is declarative (``mappings/inbound.yaml``, ``freshdesk_inbound@1``). Event
ids are deterministic (``<connection>:ticket:<id>:<updated_at>``), so a webhook and a poll of
the same ticket version yield the same event, and every event of a ticket with a company
carries ``entitykey = "account:<global id>"`` (one customer's events apply in order).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from syncwright.connectors import Delivery
from syncwright.errors import BusinessRuleError
from syncwright.mapping import CompiledMapping, XrefResolver, or_shipped
from syncwright.model import SupportCase
from syncwright.model.event_data import CaseUpsertedV1
from syncwright.model.events import ChangeEvent, make_event
from syncwright.xref import CrossReference

__all__ = ["WEBHOOK_KEY", "case_from_ticket", "normalize", "ticket_event_id"]

WEBHOOK_KEY = "freshdesk_webhook"
TicketReader = Callable[[int], Mapping[str, Any] | None]


def ticket_event_id(ticket: Mapping[str, Any]) -> str:
    return f"ticket:{ticket.get('id')}:{ticket.get('updated_at')}"


def _invalid(delivery: Delivery, problem: str) -> BusinessRuleError:
    return BusinessRuleError(
        f"Freshdesk delivery {delivery.vendor_event_id} on {delivery.connection}: {problem}",
        code="freshdesk.payload_invalid",
        remediation=(
            "The delivery is neither a ticket nor a webhook of the recommended automation rule "
            '(body {"freshdesk_webhook": {"ticket_id": {{ticket.id}}}}); fix the rule in '
            "Freshdesk (Admin > Automations), then resolve this exception."
        ),
    )


def case_from_ticket(
    ticket: Mapping[str, Any],
    xref: CrossReference,
    *,
    connection: str,
    mapping: CompiledMapping | None = None,
) -> SupportCase:
    """The canonical case of a Freshdesk ticket (API shape), by the ``case`` entity."""
    values = or_shipped(mapping, "freshdesk", "inbound").apply(
        "case", ticket, resolver=XrefResolver(xref, connection)
    )
    try:
        return SupportCase.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False)
        )
        raise BusinessRuleError(
            f"Freshdesk ticket {ticket.get('id')}: does not fit the canonical case ({problems})",
            code="freshdesk.mapping_invalid",
            remediation="Correct the ticket in Freshdesk so that it can be mapped (the message "
            "names the field), then retry this exception.",
        ) from exc


def _ticket_of(delivery: Delivery, read: TicketReader) -> Mapping[str, Any] | None:
    try:
        body = delivery.json()
    except ValueError as exc:
        raise _invalid(delivery, "the body is not JSON") from exc
    if not isinstance(body, dict):
        raise _invalid(delivery, "the body is not a JSON object")
    hook = body.get(WEBHOOK_KEY)
    if hook is not None:
        ticket_id = hook.get("ticket_id") if isinstance(hook, dict) else None
        if isinstance(ticket_id, bool) or not str(ticket_id or "").strip().isdigit():
            raise _invalid(delivery, f"{WEBHOOK_KEY}.ticket_id is not a ticket number")
        return read(int(str(ticket_id).strip()))  # None: deleted since
    if "subject" in body and "status" in body and "id" in body:
        return body
    return None  # another object (a company, a contact): acknowledged, not mapped


def normalize(
    delivery: Delivery,
    xref: CrossReference,
    read: TicketReader,
    *,
    mapping: CompiledMapping | None = None,
) -> list[ChangeEvent[CaseUpsertedV1]]:
    """The canonical events of one delivery: one ``case.upserted`` per ticket, none for what
    is not a ticket. Raises :class:`BusinessRuleError` (parked) on a malformed delivery."""
    ticket = _ticket_of(delivery, read)
    if ticket is None:
        return []
    case = case_from_ticket(ticket, xref, connection=delivery.connection, mapping=mapping)
    updated = ticket.get("updated_at")
    when = datetime.fromisoformat(str(updated)) if updated else None
    key = f"account:{case.account_id}" if case.account_id else f"case:{case.global_id}"
    return [
        make_event(
            "syncwright.case.upserted.v1",
            CaseUpsertedV1(support_case=case),
            event_id=f"{delivery.connection}:{ticket_event_id(ticket)}",
            source=f"syncwright/{delivery.connection}",
            subject=case.global_id,
            correlation_id=delivery.correlation_id,
            entity_key=key,
            time=when,
        )
    ]

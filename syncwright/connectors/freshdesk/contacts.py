"""``upsert_contact``: a CRM contact as a Freshdesk contact of its account's company.

The contact is addressed by ``unique_external_id`` = the contact's global id (found with the
contacts list filter, created when absent, updated when it differs: a repeated sync sends
nothing). Its ``company_id`` is the company ``upsert_entitlement`` made for the contact's
account (cross-reference, else the search by ``options.external_id_field``); a contact whose
account has no company in Freshdesk yet is written without one (``organization`` null in the
result) and joins it on its next change.
https://developers.freshdesk.com/api/#contacts
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from syncwright.connectors import call_timeout, connector_for, differing
from syncwright.connectors._base.people import display_name, linked_contact_result, parse_contact
from syncwright.connectors.freshdesk.outbound import find_company
from syncwright.engine import StepContext
from syncwright.model import Contact

if TYPE_CHECKING:
    from syncwright.connectors.freshdesk.connector import FreshdeskConnector

__all__ = ["probe_contact", "upsert_contact"]

JSON = dict[str, Any]


def _connector(ctx: StepContext, connection: str) -> FreshdeskConnector:
    from syncwright.connectors.freshdesk.connector import FreshdeskConnector  # imports us

    return connector_for(ctx, connection, FreshdeskConnector, label="Freshdesk")


def _body(contact: Contact, company: str | None) -> JSON:
    return {
        "unique_external_id": contact.global_id,
        "name": display_name(contact),
        "email": str(contact.email) if contact.email else None,
        "phone": contact.phone,
        "job_title": contact.title,
        "company_id": int(company) if company else None,
    }


def _plan(ctx: StepContext, connection: str, raw: Any) -> tuple[Any, ...]:
    connector = _connector(ctx, connection)
    contact = parse_contact(raw, vendor="freshdesk", label="Freshdesk")
    timeout = call_timeout(ctx, connector)
    company = None
    if contact.account_id is not None:
        found = find_company(ctx, connector, contact.account_id, timeout)
        company = str(found["id"]) if found else None
    body = _body(contact, company)
    held = connector.client.find_contact(contact.global_id, timeout=timeout)
    changes = body if held is None else differing(body, held, lambda a, b: a == b)
    return connector, contact, company, body, held, changes


def upsert_contact(ctx: StepContext, connection: str, contact: JSON) -> JSON:
    """Create or update the Freshdesk contact of ``contact`` (a canonical Contact)."""
    connector, parsed, company, body, held, changes = _plan(ctx, connection, contact)
    timeout = call_timeout(ctx, connector)
    if held is None:
        held = connector.client.create_contact(body, timeout=timeout)
    elif changes:
        held = connector.client.update_contact(held["id"], changes, timeout=timeout)
    return linked_contact_result(ctx, connector, parsed, held, body, changes, company)


def probe_contact(ctx: StepContext, connection: str, contact: JSON) -> JSON | None:
    """After an uncertain write: the result if Freshdesk holds the contact as written."""
    connector, parsed, company, body, held, changes = _plan(ctx, connection, contact)
    if held is None or changes:
        return None
    return linked_contact_result(ctx, connector, parsed, held, body, {}, company)

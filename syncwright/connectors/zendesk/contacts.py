"""``upsert_contact``: a CRM contact as a Zendesk end user of its account's organization.

The user is addressed by ``external_id`` = the contact's global id and written with
``create_or_update`` (matched on external id, then email: never a second user). Read first:
only a user that differs is written, so a repeated sync sends nothing. The organization is the
one ``upsert_entitlement`` made for the contact's account (cross-reference, else the search by
external id); a contact whose account has no organization in Zendesk yet is written without
one (``organization`` null in the result) and joins it on its next change.
https://developer.zendesk.com/api-reference/ticketing/users/users/#create-or-update-user
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from syncwright.connectors import call_timeout, connector_for, differing
from syncwright.connectors._base.people import display_name, linked_contact_result, parse_contact
from syncwright.engine import StepContext
from syncwright.model import Contact

if TYPE_CHECKING:
    from syncwright.connectors.zendesk.connector import ZendeskConnector

__all__ = ["probe_contact", "upsert_contact"]

JSON = dict[str, Any]


def _connector(ctx: StepContext, connection: str) -> ZendeskConnector:
    from syncwright.connectors.zendesk.connector import ZendeskConnector  # imports us

    return connector_for(ctx, connection, ZendeskConnector, label="Zendesk")


def _organization(ctx: StepContext, connector: ZendeskConnector, contact: Contact) -> str | None:
    if contact.account_id is None:
        return None
    native = ctx.services.xref.native_id_for("account", contact.account_id, connector.name)
    if native is not None:
        return str(native)
    found = connector.client.find_organization_by_external_id(
        contact.account_id, timeout=call_timeout(ctx, connector)
    )
    return str(found["id"]) if found else None


def _body(contact: Contact, organization: str | None) -> JSON:
    return {
        "external_id": contact.global_id,
        "name": display_name(contact),
        "email": str(contact.email) if contact.email else None,
        "phone": contact.phone,
        "role": "end-user",
        "organization_id": int(organization) if organization else None,
    }


def _plan(ctx: StepContext, connection: str, raw: Any) -> tuple[Any, ...]:
    connector = _connector(ctx, connection)
    contact = parse_contact(raw, vendor="zendesk", label="Zendesk")
    organization = _organization(ctx, connector, contact)
    body = _body(contact, organization)
    user = connector.client.find_user_by_external_id(
        contact.global_id, timeout=call_timeout(ctx, connector)
    )
    changes = body if user is None else differing(body, user, lambda a, b: a == b)
    return connector, contact, organization, body, user, changes


def upsert_contact(ctx: StepContext, connection: str, contact: JSON) -> JSON:
    """Create or update the Zendesk user of ``contact`` (a canonical Contact)."""
    connector, parsed, organization, body, user, changes = _plan(ctx, connection, contact)
    if changes:
        user = connector.client.create_or_update_user(body, timeout=call_timeout(ctx, connector))
    return linked_contact_result(ctx, connector, parsed, user, body, changes, organization)


def probe_contact(ctx: StepContext, connection: str, contact: JSON) -> JSON | None:
    """After an uncertain write: the result if Zendesk holds the user as it would be written."""
    connector, parsed, organization, body, user, changes = _plan(ctx, connection, contact)
    if user is None or changes:
        return None
    return linked_contact_result(ctx, connector, parsed, user, body, {}, organization)

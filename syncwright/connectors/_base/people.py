"""What the support desks' ``upsert_contact`` steps share: the canonical contact handed to the
step, the person's display name, and the result (with the ``ledger`` block whose ``fields``
make the same values coming back recognised as our echo)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from syncwright.connectors._base.connector import Connector
from syncwright.connectors._base.steps import ledger_block, parse_canonical
from syncwright.model import Contact

if TYPE_CHECKING:
    from syncwright.engine import StepContext

__all__ = ["contact_result", "display_name", "linked_contact_result", "parse_contact"]


def parse_contact(contact: Any, *, vendor: str, label: str) -> Contact:
    return parse_canonical(Contact, contact, "contact", vendor=vendor, label=label)


def display_name(contact: Contact) -> str:
    """First and last name, else the email, else the global id (desks require a name)."""
    name = " ".join(p for p in (contact.first_name, contact.last_name) if p)
    return name or (str(contact.email) if contact.email else contact.global_id)


def contact_result(
    connection: str,
    contact: Contact,
    native_id: str,
    body: Mapping[str, Any],
    written: Mapping[str, Any],
    *,
    organization: str | None,
    mapping_version: str,
) -> dict[str, Any]:
    """``written``: the part of ``body`` sent (empty when the desk already held it all)."""
    return {
        "native_id": native_id,
        "organization": organization,
        "written": dict(written),
        "ledger": ledger_block(
            connection,
            "contact",
            contact.global_id,
            native_id,
            dict(body),
            mapping_version=mapping_version,
            fields=contact.model_dump(mode="json", include={"email", "first_name", "last_name"}),
        ),
    }


def linked_contact_result(
    ctx: StepContext,
    connector: Connector,
    contact: Contact,
    record: Mapping[str, Any],
    body: Mapping[str, Any],
    written: Mapping[str, Any],
    organization: str | None,
) -> dict[str, Any]:
    """The result for the desk's ``record`` of ``contact``, linked in the cross-reference."""
    native = str(record["id"])
    ctx.services.xref.link("contact", contact.global_id, connector.name, native)
    return contact_result(
        connector.name,
        contact,
        native,
        body,
        written,
        organization=organization,
        mapping_version=connector.mapping("outbound").ref,
    )

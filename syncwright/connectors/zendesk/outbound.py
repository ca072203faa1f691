"""Actions on Zendesk Support, as engine steps: ``(StepContext, connection, *args) -> JSON``.

An entitlement lands on the customer's Zendesk *organization*, addressed by ``external_id`` =
the account's global id, as two custom organization fields (the tier and the SLA policy name),
so triggers, SLA policies and views in Zendesk can key on them. The write is
``create_or_update`` by external id: repeating it never makes a second organization.

The fields come from the connection's outbound mapping (shipped:
``mappings/outbound.yaml``, ``zendesk_outbound@1``; ``mappings:`` in the config may replace it):

| canonical | Zendesk organization |
|---|---|
| Account.global_id | ``external_id`` |
| Account.name | ``name`` |
| Entitlement.tier (status ``active``) | ``organization_fields[<options.tier_field>]`` |
| Entitlement.sla_policy.name | ``organization_fields[<options.sla_field>]`` |
| Entitlement status ``suspended`` / ``expired`` | tier ``options.revoked_tier``, SLA cleared |

Zendesk: create_or_update organization
https://developer.zendesk.com/api-reference/ticketing/organizations/organizations/#create-or-update-organization,
search by external id
https://developer.zendesk.com/api-reference/ticketing/organizations/organizations/#search-organizations,
organization fields
https://developer.zendesk.com/api-reference/ticketing/organizations/organization_fields/.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from syncwright.connectors import (
    audit_write,
    call_timeout,
    connector_for,
    ledger_block,
    parse_entitlement,
)
from syncwright.engine import StepContext
from syncwright.errors import BusinessRuleError, ConfigError
from syncwright.mapping import CompiledMapping, or_shipped
from syncwright.model import Account, Entitlement

if TYPE_CHECKING:  # the connector imports this module to declare its actions
    from syncwright.connectors.zendesk.connector import ZendeskConnector
    from syncwright.connectors.zendesk.options import ZendeskOptionsModel

__all__ = [
    "ZendeskOptions",
    "organization_body",
    "probe_entitlement",
    "remove_entitlement",
    "upsert_entitlement",
]

JSON = dict[str, Any]

ACCOUNT = "account"
ENTITLEMENT = "entitlement"
_RETRY = "then retry the exception"
# Zendesk's rule for custom field keys.
_FIELD_KEY = re.compile(r"^[A-Za-z0-9_]+$")


@dataclass(frozen=True)
class ZendeskOptions:
    """``connections.<name>.options`` of a Zendesk connection."""

    tier_field: str = "entitlement_tier"
    sla_field: str = "sla_policy"
    revoked_tier: str = "none"

    @classmethod
    def parse(cls, connection: str, options: ZendeskOptionsModel) -> ZendeskOptions:
        """The typed options (types checked by the model, as ``config validate`` does) checked
        against Zendesk's rules; every problem at once, as a ``ConfigError``."""
        problems: list[str] = []
        values: dict[str, str] = {}
        for key, given in (
            ("tier_field", options.tier_field),
            ("sla_field", options.sla_field),
            ("revoked_tier", options.revoked_tier),
        ):
            where = f"connections.{connection}.options.{key}"
            value = given.strip()
            if not value:
                problems.append(f"{where}: must be a non-empty string, got {given!r}")
                continue
            if key.endswith("_field") and (not _FIELD_KEY.match(value) or value.isdigit()):
                problems.append(
                    f"{where}: {value!r} is not a Zendesk field key (letters, digits and '_')"
                )
            values[key] = value
        if not problems and values["tier_field"] == values["sla_field"]:
            problems.append(
                f"connections.{connection}.options: tier_field and sla_field must differ"
            )
        if problems:
            raise ConfigError(
                f"connection {connection!r} (zendesk) has invalid options",
                code="zendesk.bad_option",
                problems=problems,
            )
        return cls(**values)


# -- plumbing --------------------------------------------------------------------------------


def _connector(ctx: StepContext, connection: str) -> ZendeskConnector:
    from syncwright.connectors.zendesk.connector import ZendeskConnector  # it imports this module

    return connector_for(ctx, connection, ZendeskConnector, label="Zendesk")


def _entities(entitlement: JSON, account: JSON) -> tuple[Entitlement, Account]:
    return parse_entitlement(
        entitlement, account, vendor="zendesk", label="Zendesk", retry_hint=_RETRY
    )


def organization_body(
    entitlement: Entitlement,
    account: Account,
    options: ZendeskOptions,
    mapping: CompiledMapping | None = None,
) -> dict[str, Any]:
    """The ``organization`` object sent to ``create_or_update``, by ``mapping``'s
    ``organization`` entity (default: the shipped ``zendesk_outbound``)."""
    mapping = or_shipped(mapping, "zendesk", "outbound")
    record = {
        "entitlement": entitlement.model_dump(mode="json"),
        "account": account.model_dump(mode="json"),
    }
    body = mapping.apply("organization", record, options=dataclasses.asdict(options))
    fields = body.get("organization_fields")
    if not isinstance(fields, dict) or not {options.tier_field, options.sla_field} <= set(fields):
        # The result and the compensation read these two keys; a mapping must write both.
        raise ConfigError(
            f"mapping {mapping.ref} does not write organization_fields.<tier_field> and "
            "organization_fields.<sla_field>",
            code="config.invalid_mapping",
            problems=[f"{mapping.source}: entities.organization.fields: map both"],
        )
    return body


def _require_fields(ctx: StepContext, connector: ZendeskConnector, keys: list[str]) -> None:
    """Zendesk silently drops values of organization fields that do not exist; refuse to write
    rather than report a tier that never landed."""
    missing = connector.missing_organization_fields(keys, timeout=call_timeout(ctx, connector))
    if not missing:
        return
    names = ", ".join(repr(k) for k in missing)
    raise BusinessRuleError(
        f"Zendesk ({connector.name}) has no organization field {names}",
        code="zendesk.unknown_org_field",
        remediation=(
            f"Create the organization field(s) {names} in Zendesk (Admin Center > People > "
            "Configuration > Organization fields; type text, or drop-down with every tier as an "
            f"option), or point connections.{connector.name}.options.tier_field / sla_field at "
            f"the keys of existing fields, {_RETRY}."
        ),
    )


def _same_fields(org: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    have = org.get("organization_fields")
    if not isinstance(have, Mapping):
        return False
    return all(have.get(key) == value for key, value in wanted.items())


def _result(
    ctx: StepContext,
    connector: ZendeskConnector,
    entitlement: Entitlement,
    account: Account,
    body: Mapping[str, Any],
    org: Mapping[str, Any],
    *,
    created: bool | None,
) -> JSON:
    native_id = str(org["id"])
    ctx.services.xref.link(ACCOUNT, account.global_id, connector.name, native_id)
    fields = body["organization_fields"]
    options = connector.options
    mapping_ref = connector.mapping("outbound").ref
    return {
        "native_id": native_id,
        "external_id": account.global_id,
        "created": created,
        "tier": fields[options.tier_field],
        "sla_policy": fields[options.sla_field],
        "ledger": ledger_block(
            connector.name,
            ENTITLEMENT,
            entitlement.global_id,
            native_id,
            body,
            mapping_version=mapping_ref,
        ),
    }


# -- entitlement -----------------------------------------------------------------------------


def upsert_entitlement(ctx: StepContext, connection: str, entitlement: JSON, account: JSON) -> JSON:
    """Entitlement -> the account's Zendesk organization (external id = account global id):
    name, tier and SLA policy fields; created when missing, otherwise updated with only the
    values that differ (nothing is sent when none do)."""
    connector = _connector(ctx, connection)
    parsed, owner = _entities(entitlement, account)
    body = organization_body(parsed, owner, connector.options, connector.mapping("outbound"))
    _require_fields(ctx, connector, list(body["organization_fields"]))
    timeout = call_timeout(ctx, connector)
    client = connector.client
    found = client.find_organization_by_external_id(owner.global_id, timeout=timeout)
    if found is None:
        org, created = client.create_or_update_organization(body, timeout=timeout)
        audit_write(ctx, connection, "zendesk.entitlement.set", org.get("id"), body)
        return _result(ctx, connector, parsed, owner, body, org, created=created)
    changes = organization_changes(found, body)
    # https://developer.zendesk.com/api-reference/ticketing/organizations/organizations/#update-organization
    org = client.update_organization(found["id"], changes, timeout=timeout) if changes else found
    if changes:
        audit_write(ctx, connection, "zendesk.entitlement.set", org.get("id"), changes)
    return _result(ctx, connector, parsed, owner, body, org, created=False)


def organization_changes(org: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    """The part of ``body`` the organization does not hold yet: a partial update (Zendesk
    keeps organization fields that are not sent)."""
    changes: dict[str, Any] = {}
    if org.get("name") != body["name"]:
        changes["name"] = body["name"]
    have = org.get("organization_fields")
    have = have if isinstance(have, Mapping) else {}
    fields = {
        key: value
        for key, value in body["organization_fields"].items()
        if key not in have or have[key] != value
    }
    if fields:
        changes["organization_fields"] = fields
    return changes


def probe_entitlement(
    ctx: StepContext, connection: str, entitlement: JSON, account: JSON
) -> JSON | None:
    """After an uncertain write: does the organization with our external id carry *this*
    name, tier and SLA policy?"""
    connector = _connector(ctx, connection)
    parsed, owner = _entities(entitlement, account)
    body = organization_body(parsed, owner, connector.options, connector.mapping("outbound"))
    org = connector.client.find_organization_by_external_id(
        owner.global_id, timeout=call_timeout(ctx, connector)
    )
    if org is None or org.get("name") != body["name"]:
        return None
    if not _same_fields(org, body["organization_fields"]):
        return None
    audit_write(ctx, connection, "zendesk.entitlement.set", org.get("id"), body)
    return _result(ctx, connector, parsed, owner, body, org, created=None)


def remove_entitlement(
    ctx: StepContext, result: JSON, connection: str, entitlement: JSON, account: JSON
) -> None:
    """Compensation for :func:`upsert_entitlement`: downgrade the organization to
    ``options.revoked_tier`` and clear its SLA policy. The organization itself stays (it holds
    the customer's tickets and users); nothing is done when it is gone, or when its tier is no
    longer the one this step wrote (a later change owns it now)."""
    connector = _connector(ctx, connection)
    options = connector.options
    client = connector.client
    timeout = call_timeout(ctx, connector)
    native_id = result.get("native_id")
    if native_id is not None:
        org = client.get_organization(str(native_id), timeout=timeout)
    else:
        external_id = str((account or {}).get("global_id") or result.get("external_id") or "")
        org = client.find_organization_by_external_id(external_id, timeout=timeout)
    if org is None:
        return
    fields = org.get("organization_fields")
    current = fields.get(options.tier_field) if isinstance(fields, Mapping) else None
    if current != result.get("tier"):
        return
    revoked = {options.tier_field: options.revoked_tier, options.sla_field: None}
    client.update_organization(org["id"], {"organization_fields": revoked}, timeout=timeout)
    audit_write(ctx, connection, "zendesk.entitlement.revoke", org["id"], revoked)

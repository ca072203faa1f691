"""Actions on Freshdesk, as engine steps: ``(StepContext, connection, *args) -> JSON``.

An entitlement lands on the customer's Freshdesk *company*: its tier in a company custom field
(``options.tier_field``), and its SLA policy applied to the company (the company id in the
policy's ``applicable_to.company_ids``), as the Zendesk connector does it with organization
fields. The company is found again by another custom field, ``options.external_id_field`` =
the account's global id (Freshdesk companies have no external id of their own).

The values come from the connection's outbound mapping (shipped: ``mappings/outbound.yaml``,
``freshdesk_outbound@1``; ``mappings:`` in the config may replace it).

Freshdesk: companies https://developers.freshdesk.com/api/#companies, company search
https://developers.freshdesk.com/api/#filter_companies, SLA policies
https://developers.freshdesk.com/api/#sla-policies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from syncwright.connectors import (
    audit_write,
    call_timeout,
    connector_for,
    ledger_block,
    parse_entitlement,
)
from syncwright.connectors.freshdesk.options import FreshdeskOptions
from syncwright.engine import StepContext
from syncwright.errors import BusinessRuleError, ConfigError
from syncwright.mapping import CompiledMapping, or_shipped
from syncwright.model import Account, Entitlement

if TYPE_CHECKING:  # the connector imports this module to declare its actions
    from syncwright.connectors.freshdesk.connector import FreshdeskConnector

__all__ = [
    "company_body",
    "company_changes",
    "probe_entitlement",
    "remove_entitlement",
    "upsert_entitlement",
]

JSON = dict[str, Any]

ACCOUNT = "account"
ENTITLEMENT = "entitlement"
_RETRY = "then retry the exception"
_OPTION_KEYS = ("external_id_field", "tier_field", "revoked_tier")


def _connector(ctx: StepContext, connection: str) -> FreshdeskConnector:
    from syncwright.connectors.freshdesk.connector import FreshdeskConnector  # it imports us

    return connector_for(ctx, connection, FreshdeskConnector, label="Freshdesk")


def _entities(entitlement: JSON, account: JSON) -> tuple[Entitlement, Account]:
    return parse_entitlement(
        entitlement, account, vendor="freshdesk", label="Freshdesk", retry_hint=_RETRY
    )


def company_body(
    entitlement: Entitlement,
    account: Account,
    options: FreshdeskOptions,
    mapping: CompiledMapping | None = None,
) -> tuple[JSON, str | None]:
    """The company body sent to Freshdesk and the name of the SLA policy it belongs in (None:
    none), by ``mapping``'s ``company`` and ``sla`` entities."""
    mapping = or_shipped(mapping, "freshdesk", "outbound")
    record = {
        "entitlement": entitlement.model_dump(mode="json"),
        "account": account.model_dump(mode="json"),
    }
    values = {key: getattr(options, key) for key in _OPTION_KEYS}
    body = mapping.apply("company", record, options=values)
    fields = body.get("custom_fields")
    if not isinstance(fields, dict) or not {options.external_id_field, options.tier_field} <= set(
        fields
    ):
        # Finding the company again and the compensation read these two fields.
        raise ConfigError(
            f"mapping {mapping.ref} does not write custom_fields.<external_id_field> and "
            "custom_fields.<tier_field>",
            code="config.invalid_mapping",
            problems=[f"{mapping.source}: entities.company.fields: map both"],
        )
    policy = mapping.apply("sla", record, options=values).get("policy")
    return body, (str(policy) if policy else None)


def company_changes(company: Mapping[str, Any], body: Mapping[str, Any]) -> JSON:
    """The part of ``body`` the company does not hold yet (Freshdesk keeps custom fields that
    are not sent)."""
    changes: JSON = {}
    if company.get("name") != body["name"]:
        changes["name"] = body["name"]
    have = company.get("custom_fields")
    have = have if isinstance(have, Mapping) else {}
    fields = {k: v for k, v in body["custom_fields"].items() if k not in have or have[k] != v}
    if fields:
        changes["custom_fields"] = fields
    return changes


def find_company(
    ctx: StepContext, connector: FreshdeskConnector, global_id: str, timeout: float
) -> JSON | None:
    """The company of ``global_id``: through the cross-reference first (Freshdesk's search
    index may lag a fresh write), else by searching the external id field."""
    field = connector.options.external_id_field
    native = ctx.services.xref.native_id_for(ACCOUNT, global_id, connector.name)
    if native is not None and str(native).isdigit():
        company = connector.client.get_company(native, timeout=timeout)
        if company is not None and (company.get("custom_fields") or {}).get(field) == global_id:
            return dict(company)
    found = connector.client.find_company(field, global_id, timeout=timeout)
    return dict(found) if found is not None else None


def _policy_named(policies: list[JSON], name: str | None, connector: FreshdeskConnector) -> Any:
    """The policy called ``name`` (None: no policy wanted); parks when Freshdesk has none."""
    if name is None:
        return None
    for policy in policies:
        if policy.get("name") == name:
            return policy
    known = ", ".join(repr(p.get("name")) for p in policies) or "none"
    raise BusinessRuleError(
        f"Freshdesk ({connector.name}) has no SLA policy named {name!r} (it has {known})",
        code="freshdesk.unknown_sla_policy",
        remediation=(
            f"Create the SLA policy {name!r} in Freshdesk (Admin > Workflows > SLA Policies), or "
            f"map the tier to an existing policy in connections.{connector.name}.options."
            f"sla_policies, {_RETRY}."
        ),
    )


def _members(policy: Mapping[str, Any]) -> list[int]:
    applicable = policy.get("applicable_to")
    ids = applicable.get("company_ids") if isinstance(applicable, Mapping) else None
    return [int(i) for i in ids or []]


def _place(
    connector: FreshdeskConnector, company_id: int, policy_name: str | None, timeout: float
) -> JSON | None:
    """Put the company in ``policy_name``'s companies and out of every other policy's; the
    default policy takes no companies (it applies to whatever no other policy matches). Read,
    change, write: serialized per connection so two steps of this process never lose each
    other's change."""
    client = connector.client
    with connector.sla_lock:
        policies = client.list_sla_policies(timeout=timeout)
        target = _policy_named(policies, policy_name, connector)
        for policy in policies:
            if policy.get("is_default"):
                continue
            members = _members(policy)
            wanted = target is not None and policy.get("id") == target.get("id")
            if wanted and company_id not in members:
                client.set_sla_companies(policy["id"], [*members, company_id], timeout=timeout)
            elif not wanted and company_id in members:
                rest = [m for m in members if m != company_id]
                client.set_sla_companies(policy["id"], rest, timeout=timeout)
        return dict(target) if target is not None else None


def _in_place(policies: list[JSON], company_id: int, target: Mapping[str, Any] | None) -> bool:
    for policy in policies:
        if policy.get("is_default"):
            continue
        member = company_id in _members(policy)
        if member != (target is not None and policy.get("id") == target.get("id")):
            return False
    return True


def _result(
    ctx: StepContext,
    connector: FreshdeskConnector,
    entitlement: Entitlement,
    account: Account,
    body: Mapping[str, Any],
    company: Mapping[str, Any],
    policy: str | None,
    *,
    created: bool | None,
) -> JSON:
    native_id = str(company["id"])
    ctx.services.xref.link(ACCOUNT, account.global_id, connector.name, native_id)
    return {
        "native_id": native_id,
        "external_id": account.global_id,
        "created": created,
        "tier": body["custom_fields"][connector.options.tier_field],
        "sla_policy": policy,
        "ledger": ledger_block(
            connector.name,
            ENTITLEMENT,
            entitlement.global_id,
            native_id,
            {**body, "sla_policy": policy},
            mapping_version=connector.mapping("outbound").ref,
        ),
    }


# -- entitlement -----------------------------------------------------------------------------


def upsert_entitlement(ctx: StepContext, connection: str, entitlement: JSON, account: JSON) -> JSON:
    """Entitlement -> the account's Freshdesk company (found by the external id field):
    name, tier field and SLA policy; created when missing, otherwise updated with only the
    values that differ."""
    connector = _connector(ctx, connection)
    parsed, owner = _entities(entitlement, account)
    body, policy = company_body(parsed, owner, connector.options, connector.mapping("outbound"))
    timeout = call_timeout(ctx, connector)
    client = connector.client
    # An unknown policy parks before anything is written.
    _policy_named(client.list_sla_policies(timeout=timeout), policy, connector)
    found = find_company(ctx, connector, owner.global_id, timeout)
    if found is None:
        company = client.create_company(body, timeout=timeout)
        audit_write(ctx, connection, "freshdesk.entitlement.set", company.get("id"), body)
    else:
        changes = company_changes(found, body)
        company = client.update_company(found["id"], changes, timeout=timeout) if changes else found
        if changes:
            audit_write(ctx, connection, "freshdesk.entitlement.set", company.get("id"), changes)
    _place(connector, int(company["id"]), policy, timeout)
    return _result(ctx, connector, parsed, owner, body, company, policy, created=found is None)


def probe_entitlement(
    ctx: StepContext, connection: str, entitlement: JSON, account: JSON
) -> JSON | None:
    """After an uncertain write: does the company with our external id carry *this* name and
    tier, and sit in *this* SLA policy only?"""
    connector = _connector(ctx, connection)
    parsed, owner = _entities(entitlement, account)
    body, policy = company_body(parsed, owner, connector.options, connector.mapping("outbound"))
    timeout = call_timeout(ctx, connector)
    company = find_company(ctx, connector, owner.global_id, timeout)
    if company is None or company_changes(company, body):
        return None
    policies = connector.client.list_sla_policies(timeout=timeout)
    target = next((p for p in policies if p.get("name") == policy), None)
    if (policy is not None and target is None) or not _in_place(
        policies, int(company["id"]), target
    ):
        return None
    audit_write(ctx, connection, "freshdesk.entitlement.set", company.get("id"), body)
    return _result(ctx, connector, parsed, owner, body, company, policy, created=None)


def remove_entitlement(
    ctx: StepContext, result: JSON, connection: str, entitlement: JSON, account: JSON
) -> None:
    """Compensation for :func:`upsert_entitlement`: the company gets ``options.revoked_tier``
    and leaves every SLA policy. The company itself stays (it holds the customer's contacts
    and tickets); nothing is done when it is gone, or when its tier is no longer the one this
    step wrote (a later change owns it now)."""
    connector = _connector(ctx, connection)
    options = connector.options
    timeout = call_timeout(ctx, connector)
    native_id = result.get("native_id")
    if native_id is not None:
        company = connector.client.get_company(str(native_id), timeout=timeout)
    else:
        global_id = str((account or {}).get("global_id") or result.get("external_id") or "")
        company = find_company(ctx, connector, global_id, timeout)
    if company is None:
        return
    fields = company.get("custom_fields")
    if not isinstance(fields, Mapping) or fields.get(options.tier_field) != result.get("tier"):
        return
    revoked = {"custom_fields": {options.tier_field: options.revoked_tier}}
    connector.client.update_company(company["id"], revoked, timeout=timeout)
    _place(connector, int(company["id"]), None, timeout)
    audit_write(ctx, connection, "freshdesk.entitlement.revoke", company["id"], revoked)

"""Ownership: which connection is the system of record for each domain and field.

``ownership:`` in ``syncwright.yaml`` names an owning connection per domain (and per field).
A domain that is not configured falls back to :data:`DEFAULT_OWNERSHIP`, which names connection
*roles* (``options.role``): every connection with that role owns it. A domain or field whose
owner resolves to no connection at all is unowned, and any connection may change it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from syncwright.config import OwnershipRule
from syncwright.policy.entities import DOMAIN_MODELS

__all__ = ["DEFAULT_OWNERSHIP", "DefaultOwnership", "Owner", "OwnershipPolicy"]


@dataclass(frozen=True)
class DefaultOwnership:
    """The role that owns a domain, and the fields another role owns instead."""

    role: str | None
    fields: Mapping[str, str] = field(default_factory=dict)


# The defaults, by connection role (docs/policy.md shows this table):
# - the ERP owns the legal entity and the financial dimensions of an account;
# - the CRM owns pipeline and relationship data (accounts, contacts, deals);
# - billing owns subscription state and what follows from it (invoices, payments, credit
#   notes, entitlements) and the account's billing email;
# - support owns case activity.
# Catalog, contracts and orders have no default owner: configure one to enforce it.
DEFAULT_OWNERSHIP: Mapping[str, DefaultOwnership] = {
    "account": DefaultOwnership(
        "crm",
        {
            "legal_name": "erp",
            "subsidiary": "erp",
            "currency": "erp",
            "tax_ids": "erp",
            "tax_nexus": "erp",
            "credit_status": "erp",
            "payment_terms": "erp",
            "financial_dimensions": "erp",
            "billing_email": "billing",
        },
    ),
    "contact": DefaultOwnership("crm"),
    "deal": DefaultOwnership("crm"),
    "subscription": DefaultOwnership("billing"),
    "invoice": DefaultOwnership("billing"),
    "payment": DefaultOwnership("billing"),
    "credit_note": DefaultOwnership("billing"),
    "entitlement": DefaultOwnership("billing"),
    "case": DefaultOwnership("support"),
}


@dataclass(frozen=True)
class Owner:
    """Who owns one field: the owning connections (empty: unowned) and the rule that says so."""

    connections: tuple[str, ...]
    rule: str

    def allows(self, connection: str) -> bool:
        return not self.connections or connection in self.connections

    def describe(self) -> str:
        return ", ".join(self.connections) or "nobody"


class OwnershipPolicy:
    """Resolves owners from the ``ownership:`` section and the connections' roles."""

    def __init__(self, rules: Mapping[Any, OwnershipRule], roles: Mapping[str, Any]) -> None:
        # Field names were checked with the rest of the config (config/_models.py).
        self._rules: dict[str, OwnershipRule] = {str(k): v for k, v in rules.items()}
        self._roles = {name: str(role) if role else None for name, role in roles.items()}

    def _with_role(self, role: str) -> tuple[str, ...]:
        return tuple(sorted(name for name, has in self._roles.items() if has == role))

    def owner(self, domain: str, field_name: str) -> Owner:
        rule = self._rules.get(domain)
        if rule is not None:
            if field_name in rule.fields:
                return Owner((rule.fields[field_name],), f"ownership.{domain}.fields.{field_name}")
            return Owner((rule.system,), f"ownership.{domain}.system")
        default = DEFAULT_OWNERSHIP.get(domain)
        role = default.fields.get(field_name, default.role) if default else None
        if role is None:
            return Owner((), f"default: {domain} has no owner")
        return Owner(self._with_role(role), f"default: role {role}")

    def table(self) -> list[dict[str, str]]:
        """Every domain's effective owner and per-field exceptions, for the report."""
        rows: list[dict[str, str]] = []
        for domain in DOMAIN_MODELS:
            whole = self.owner(domain, "")
            rows.append(
                {"domain": domain, "field": "*", "owner": whole.describe(), "rule": whole.rule}
            )
            for name in _fields(domain):
                owner = self.owner(domain, name)
                if owner != whole:
                    rows.append(
                        {
                            "domain": domain,
                            "field": name,
                            "owner": owner.describe(),
                            "rule": owner.rule,
                        }
                    )
        return rows


def _fields(domain: str) -> list[str]:
    return [name for name in DOMAIN_MODELS[domain].model_fields if name != "global_id"]

"""An ERP as a source (docs/erp-source.md): what every ERP connector does with a customer record
it read, once it has pulled the facts the ERP owns out of it.

The facts (:class:`ErpFacts`: company name, tax registration number, credit status, payment
terms, and financial dimensions where the ERP reports them) are laid over the account's
canonical state, so fields the ERP does not report keep their value and the delta the policy
gate computes holds only what the ERP changed. One ``syncwright.account.erp_changed.v1``
carries the account and the changed fields; none is made when nothing differs. A company name
that is the account's name, its legal name, or a name syncwright itself last wrote to that
customer is not taken as a new legal name (a CRM rename whose write has not reached the ERP yet
must not come back as a legal name).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from syncwright.connectors._base.connector import Delivery
from syncwright.model import Account, make_event
from syncwright.model.event_data import AccountErpChangedV1
from syncwright.model.events import ChangeEvent
from syncwright.policy.entities import value_digest
from syncwright.policy.store import PolicyStore

__all__ = ["ERP_ACCOUNT_FIELDS", "ErpFacts", "erp_changed", "lay_over"]

#: The canonical account fields an ERP customer reports (what the ERP can own).
ERP_ACCOUNT_FIELDS = (
    "legal_name",
    "tax_ids",
    "credit_status",
    "payment_terms",
    "financial_dimensions",
)


@dataclass(frozen=True)
class ErpFacts:
    """What one ERP customer record says about the facts the ERP owns."""

    company_name: str | None
    tax_number: str | None
    credit_status: str
    payment_terms: str | None
    # Department / classification / location by name; None: this ERP does not report them
    # (the account keeps its own), {}: it reports none set.
    financial_dimensions: Mapping[str, str] | None = None


def _tax_ids(number: str | None, before: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An ERP keeps one tax registration number; it stands for the account's first one."""
    number = (number or "").strip()
    if not number:
        return before[1:]
    if before and before[0].get("value") == number:
        return before
    kind = before[0].get("kind", "vat") if before else "vat"
    return [{"kind": kind, "value": number}, *before[1:]]


def lay_over(facts: ErpFacts, base: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical account ``base`` with the ERP's ``facts`` laid over."""
    company = (facts.company_name or "").strip()
    legal_name = base.get("legal_name")
    if company and company != (legal_name or base.get("name")):
        legal_name = company  # ERP connectors write the company name from legal_name, else name
    return {
        **base,
        "legal_name": legal_name,
        "tax_ids": _tax_ids(facts.tax_number, list(base.get("tax_ids") or [])),
        "credit_status": facts.credit_status,
        "payment_terms": facts.payment_terms or None,
        "financial_dimensions": (
            base.get("financial_dimensions")
            if facts.financial_dimensions is None
            else dict(facts.financial_dimensions) or None
        ),
    }


def _our_company_name(delivery: Delivery, services: Any, global_id: str, company: Any) -> bool:
    """Whether ``company`` is the name or legal name syncwright last wrote to this customer."""
    if not company:
        return False
    with services.db.engine.connect() as conn:
        written = PolicyStore.written(conn, delivery.connection, "account", global_id)
    return value_digest(str(company)) in {written.get("name"), written.get("legal_name")}


def erp_changed(
    services: Any,
    delivery: Delivery,
    global_id: str,
    facts: ErpFacts,
    *,
    when: datetime,
    event_id: str,
) -> list[ChangeEvent[Any]]:
    """``account.erp_changed`` for the account ``global_id`` when ``facts`` differ from its
    canonical state (``[]`` when nothing does). ``services`` are the connector's."""
    stored = services.policy_store.get_state("account", global_id)
    base: dict[str, Any] = (
        dict(stored.data)
        if stored is not None
        else {"global_id": global_id, "name": facts.company_name or global_id}
    )
    before = Account.model_validate(base).model_dump(mode="json")
    if _our_company_name(delivery, services, global_id, facts.company_name):
        # A name syncwright wrote as the company name (perhaps one a newer CRM change has since
        # replaced, its write still on the way): not a legal name the ERP chose.
        facts = replace(facts, company_name=before.get("legal_name") or before["name"])
    after = Account.model_validate(lay_over(facts, before)).model_dump(mode="json")
    changed = tuple(name for name in ERP_ACCOUNT_FIELDS if after[name] != before[name])
    if not changed:
        return []
    return [
        make_event(
            "syncwright.account.erp_changed.v1",
            AccountErpChangedV1(account=Account.model_validate(after), changed_fields=changed),
            source=f"syncwright/{delivery.connection}",
            correlation_id=delivery.correlation_id,
            entity_key=f"account:{global_id}",
            subject=global_id,
            event_id=event_id,
            time=when,
        )
    ]

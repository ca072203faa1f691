"""Business Central as an ERP source: the facts a customer record holds that the ERP owns
(docs/erp-source.md), read from the v2.0 ``customer`` resource.

- legal name: ``displayName``;
- tax registration: ``taxRegistrationNumber``;
- credit status: ``hold`` when the customer is ``blocked`` (``Ship``, ``Invoice`` or ``All``:
  finance stopped deliveries, invoicing or every transaction) or its ``balanceDue`` is over a
  non-zero ``creditLimit`` (Business Central warns on new sales documents then); else ``good``;
- payment terms: the ``displayName`` of the ``paymentTerms`` record ``paymentTermsId`` names.

https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/resources/dynamics_customer,
.../resources/dynamics_paymentterm
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from syncwright.connectors._base.erp_source import ErpFacts
from syncwright.connectors.business_central.client import BusinessCentralClient

__all__ = ["BLOCKED_VALUES", "credit_status", "erp_facts", "payment_term_names"]

#: ``customer.blocked``: not blocked, and the three ways finance blocks a customer.
BLOCKED_VALUES = (" ", "Ship", "Invoice", "All")
_EMPTY_GUID = "00000000-0000-0000-0000-000000000000"


def credit_status(record: Mapping[str, Any]) -> str:
    if str(record.get("blocked") or " ").strip():
        return "hold"
    limit = Decimal(str(record.get("creditLimit") or 0))
    balance = Decimal(str(record.get("balanceDue") or 0))
    return "hold" if limit > 0 and balance > limit else "good"


def payment_term_names(client: BusinessCentralClient) -> dict[str, str]:
    """``paymentTerms`` id -> display name (the list is short; read once per delivery)."""
    return {
        str(term["id"]).lower(): str(term.get("displayName") or term.get("code"))
        for term in client.query("paymentTerms")
    }


def erp_facts(record: Mapping[str, Any], terms: Mapping[str, str]) -> ErpFacts:
    term_id = str(record.get("paymentTermsId") or _EMPTY_GUID).lower()
    return ErpFacts(
        company_name=str(record.get("displayName") or "").strip() or None,
        tax_number=str(record.get("taxRegistrationNumber") or "").strip() or None,
        credit_status=credit_status(record),
        payment_terms=terms.get(term_id) if term_id != _EMPTY_GUID else None,
    )

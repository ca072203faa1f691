"""Parties: the account (customer legal entity) and the people we talk to there."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import StringConstraints, model_validator

from syncwright.model._base import (
    CanonicalModel,
    CountryCode,
    EmailAddress,
    Entity,
    GlobalId,
    NonEmptyStr,
)
from syncwright.model.money import CurrencyCode

__all__ = [
    "Account",
    "AccountStatus",
    "Address",
    "Contact",
    "ContactRole",
    "CreditStatus",
    "FinancialDimensions",
    "TaxId",
    "TaxNexus",
]


class AccountStatus(StrEnum):
    PROSPECT = "prospect"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class CreditStatus(StrEnum):
    """The finance view of an account. ``HOLD`` is what ERPs use to block new orders."""

    GOOD = "good"
    WATCH = "watch"
    HOLD = "hold"


class Address(CanonicalModel):
    line1: NonEmptyStr
    line2: str | None = None
    city: NonEmptyStr
    # State / province / prefecture as the postal service writes it; tax engines key on
    # country + region + postal code, so all three are kept as given.
    region: str | None = None
    postal_code: str | None = None
    country: CountryCode


class TaxId(CanonicalModel):
    """A tax registration of the account, e.g. ``kind="eu_vat", value="DE123456789"``."""

    # Lower-case snake kind names (eu_vat, gb_vat, us_ein, au_abn, ...) follow the most common
    # vendor vocabulary, so mappings are mostly a copy; the model does not enumerate them
    # because tax authorities add kinds faster than we release.
    kind: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
    value: NonEmptyStr
    country: CountryCode | None = None


class TaxNexus(CanonicalModel):
    """A jurisdiction where the account's seller must collect tax for it."""

    country: CountryCode
    # ISO 3166-2 subdivision (``US-CA``), needed for US sales tax and Canadian provinces.
    region: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}-[A-Z0-9]{1,3}$")] | None = None


class FinancialDimensions(CanonicalModel):
    """Where finance books the account, by name: the ERP's classifications (NetSuite's
    department, class and location). The ERP owns them."""

    department: str | None = None
    classification: str | None = None
    location: str | None = None


class Account(Entity):
    """The customer as a legal entity: the thing that is billed, owns contracts, has credit."""

    name: NonEmptyStr
    legal_name: str | None = None
    # Hierarchy (parent company / subsidiary customer). Only the link is held; resolving the
    # tree is the cross-reference store's job, so an account can arrive before its parent.
    parent_account_id: GlobalId | None = None
    bill_to: Address | None = None
    ship_to: Address | None = None
    tax_ids: tuple[TaxId, ...] = ()
    tax_nexus: tuple[TaxNexus, ...] = ()
    # The seller's legal entity that books this customer (NetSuite / Business Central
    # "subsidiary" or "company"). Free text: it is mapped per connection.
    subsidiary: str | None = None
    # None until a first quote or subscription fixes the currency; a CRM prospect often has none.
    currency: CurrencyCode | None = None
    status: AccountStatus = AccountStatus.ACTIVE
    credit_status: CreditStatus = CreditStatus.GOOD
    website: str | None = None
    billing_email: EmailAddress | None = None
    # The ERP's payment terms as it names them ("Net 30"); the ERP owns them.
    payment_terms: str | None = None
    # The ERP's financial dimensions of the customer; the ERP owns them.
    financial_dimensions: FinancialDimensions | None = None

    @model_validator(mode="after")
    def _not_own_parent(self) -> Self:
        if self.parent_account_id is not None and self.parent_account_id == self.global_id:
            raise ValueError(f"account {self.global_id} cannot be its own parent_account_id")
        return self


class ContactRole(StrEnum):
    PRIMARY = "primary"
    BILLING = "billing"
    TECHNICAL = "technical"
    SUPPORT = "support"


class Contact(Entity):
    """A person at an account (or not yet at one: CRMs hold unattached leads)."""

    account_id: GlobalId | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: EmailAddress | None = None
    phone: str | None = None
    title: str | None = None
    roles: tuple[ContactRole, ...] = ()

    @model_validator(mode="after")
    def _identifiable(self) -> Self:
        # A contact with neither a name nor an email cannot be matched or linked across
        # systems; refusing it here beats creating an unmatchable orphan in every target.
        if not (self.email or self.first_name or self.last_name):
            raise ValueError("a contact needs an email or a name")
        return self

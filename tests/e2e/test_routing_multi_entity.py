"""Multi-entity routing and exact money across currencies, over real emulators: Stripe Billing
and two NetSuite accounts. ``routing.erp`` sends Japanese and Kuwaiti customers to the second
account (each booked by its own legal entity, in yen or dinars) and US/UK customers to the
first; a customer no rule matches, and one billed in a currency its entity does not book, park
with remediation. Every check reads the emulators' own records."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from syncwright.connectors.netsuite.client import NetSuiteClient
from syncwright.demo.billing_world import BillingWorld, start_billing_world
from syncwright.model.money import CURRENCY_EXPONENTS
from syncwright.sandbox import ServerThread
from syncwright.sandbox.netsuite import create_app as create_netsuite

APAC_ACCOUNT = "TSTDRV2"

SECOND_NETSUITE = """\
  netsuite_apac:
    vendor: netsuite
    base_url: {url}
    credentials:
      consumer_key: "file:secrets/ns_consumer_key"
      consumer_secret: "file:secrets/ns_consumer_secret"
      token_id: "file:secrets/ns_token_id"
      token_secret: "file:secrets/ns_token_secret"
    limits: {{timeout_seconds: 5, concurrency: 5}}
    options:
      role: erp
      account: {account}
      subsidiaries: {{"Syncwright KK": {kk}, "Syncwright Gulf WLL": {gulf}}}
      currencies: {{JPY: {jpy}, KWD: {kwd}}}
      default_item: 100
"""

ROUTING = """\
routing:
  erp:
    - name: japan
      when: {billing_country: [JP]}
      connection: netsuite_apac
      subsidiary: Syncwright KK
      currencies: [JPY]
    - name: kuwait
      when: {billing_country: [KW]}
      connection: netsuite_apac
      subsidiary: Syncwright Gulf WLL
      currencies: [KWD]
    - name: americas-europe
      when: {billing_country: [US, GB]}
      connection: netsuite
"""


@dataclass
class Routed:
    world: BillingWorld
    apac: ServerThread
    apac_subsidiaries: dict[str, str]
    # Stripe customer id -> (country, currency, unit amount in minor units)
    customers: dict[str, tuple[str, str, int]] = field(default_factory=dict)

    def apac_client(self) -> NetSuiteClient:
        return NetSuiteClient(self.apac.url, APAC_ACCOUNT, self.world.credentials, timeout=30)


@pytest.fixture(scope="module")
def routed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Routed]:
    world = start_billing_world(tmp_path_factory.mktemp("routing"), poll_interval=1.0)
    apac = ServerThread(create_netsuite(account=APAC_ACCOUNT, credentials=world.credentials))
    apac.start()
    try:
        with NetSuiteClient(apac.url, APAC_ACCOUNT, world.credentials, timeout=30) as setup:
            jpy = setup.create("currency", {"name": "Japanese yen", "symbol": "JPY"})
            kwd = setup.create("currency", {"name": "Kuwaiti dinar", "symbol": "KWD"})
            kk = setup.create(
                "subsidiary", {"name": "Syncwright KK", "country": "JP", "currency": {"id": jpy}}
            )
            gulf = setup.create(
                "subsidiary",
                {"name": "Syncwright Gulf WLL", "country": "KW", "currency": {"id": kwd}},
            )
        world.settings_args["extra_connections"] = SECOND_NETSUITE.format(
            url=apac.url, account=APAC_ACCOUNT, kk=kk, gulf=gulf, jpy=jpy, kwd=kwd
        )
        world.settings_args["extra_sections"] = ROUTING
        scenario = Routed(world, apac, {kk: "Syncwright KK", gulf: "Syncwright Gulf WLL"})
        _drive(scenario)
        world.start_syncwright()
        world.wait_settled(240)
        yield scenario
    finally:
        world.close()
        apac.stop()


# (country, currency, unit amount in the currency's minor units, legal entity metadata)
CUSTOMERS = [
    ("JP", "jpy", 1500, None),  # 1,500 yen: no decimals
    ("JP", "jpy", 98_765, None),
    ("KW", "kwd", 12_340, None),  # 12.340 KWD: three decimals (Stripe wants the last one 0)
    ("US", "usd", 4900, "Parent Company"),
    ("GB", "gbp", 3900, "Syncwright UK Ltd"),
    ("BR", "usd", 4900, "Parent Company"),  # no rule for Brazil: parks
    ("JP", "usd", 4900, None),  # Syncwright KK books only yen: parks, no FX
]


def _drive(scenario: Routed) -> None:
    client = scenario.world.stripe.v1
    product = client.products.create({"name": "Syncwright Cloud"})
    for n, (country, currency, unit, entity) in enumerate(CUSTOMERS):
        price = client.prices.create(
            {
                "product": product.id,
                "unit_amount": unit,
                "currency": currency,
                "recurring": {"interval": "month"},
            }
        )
        customer = client.customers.create(
            {
                "name": f"Routed {n} {country}",
                "email": f"billing{n}@routed{n}.example",
                "address": {"line1": f"{n} Main Street", "city": "Capital", "country": country},
                "payment_method": "pm_card_visa",
                "invoice_settings": {"default_payment_method": "pm_card_visa"},
                "metadata": {"subsidiary": entity} if entity else {},
            }
        )
        client.subscriptions.create(
            {"customer": customer.id, "items": [{"price": price.id, "quantity": 2}]}
        )
        scenario.customers[customer.id] = (country, currency.upper(), unit)


def _customers(client: NetSuiteClient) -> dict[str, dict[str, Any]]:
    with client:
        rows = client.suiteql("SELECT id, externalid, subsidiary, currency FROM customer")
        return {r["externalid"]: r for r in rows if r.get("externalid")}


def _invoices(client: NetSuiteClient) -> dict[str, dict[str, Any]]:
    with client:
        rows = client.suiteql(
            "SELECT id, externalid, entity, currency, foreigntotal FROM transaction "
            "WHERE type = 'CustInvc'"
        )
        return {r["externalid"]: r for r in rows}


def _global(routed: Routed, entity: str, native: str) -> str:
    assert routed.world.runtime is not None
    found = routed.world.runtime.xref.global_id_for(entity, "stripe", native)
    assert found is not None, f"{entity} {native} never reached syncwright"
    return found


def _by_country(routed: Routed, *countries: str, currency: str | None = None) -> set[str]:
    return {
        _global(routed, "account", cid)
        for cid, (country, cur, _) in routed.customers.items()
        if country in countries and (currency is None or cur == currency)
    }


def test_each_erp_receives_exactly_its_customers(routed: Routed) -> None:
    home = _customers(routed.world.netsuite_client())
    apac = _customers(routed.apac_client())
    # The JP customer billed in dollars is Japanese: never booked by the home ERP. Whether
    # Syncwright KK holds its customer record depends on which came first: its customer event
    # before the account had a currency (booked), or its dollar subscription (parks, and the
    # customer event waits behind it); its dollar documents park either way.
    dollar_japanese = _by_country(routed, "JP", currency="USD")
    assert set(apac) - dollar_japanese == _by_country(routed, "JP", "KW") - dollar_japanese
    assert set(home) == _by_country(routed, "US", "GB")
    # Each booked by the legal entity its rule names (the rule's, not the account's own).
    for cid, (country, _, _) in routed.customers.items():
        gid = _global(routed, "account", cid)
        if country in ("JP", "KW") and gid in apac:
            entity = routed.apac_subsidiaries[apac[gid]["subsidiary"]]
            assert entity == ("Syncwright KK" if country == "JP" else "Syncwright Gulf WLL")


def test_amounts_are_exact_in_yen_and_dinars(routed: Routed) -> None:
    stripe = routed.world.stripe.v1
    apac = _invoices(routed.apac_client())
    home = _invoices(routed.world.netsuite_client())
    checked = {"JPY": 0, "KWD": 0, "USD": 0, "GBP": 0}
    for cid, (country, currency, unit) in routed.customers.items():
        if country == "BR" or (country == "JP" and currency != "JPY"):
            continue
        (invoice,) = stripe.invoices.list({"customer": cid}).data
        assert invoice.total == 2 * unit  # what Stripe billed, in minor units
        gid = _global(routed, "invoice", invoice.id)
        record = (apac if country in ("JP", "KW") else home)[gid]
        exponent = CURRENCY_EXPONENTS[currency]
        assert Decimal(record["foreigntotal"]) * 10**exponent == invoice.total
        checked[currency] += 1
    assert checked == {"JPY": 2, "KWD": 1, "USD": 1, "GBP": 1}
    assert not set(apac) & set(home)  # no document reached both ERPs


def test_unrouted_and_unbooked_currency_park_with_remediation(routed: Routed) -> None:
    runtime = routed.world.runtime
    assert runtime is not None
    parked = runtime.exceptions.list(status="open")
    codes = {r.code for r in parked}
    assert codes == {"routing.no_route", "routing.currency_not_booked"}
    no_route = [r for r in parked if r.code == "routing.no_route"]
    assert all("billing_country=BR" in r.remediation for r in no_route)
    assert all("routing.erp" in r.remediation for r in no_route)
    (unbooked,) = [r for r in parked if r.code == "routing.currency_not_booked"]
    assert "never converts" in unbooked.remediation and "USD" in unbooked.remediation
    # Nothing of theirs anywhere: no customer for the Brazilian one, no order in dollars.
    brazil = _by_country(routed, "BR")
    everywhere = set(_customers(routed.world.netsuite_client())) | set(
        _customers(routed.apac_client())
    )
    assert not brazil & everywhere
    with routed.apac_client() as client:
        currencies = {r.get("currency") for r in client.suiteql("SELECT currency FROM transaction")}
    assert len(currencies) == 2  # yen and dinars only

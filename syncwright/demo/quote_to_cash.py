"""Quote-to-cash over four emulators, one per kind of system of a stack (``stack.py``): CRM
Salesforce or HubSpot (``crm_drive.py``), billing Stripe or Chargebee (``billing_side.py``), ERP
NetSuite or Business Central (``erp_side.py``), support Zendesk (``freshdesk_support.py`` swaps
in Freshdesk).

Deals closed-won in the CRM emulator flow through syncwright's onboarding workflow; the
comparison then checks every system for each deal, read from the emulators' own APIs: the ERP
customer and sales order, the live billing subscription, the CRM account's billing fields and
the support desk's entitlement -- each exactly once.
"""

from __future__ import annotations

import json
import random
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from syncwright.demo._faults import faults_paused
from syncwright.demo.billing_books import SALES_ORDER
from syncwright.demo.billing_side import BillingSide, start_billing_side
from syncwright.demo.billing_world import BillingWorld, start_billing_world
from syncwright.demo.crm_drive import CrmDrive, DealLine, HubSpotDrive, SalesforceDrive
from syncwright.demo.erp_side import ErpSide, start_erp_side
from syncwright.demo.stack import DEFAULT_STACK, DISPLAY_NAMES, Stack
from syncwright.sandbox import FaultInjector, FaultPlan, ServerThread
from syncwright.sandbox._tls import make_self_signed_cert
from syncwright.sandbox.salesforce import SalesforceState
from syncwright.sandbox.salesforce import create_app as create_salesforce
from syncwright.sandbox.salesforce._auth import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
)
from syncwright.sandbox.salesforce._pubsub import PubSubServer
from syncwright.sandbox.salesforce._schema import SYNCWRIGHT_CUSTOM_FIELDS, CustomField
from syncwright.sandbox.zendesk import create_app as create_zendesk

ZENDESK_EMAIL = "agent@example.com"
TIERS = ("standard", "premium", "enterprise", "none")
# name -> (monthly unit price in cents, support tier it grants)
CATALOG = {"Platform": (49_000, "premium"), "Seats": (2_500, "standard")}
# name -> the item an ERP with an item map (Business Central) sells it as
ERP_ITEMS = {"Platform": "SW-PRO", "Seats": "SW-SEAT"}

SALESFORCE = """\
  salesforce:
    vendor: salesforce
    base_url: {sf_url}
    credentials:
      client_id: "file:secrets/sf_client_id"
      client_secret: "file:secrets/sf_client_secret"
      username: "file:secrets/sf_username"
      password: "file:secrets/sf_password"
    limits: {{timeout_seconds: 10}}
    options:
      role: crm
      ca_file: {certfile}
      default_currency: USD
      default_subsidiary: Parent Company
      poll_streams: [cdc]
      poll_interval_seconds: 1
      pubsub_endpoint: {pubsub_endpoint}
      pubsub_wait_seconds: 2
"""
HUBSPOT = """\
  hubspot:
    vendor: hubspot
    base_url: {hs_url}
    credentials:
      access_token: "file:secrets/hs_token"
    webhook:
      secrets: ["file:secrets/hs_client_secret"]
    limits: {{timeout_seconds: 10, requests_per_second: 100}}
    options:
      role: crm
      webhook_url: {hook}
      default_currency: USD
      default_subsidiary: Parent Company
      poll_interval_seconds: 3600
"""
ZENDESK = """\
  zendesk:
    vendor: zendesk
    base_url: {zd_url}
    credentials:
      email: "file:secrets/zd_email"
      api_token: "file:secrets/zd_token"
    limits: {{timeout_seconds: 10, requests_per_second: 100}}
    options:
      role: support
      default_tier: standard
      tier_field: {tier_field}
      tiers: {tiers}
      sla_policies: {{premium: "Premium 4h", standard: "Standard 24h"}}
"""


@dataclass
class QuoteToCashWorld:
    billing: BillingWorld
    sf_server: ServerThread
    sf_state: SalesforceState
    sf_faults: FaultInjector
    certfile: str
    zd_server: ServerThread
    zd_token: str
    #: The CRM the story's sales reps use (Salesforce, or HubSpot: the stack's ``crm``).
    crm: CrmDrive
    #: The stack's billing system and ERP, each read back through its own API.
    billing_side: BillingSide
    erp: ErpSide
    hs_server: ServerThread | None = None
    #: The Salesforce emulator's Pub/Sub API (the cdc stream reads change events there).
    sf_pubsub: PubSubServer | None = None
    #: Product name -> ``crm_product``, ``crm_entry`` (what a deal line references) and
    #: ``billing_price`` (the billing system's price; on Stripe also as ``stripe_price``);
    #: with Salesforce also ``sf_product`` and ``sf_entry`` (the same ids).
    catalog: dict[str, dict[str, str]] = field(default_factory=dict)
    #: The support desk in the story and how to read an account's tier back from it (from the
    #: desk's own API); ``None`` reads Zendesk's organizations.
    support_vendor: str = "zendesk"
    tier_reader: Callable[[str], str | None] | None = None

    def sdk(self) -> SalesRep:
        """Salesforce's REST API as a sales rep's tool uses it (no syncwright call options)."""
        return SalesRep(self.sf_server.url, self.sf_state.issue_token(), self.certfile)

    def zendesk_orgs(self) -> list[dict[str, Any]]:
        orgs: list[dict[str, Any]] = []
        url: str | None = f"{self.zd_server.url}/api/v2/organizations.json?per_page=100"
        auth = (f"{ZENDESK_EMAIL}/token", self.zd_token)
        while url:
            page = httpx.get(url, auth=auth, timeout=30, trust_env=False)
            page.raise_for_status()
            body = page.json()
            orgs.extend(body["organizations"])
            url = body.get("next_page")
        return orgs

    def close(self) -> None:
        self.billing.close()
        self.sf_server.stop()
        if self.sf_pubsub is not None:
            self.sf_pubsub.stop()
        self.zd_server.stop()
        if self.hs_server is not None:
            self.hs_server.stop()


class SalesRep:
    """Someone else writing to the org: plain sObject REST calls, as any CRM user's tool makes.
    https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/using_resources_working_with_records.htm
    """

    def __init__(self, url: str, token: str, certfile: str) -> None:
        self._http = httpx.Client(
            base_url=f"{url}/services/data/v59.0/sobjects",
            headers={"Authorization": f"Bearer {token}"},
            verify=ssl.create_default_context(cafile=certfile),
            timeout=30,
            trust_env=False,
        )

    def _send(self, method: str, path: str, fields: dict[str, Any]) -> httpx.Response:
        # A person's tool tries again when Salesforce has a hiccup (5xx).
        for _ in range(5):
            response = self._http.request(method, path, json=fields)
            if response.status_code < 500:
                break
        response.raise_for_status()
        return response

    def create(self, sobject: str, fields: dict[str, Any]) -> str:
        return str(self._send("POST", f"/{sobject}", fields).json()["id"])

    def update(self, sobject: str, record_id: str, fields: dict[str, Any]) -> None:
        self._send("PATCH", f"/{sobject}/{record_id}", fields)

    def get(self, sobject: str, record_id: str) -> dict[str, Any]:
        response = self._http.get(f"/{sobject}/{record_id}")
        response.raise_for_status()
        record: dict[str, Any] = response.json()
        return record


def _secret(path: Path, value: str) -> None:
    path.write_text(value)
    path.chmod(0o600)


def start_quote_to_cash_world(
    workdir: Path,
    *,
    netsuite_faults: FaultPlan | None = None,
    salesforce_faults: FaultPlan | None = None,
    workers: int = 16,
    zendesk_tier_field: str = "entitlement_tier",
    stack: Stack = DEFAULT_STACK,
    erp_faults: FaultPlan | None = None,
    billing_faults: FaultPlan | None = None,
) -> QuoteToCashWorld:
    """The world on ``stack``'s CRM, billing system and ERP (its support desk: Zendesk here,
    :func:`~syncwright.demo.freshdesk_support.use_freshdesk` swaps in Freshdesk). The
    Salesforce, Stripe and NetSuite emulators run on every stack (some tests read their logs),
    but syncwright's config names only the stack's vendors. ``erp_faults`` are injected into
    the stack's ERP (``netsuite_faults`` into NetSuite when it is the ERP), ``billing_faults``
    into Chargebee's API when it is the billing system."""
    on_netsuite = stack.erp == "netsuite"
    billing = start_billing_world(
        workdir,
        netsuite_faults=(erp_faults or netsuite_faults) if on_netsuite else None,
        workers=workers,
        ns_timeout=2.0,
        poll_interval=1,
    )
    certfile, keyfile = make_self_signed_cert(workdir / "tls")
    billing_side = start_billing_side(billing, stack.billing, billing_faults)
    erp = start_erp_side(billing, stack.erp, tls=(certfile, keyfile), faults=erp_faults)
    # The org's admin added invoice visibility fields next to syncwright's standard ones.
    sf_state = SalesforceState(
        custom_fields=(
            *SYNCWRIGHT_CUSTOM_FIELDS,
            CustomField("Account", "Last_Invoice_Number__c", length=80),
            CustomField("Account", "Last_Invoice_Status__c", length=40),
        )
    )
    sf_faults = FaultInjector(salesforce_faults or FaultPlan())
    sf_server = ServerThread(
        create_salesforce(sf_state, faults=sf_faults), certfile=str(certfile), keyfile=str(keyfile)
    ).start()
    zd_token = "zd-" + Path(workdir).name + "-token-value"
    zd_server = ServerThread(
        create_zendesk(email=ZENDESK_EMAIL, api_token=zd_token, requests_per_minute=100_000)
    ).start()
    secrets_dir = workdir / "secrets"
    for name, value in {
        "sf_client_id": DEFAULT_CLIENT_ID,
        "sf_client_secret": DEFAULT_CLIENT_SECRET,
        "sf_username": DEFAULT_USERNAME,
        "sf_password": DEFAULT_PASSWORD,
        "zd_email": ZENDESK_EMAIL,
        "zd_token": zd_token,
    }.items():
        _secret(secrets_dir / name, value)
    drive: CrmDrive = SalesforceDrive(
        lambda: SalesRep(sf_server.url, sf_state.issue_token(), str(certfile)),
        sf_state.standard_pricebook_id,
    )
    hs_server = None
    sf_pubsub: PubSubServer | None = None
    if stack.crm == "hubspot":
        hs_server, drive = _start_hubspot(billing)
    else:
        # Change Data Capture over the Pub/Sub API, on the org's certificate; a short keepalive
        # so that a poll that has caught up returns within a second (Salesforce: ~270 s).
        sf_pubsub = PubSubServer(
            sf_state, certfile=certfile, keyfile=keyfile, keepalive_seconds=1.0
        ).start()
    world = QuoteToCashWorld(
        billing,
        sf_server,
        sf_state,
        sf_faults,
        str(certfile),
        zd_server,
        zd_token,
        crm=drive,
        billing_side=billing_side,
        erp=erp,
        hs_server=hs_server,
        sf_pubsub=sf_pubsub,
    )
    _seed_catalog(world)
    _seed_zendesk_fields(world)
    tiers = plan_tiers(world)
    # US SaaS subscriptions are not taxed here: NetSuite's "-Not Taxable-" code for the parent.
    billing.settings_args["tax_codes"] = {"Parent Company": "-7"}
    billing_side.configure(
        {entry["crm_product"]: entry["billing_price"] for entry in world.catalog.values()}
    )
    erp.configure({world.catalog[name]["crm_product"]: item for name, item in ERP_ITEMS.items()})
    if hs_server is not None:
        crm_section = HUBSPOT.format(hs_url=hs_server.url, hook=_hubspot_hook(billing))
    else:
        assert sf_pubsub is not None
        crm_section = SALESFORCE.format(
            sf_url=sf_server.url, certfile=certfile, pubsub_endpoint=sf_pubsub.endpoint
        )
    billing.settings_args["extra_connections"] = crm_section + ZENDESK.format(
        zd_url=zd_server.url, tiers=json.dumps(tiers), tier_field=zendesk_tier_field
    )
    return world


def plan_tiers(world: QuoteToCashWorld) -> dict[str, str]:
    """The support connection's ``tiers``: by the CRM's product (the deal at onboarding) and by
    the billing system's price (plan changes that come from billing later: docs/lifecycle.md),
    so every workflow that sets a tier grants the same one, whichever runs last."""
    return {
        entry[key]: CATALOG[name][1]
        for name, entry in world.catalog.items()
        for key in ("crm_product", "billing_price")
    }


def _hubspot_hook(billing: BillingWorld) -> str:
    return f"http://127.0.0.1:{billing.api_port}/hooks/hubspot"


def _start_hubspot(billing: BillingWorld) -> tuple[ServerThread, HubSpotDrive]:
    """HubSpot's emulator with the app's webhook subscriptions pointed at syncwright's intake
    (deals come in as signed webhook batches; HubSpot has no change-data-capture stream)."""
    from syncwright.sandbox.hubspot import (
        DEFAULT_ACCESS_TOKEN,
        DEFAULT_CLIENT_SECRET,
        emulator_of,
    )
    from syncwright.sandbox.hubspot import create_app as create_hubspot

    app = create_hubspot(per_interval=100_000, webhook_retry_delays=(0.2, 0.5, 1.0, 2.0))
    server = ServerThread(app).start()
    webhooks = emulator_of(app).webhooks
    webhooks.target_url = _hubspot_hook(billing)
    for event_type, prop in (
        ("company.creation", None),
        ("company.propertyChange", "name"),
        ("deal.propertyChange", "dealstage"),
        # Contacts go to the support desk (and a billing contact to billing): contact.sync.
        ("contact.creation", None),
        *(
            ("contact.propertyChange", name)
            for name in ("email", "firstname", "lastname", "phone", "syncwright_contact_roles")
        ),
    ):
        webhooks.subscribe(event_type, prop)
    secrets_dir = billing.workdir / "secrets"
    _secret(secrets_dir / "hs_token", DEFAULT_ACCESS_TOKEN)
    _secret(secrets_dir / "hs_client_secret", DEFAULT_CLIENT_SECRET)
    return server, HubSpotDrive(server.url, DEFAULT_ACCESS_TOKEN)


def _seed_catalog(world: QuoteToCashWorld) -> None:
    """The same products in the CRM (in Salesforce with price book entries) and the billing
    system (monthly prices)."""
    for name, (cents, _) in CATALOG.items():
        product, entry = world.crm.add_product(name, cents)
        price = world.billing_side.add_price(name, cents)
        world.catalog[name] = {"crm_product": product, "crm_entry": entry, "billing_price": price}
        if world.billing_side.vendor == "stripe":
            world.catalog[name]["stripe_price"] = price
        if world.crm.vendor == "salesforce":
            world.catalog[name] |= {"sf_product": product, "sf_entry": entry}


def _seed_zendesk_fields(world: QuoteToCashWorld) -> None:
    """The organization fields an admin creates before entitlements are synced."""
    auth = (f"{ZENDESK_EMAIL}/token", world.zd_token)
    tier = {
        "key": "entitlement_tier",
        "title": "Tier",
        "type": "dropdown",
        "custom_field_options": [{"name": t.title(), "value": t} for t in TIERS],
    }
    sla = {"key": "sla_policy", "title": "SLA policy", "type": "text"}
    for definition in (tier, sla):
        created = httpx.post(
            f"{world.zd_server.url}/api/v2/organization_fields.json",
            json={"organization_field": definition},
            auth=auth,
            timeout=30,
            trust_env=False,
        )
        created.raise_for_status()


@dataclass
class Deal:
    opportunity: str
    account: str
    seats: int
    country: str


def close_deals(
    world: QuoteToCashWorld, count: int, *, seed: int = 11, country: str = "US", start: int = 0
) -> list[Deal]:
    """Sales reps create accounts and deals (opportunities) in the CRM, then mark them won."""
    rng = random.Random(seed + start)
    deals: list[Deal] = []
    for n in range(start, start + count):
        seats = rng.randint(5, 40)
        lines = [
            DealLine(
                product=world.catalog[name]["crm_product"],
                entry=world.catalog[name]["crm_entry"],
                name=name,
                quantity=quantity,
                cents=CATALOG[name][0],
            )
            for name, quantity in (("Platform", 1), ("Seats", seats))
        ]
        opportunity, account = world.crm.open_deal(n, country, lines)
        deals.append(Deal(opportunity, account, seats, country))
    for deal in deals:
        world.crm.win(deal.opportunity)
    return deals


def wait_onboarded(world: QuoteToCashWorld, deals: list[Deal], timeout: float = 300.0) -> None:
    """Until every deal has reached syncwright (polled from the CRM) and all work settled."""
    billing = world.billing
    assert billing.runtime is not None
    xref = billing.runtime.xref
    deadline = time.monotonic() + timeout
    vendor = world.crm.vendor
    while any(xref.global_id_for("deal", vendor, d.opportunity) is None for d in deals):
        if time.monotonic() > deadline:
            raise TimeoutError("deals did not reach syncwright")
        time.sleep(0.2)
    billing.wait_settled(max(1.0, deadline - time.monotonic()))


@dataclass
class QuoteToCashCheck:
    deals: int
    onboarded: int
    problems: list[str]
    duplicates: int


def check_deals(world: QuoteToCashWorld, deals: list[Deal]) -> QuoteToCashCheck:
    """Every system, for every deal: exactly what the onboarding promises, exactly once -- read
    from each emulator's own API (syncwright's cross-reference only names the global ids)."""
    billing = world.billing
    assert billing.runtime is not None
    xref = billing.runtime.xref
    vendor = world.crm.vendor
    erp, billed = world.erp, world.billing_side
    problems: list[str] = []
    # The faults are for the sync; a read-back that met one would report the wrong problem.
    with faults_paused(erp, billed):
        books = erp.ledger()
        subscriptions = billed.subscriptions()
    duplicates = sum(n - 1 for (kind, _), n in books.counts.items() if kind == SALES_ORDER)
    orgs = (
        {org.get("external_id"): org for org in world.zendesk_orgs()}
        if world.tier_reader is None
        else {}
    )
    erp_name, billing_name = DISPLAY_NAMES[erp.vendor], DISPLAY_NAMES[billed.vendor]
    onboarded = 0
    for deal in deals:
        account_id = xref.global_id_for("account", vendor, deal.account)
        deal_id = xref.global_id_for("deal", vendor, deal.opportunity)
        if account_id is None or deal_id is None:
            problems.append(f"{deal.opportunity}: never reached syncwright")
            continue
        subscription_id = f"subs_{deal_id.split('_', 1)[-1]}"
        before = len(problems)
        erp_customer = books.customers.get(erp.key(account_id, "customer"))
        if erp_customer is None:
            problems.append(f"{deal.opportunity}: no {erp_name} customer")
        orders = books.counts.get((SALES_ORDER, erp.key(subscription_id, "document")), 0)
        if orders != 1:
            problems.append(f"{deal.opportunity}: {orders} sales orders")
        statuses = subscriptions.get(subscription_id, [])
        if statuses != ["active"]:
            problems.append(f"{deal.opportunity}: {billing_name} subscriptions {statuses}")
        shown = world.crm.billing_of(deal.account)
        monthly = CATALOG["Platform"][0] + deal.seats * CATALOG["Seats"][0]
        expected_acv = Decimal(monthly) * 12 / 100
        if shown.subscription_status != "Active" or shown.acv != expected_acv:
            problems.append(
                f"{deal.opportunity}: CRM shows {shown.subscription_status} "
                f"ACV {shown.acv} (expected Active, {expected_acv})"
            )
        if not shown.last_invoice_number or not shown.last_invoice_status:
            problems.append(f"{deal.opportunity}: no invoice visible on the CRM account")
        if shown.erp_id != (erp_customer or ""):
            problems.append(f"{deal.opportunity}: CRM ERP id {shown.erp_id or None}")
        if world.tier_reader is None:
            org = orgs.get(account_id)
            tier = (org or {}).get("organization_fields", {}).get("entitlement_tier")
        else:
            tier = world.tier_reader(account_id)
        if tier != "premium":
            problems.append(f"{deal.opportunity}: {world.support_vendor} tier {tier!r}")
        onboarded += 1 if len(problems) == before else 0
    return QuoteToCashCheck(len(deals), onboarded, problems, duplicates)

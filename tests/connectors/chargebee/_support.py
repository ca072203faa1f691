"""Helpers for the Chargebee connector tests: the official SDK pointed at the emulator, a
config on disk, a small catalog, canonical records."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import chargebee

from syncwright.runtime import Runtime

API_KEY = "test_syncwright_chargebee_key_4242"
CONNECTION = "billing"
WEBHOOK_USER = "syncwright"
WEBHOOK_PASSWORD = "cb-webhook-pass-0001"
PRO_PRICE = "pro-USD-monthly"  # 30.00 USD a month, per unit
SEAT_PRICE = "seat-USD-monthly"  # 5.00 USD a month, an addon

RuntimeFactory = Callable[..., Runtime]


def sdk_for(url: str, api_key: str = API_KEY) -> chargebee.Chargebee:
    """Chargebee's SDK at ``url``: its API endpoint is the only thing changed (see DESIGN.md)."""
    chargebee.Chargebee.verify_ca_certs = False  # plain HTTP on 127.0.0.1
    client = chargebee.Chargebee(api_key=api_key, site="syncwright-test", protocol="http")
    client.env.api_endpoint = f"{url}/api/v2"
    return client


def make_catalog(sdk: chargebee.Chargebee) -> None:
    """The items and item prices the tests subscribe to, made through the SDK."""
    sdk.Item.create({"id": "pro", "name": "Pro", "type": "plan", "item_family_id": "saas"})
    sdk.Item.create({"id": "seat", "name": "Seat", "type": "addon", "item_family_id": "saas"})
    for price_id, item_id, amount in ((PRO_PRICE, "pro", 3000), (SEAT_PRICE, "seat", 500)):
        sdk.ItemPrice.create(
            {
                "id": price_id,
                "item_id": item_id,
                "name": price_id,
                "pricing_model": "per_unit",
                "price": amount,
                "period": 1,
                "period_unit": "month",
                "currency_code": "USD",
            }
        )


def write_config(
    directory: Path,
    *,
    base_url: str,
    webhook_secrets: Sequence[str] = (),
    options: dict[str, Any] | None = None,
    api_key: str = API_KEY,
) -> Path:
    """A syncwright.yaml with one Chargebee connection; secrets live in files beside it."""
    secrets = directory / "secrets"
    secrets.mkdir(parents=True, exist_ok=True)
    (secrets / "api_key").write_text(api_key)
    refs = []
    for index, secret in enumerate(webhook_secrets):
        (secrets / f"hook_{index}").write_text(secret)
        refs.append(f'"file:secrets/hook_{index}"')
    opts = json.dumps(options if options is not None else {"default_subsidiary": "US-1"})
    path = directory / "syncwright.yaml"
    path.write_text(
        f"""\
database:
  url: sqlite:///{directory / "syncwright.db"}
connections:
  {CONNECTION}:
    vendor: chargebee
    base_url: {base_url}
    credentials:
      api_key: "file:secrets/api_key"
    webhook:
      secrets: [{", ".join(refs)}]
    limits:
      timeout_seconds: 5
      requests_per_second: 200
    options: {opts}
"""
    )
    return path


def account(gid: str = "acct_cb_1", *, email: str | None = "ap@acme.test") -> dict[str, Any]:
    return {
        "global_id": gid,
        "name": "Acme Corp",
        "billing_email": email,
        "subsidiary": "US-1",
        "currency": "USD",
        "bill_to": {
            "line1": "1 Main St",
            "city": "Springfield",
            "region": "IL",
            "postal_code": "62701",
            "country": "US",
        },
    }


def subscription(
    gid: str = "sub_cb_1", account_id: str = "acct_cb_1", quantity: int = 2, unit: int = 3000
) -> dict[str, Any]:
    return {
        "global_id": gid,
        "account_id": account_id,
        "plan_id": "prod_gid_pro",
        "status": "active",
        "currency": "USD",
        "term_start": "2026-01-01",
        "billing_frequency": "monthly",
        "items": [
            {
                "global_id": f"{gid}_item_0",
                "price_id": "price_gid_pro",
                "product_id": "prod_gid_pro",
                "quantity": quantity,
                "unit_amount": {"amount_minor": unit, "currency": "USD"},
            }
        ],
    }

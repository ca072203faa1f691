"""``POST /api/v1/validate/{check}`` served by uvicorn on 127.0.0.1, called with httpx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from fastapi import FastAPI

from syncwright.api.validation import build_validation_router
from syncwright.sandbox import FaultPlan, ServerThread

if TYPE_CHECKING:
    from tests.validation.conftest import MakeWorld, World


@pytest.fixture
def api(world: World) -> Iterator[httpx.Client]:
    app = FastAPI()
    app.include_router(build_validation_router(world.service))
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


def _post(api: httpx.Client, check: str, body: Any) -> httpx.Response:
    return api.post(f"/api/v1/validate/{check}", json=body)


def test_yes_and_no_are_both_200(world: World, api: httpx.Client) -> None:
    world.customer("acc-1")
    yes = _post(api, "customer", {"account": world.account("acc-1")})
    assert yes.status_code == 200, yes.text
    body = yes.json()
    assert set(body) == {"check", "ok", "reasons", "source", "elapsed_ms"}
    assert (body["check"], body["ok"], body["reasons"], body["source"]) == (
        "customer",
        True,
        [],
        "erp",
    )

    world.customer("acc-2", creditHoldOverride="ON")
    no = _post(api, "credit", {"account": world.account("acc-2")})
    assert no.status_code == 200
    assert no.json()["ok"] is False
    assert no.json()["reasons"] == [
        "Client acc-2 Ltd is on credit hold in NetSuite: finance must release the hold before "
        "new orders can be booked."
    ]
    again = _post(api, "credit", {"account": world.account("acc-2")})
    assert (again.json()["source"], again.json()["ok"]) == ("cache", False)


def test_products_with_a_deal(world: World, api: httpx.Client) -> None:
    deal = world.deal("deal-1", "acc-1", [("prod_x", "price_x", 1, 100)])
    response = _post(api, "products", {"account": world.account("acc-1"), "deal": deal})
    assert response.status_code == 200
    assert response.json()["ok"] is False
    assert "is not set up for NetSuite" in response.json()["reasons"][0]


def test_fallback_over_http_within_the_deadline(make_world: MakeWorld) -> None:
    world = make_world(deadline_seconds=0.3, fallback="deny")
    world.sandbox.configure_faults(FaultPlan(latency_ms=800, only_methods=frozenset({"GET"})))
    app = FastAPI()
    app.include_router(build_validation_router(world.service))
    with ServerThread(app) as server:
        response = httpx.post(
            f"{server.url}/api/v1/validate/credit", json={"account": world.account("a")}
        )
    assert response.status_code == 200
    body = response.json()
    assert (body["source"], body["ok"]) == ("fallback", False)
    assert body["elapsed_ms"] < 700
    assert "did not answer within 0.3 s" in body["reasons"][0]


def test_unknown_check_is_404_listing_the_checks(world: World, api: httpx.Client) -> None:
    for body in ({"account": world.account("acc-1")}, {"nonsense": True}):
        response = _post(api, "karma", body)
        assert response.status_code == 404
        assert response.json() == {
            "detail": "no check named 'karma'; the checks are: credit, customer, products, tax"
        }
    assert world.requests == 0


def test_bad_bodies_are_422_with_a_clear_message(world: World, api: httpx.Client) -> None:
    bad_country = world.account("acc-1")
    bad_country["bill_to"]["country"] = "gb"
    response = _post(api, "tax", {"account": bad_country})
    assert response.status_code == 422
    body = response.json()
    assert body["detail"].startswith("invalid request body: account.bill_to.country: String")
    assert body["errors"][0]["loc"] == "account.bill_to.country"
    assert "gb" not in response.text  # the input is not echoed back

    missing = _post(api, "credit", {"deal": None})
    assert missing.status_code == 422
    assert missing.json()["detail"] == "invalid request body: account: Field required"

    extra = _post(api, "credit", {"account": world.account("acc-1"), "note": "hi"})
    assert extra.status_code == 422
    assert "note: Extra inputs are not permitted" in extra.json()["detail"]

    no_deal = _post(api, "products", {"account": world.account("acc-1")})
    assert no_deal.status_code == 422
    assert no_deal.json() == {"detail": "deal: the products check needs the deal and its lines"}

    mismatch = _post(
        api,
        "credit",
        {"account": world.account("acc-1"), "deal": world.deal("d", "acc-2", [])},
    )
    assert mismatch.status_code == 422
    assert "deal.account_id 'acc-2' is not the account's global_id 'acc-1'" in mismatch.text

    not_json = api.post(
        "/api/v1/validate/credit", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 422
    assert not_json.json()["detail"].startswith("invalid request body:")
    assert world.requests == 0


def test_the_endpoint_is_in_openapi(world: World, api: httpx.Client) -> None:
    spec = api.get("/openapi.json").json()
    operation = spec["paths"]["/api/v1/validate/{check}"]["post"]
    assert set(operation["responses"]) >= {"200", "404", "422"}
    assert "requestBody" in operation

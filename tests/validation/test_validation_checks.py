"""Each NetSuite check, yes and no, answered by the ERP through the ValidationService."""

from __future__ import annotations

from typing import TYPE_CHECKING

from syncwright.validation import ValidationResult

if TYPE_CHECKING:
    from tests.validation.conftest import World


def _ask(world: World, check: str, account: dict, deal: dict | None = None) -> ValidationResult:
    result = world.service.validate(check, {"account": account, "deal": deal})
    assert result.source == "erp", result
    assert result.erp == "netsuite"
    assert result.check == check
    return result


def _text(result: ValidationResult) -> str:
    return " ".join(result.reasons)


# -- credit ----------------------------------------------------------------------------------


def test_credit_yes_within_limit(world: World) -> None:
    cid = world.customer("acc-1", creditLimit=1000, creditHoldOverride="AUTO")
    world.invoice(cid, "150")
    deal = world.deal("deal-1", "acc-1", [("prod_std", "price_std", 2, 10000)])  # 200.00 GBP
    result = _ask(world, "credit", world.account("acc-1"), deal)
    assert result.ok is True
    assert result.reasons == ()
    assert result.details["balance"] == "150.00"
    assert result.details["credit_limit"] == "1000.00"
    assert result.details["order_amount"] == "200.00"
    assert result.details["currency"] == "GBP"


def test_credit_new_customer_is_ok_with_a_note(world: World) -> None:
    result = _ask(world, "credit", world.account("acc-new"))
    assert result.ok is True
    assert "new customer, no credit history" in _text(result).lower()
    assert result.details["new_customer"] is True


def test_credit_no_on_hold(world: World) -> None:
    world.customer("acc-1", creditLimit=100000, creditHoldOverride="ON")
    result = _ask(world, "credit", world.account("acc-1"))
    assert result.ok is False
    assert "Client acc-1 Ltd is on credit hold in NetSuite" in _text(result)
    assert result.details["credit_hold"] == "ON"


def test_credit_no_over_limit(world: World) -> None:
    cid = world.customer("acc-1", creditLimit=100)
    world.invoice(cid, "150")
    result = _ask(world, "credit", world.account("acc-1"))
    assert result.ok is False
    assert "owes 150.00 GBP, over its NetSuite credit limit of 100.00 GBP" in _text(result)


def test_credit_no_when_the_deal_would_exceed_the_limit(world: World) -> None:
    cid = world.customer("acc-1", creditLimit=500)
    world.invoice(cid, "400")
    deal = world.deal("deal-1", "acc-1", [("prod_std", "price_std", 1, 15000)])  # 150.00
    result = _ask(world, "credit", world.account("acc-1"), deal)
    assert result.ok is False
    assert "This deal (150.00 GBP) would take" in _text(result)
    assert "available credit 100.00 GBP" in _text(result)

    # A deal in another currency is not added to the balance, and says so.
    euro = world.deal("deal-2", "acc-1", [("prod_std", "price_std", 1, 15000)], currency="EUR")
    other = _ask(world, "credit", world.account("acc-1"), euro)
    assert other.ok is True
    assert "was not compared with the credit limit" in _text(other)


def test_credit_hold_off_overrides_the_limit(world: World) -> None:
    cid = world.customer("acc-1", creditLimit=100, creditHoldOverride="OFF")
    world.invoice(cid, "150")
    result = _ask(world, "credit", world.account("acc-1"))
    assert result.ok is True
    assert "overridden (Off)" in _text(result)


# -- customer --------------------------------------------------------------------------------


def test_customer_yes(world: World) -> None:
    world.customer("acc-1", subsidiary="2")
    result = _ask(world, "customer", world.account("acc-1"))
    assert result.ok is True, result.reasons
    assert result.details["subsidiary"] == {"id": "2", "name": "Syncwright UK Ltd"}
    assert result.details["inactive"] is False


def test_customer_no_when_missing(world: World) -> None:
    result = _ask(world, "customer", world.account("acc-404"))
    assert result.ok is False
    assert "has no customer record in NetSuite yet (external ID acc-404)" in _text(result)


def test_customer_no_when_inactive_and_in_another_subsidiary(world: World) -> None:
    world.customer("acc-1", subsidiary="1", isInactive=True)
    result = _ask(world, "customer", world.account("acc-1"))
    assert result.ok is False
    assert len(result.reasons) == 2
    assert "is inactive" in result.reasons[0]
    assert "booked under subsidiary 'Parent Company' in NetSuite" in result.reasons[1]
    assert "maps to subsidiary 2" in result.reasons[1]


def test_customer_no_when_legal_entity_is_not_mapped(world: World) -> None:
    world.customer("acc-1")
    result = _ask(world, "customer", world.account("acc-1", subsidiary="Syncwright Pty Ltd"))
    assert result.ok is False
    assert "Legal entity 'Syncwright Pty Ltd' is not linked to a NetSuite subsidiary" in _text(
        result
    )
    assert "connections.netsuite.options.subsidiaries" in _text(result)


# -- products --------------------------------------------------------------------------------


def test_products_yes(world: World) -> None:
    deal = world.deal(
        "deal-1",
        "acc-1",
        [("prod_std", "price_std", 1, 3995), ("prod_onboarding", None, 1, 50000)],
    )
    before = world.requests
    result = _ask(world, "products", world.account("acc-1"), deal)
    assert result.ok is True, result.reasons
    assert world.requests == before + 1  # one SuiteQL query for every line
    lines = result.details["lines"]
    assert [(line["item_id"], line["via"], line["item"]) for line in lines] == [
        ("98", "price_std", "SUB-STD"),
        ("101", "prod_onboarding", "ONBOARDING"),
    ]


def test_products_no_lists_unmapped_inactive_and_missing_items(world: World) -> None:
    world.state.update("serviceSaleItem", "100", {"isInactive": True})
    deal = world.deal(
        "deal-1",
        "acc-1",
        [
            ("prod_std", "price_std", 1, 3995),  # fine
            ("prod_pro", "price_pro", 1, 9900),  # item 100 is inactive
            ("prod_mystery", "price_mystery", 1, 100),  # not mapped
            ("prod_gone", "price_gone", 1, 100),  # mapped to an item NetSuite does not have
        ],
    )
    result = _ask(world, "products", world.account("acc-1"), deal)
    assert result.ok is False
    assert len(result.reasons) == 3
    text = _text(result)
    assert (
        "Line 'prod_mystery line' (product prod_mystery, price price_mystery) is not set up" in text
    )
    assert "maps to NetSuite item 'Pro subscription (monthly)', which is inactive" in text
    assert "maps to NetSuite item 999, which does not exist in NetSuite" in text
    assert "prod_std" not in text


# -- tax -------------------------------------------------------------------------------------


def test_tax_yes(world: World) -> None:
    result = _ask(world, "tax", world.account("acc-1"))
    assert result.ok is True, result.reasons
    assert result.details["subsidiary"] == {"id": "2", "name": "Syncwright UK Ltd", "country": "GB"}
    assert result.details["tax_code"]["name"] == "VAT_UK:S-GB"
    assert result.details["requires_tax"] is True
    assert result.details["jurisdictions"] == ["GB"]


def test_tax_no_for_a_nexus_outside_the_subsidiary_country(world: World) -> None:
    account = world.account("acc-1", nexus=["GB", "US"])
    result = _ask(world, "tax", account)
    assert result.ok is False
    assert result.reasons == (
        "Client acc-1 Ltd has tax nexus in US, but Syncwright UK Ltd (registered in GB) can only "
        "charge GB tax in NetSuite: book the deal under a legal entity registered in US, or ask "
        "finance.",
    )


def test_tax_no_without_a_tax_code_and_with_an_unmapped_currency(world: World) -> None:
    # Parent Company (US) has US tax codes in NetSuite but none is configured for it.
    account = world.account("acc-1", subsidiary="Parent Company", currency="JPY", country="US")
    result = _ask(world, "tax", account)
    assert result.ok is False
    text = _text(result)
    assert "JPY is not set up as a NetSuite currency" in text
    assert "No NetSuite tax code is set up for Parent Company (US)" in text


def test_tax_no_for_a_tax_code_of_another_country(world: World) -> None:
    account = world.account("acc-1", subsidiary="Syncwright France", currency="EUR", country="FR")
    result = _ask(world, "tax", account)
    assert result.ok is False
    assert "tax code 'VAT_UK:S-GB' is for GB, not FR" in _text(result)


def test_tax_no_for_a_missing_subsidiary_or_address(world: World) -> None:
    ghost = _ask(world, "tax", world.account("acc-1", subsidiary="Syncwright Ghost"))
    assert ghost.ok is False
    assert "mapped to NetSuite subsidiary 999, which does not exist" in _text(ghost)

    nowhere = _ask(world, "tax", world.account("acc-2", country=None))
    assert nowhere.ok is False
    assert "has no billing address or tax nexus" in _text(nowhere)

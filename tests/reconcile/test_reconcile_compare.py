"""The comparison itself, on records as connectors report them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from syncwright.config import ReconciliationRule
from syncwright.reconcile import SnapshotRecord, compare
from syncwright.reconcile.checks import only_fields


def _invoice(native: str, total: int, *, settled: bool, currency: str = "USD") -> SnapshotRecord:
    return SnapshotRecord(
        entity_type="invoice",
        native_id=native,
        fields={"total": total, "currency": currency, "settled": settled},
        currency=currency,
        period="2026-11",
        amount_minor=total,
    )


def test_missing_extra_different_duplicate_and_totals() -> None:
    source = [
        ("g1", _invoice("in_1", 1000, settled=True)),
        ("g2", _invoice("in_2", 500, settled=False)),
        ("g3", _invoice("in_3", 700, settled=True)),
        ("g4", _invoice("in_4", 900, settled=False, currency="JPY")),
    ]
    target = [
        ("g1", _invoice("10", 1000, settled=False)),  # paid in billing, still open in the ERP
        ("g2", _invoice("11", 500, settled=True)),  # credited in the ERP: not drift
        ("g4", _invoice("12", 900, settled=False, currency="JPY")),
        ("g4", _invoice("13", 900, settled=False, currency="JPY")),  # a duplicate
        ("g9", _invoice("14", 50, settled=False)),  # nobody billed it
    ]
    result = compare("invoices", source, target, source_name="stripe", target_name="netsuite")
    found = {(d.kind, d.key): d for d in result.drift}
    assert set(found) == {("different", "g1"), ("missing", "g3"), ("extra", "g4"), ("extra", "g9")}
    (settled,) = found[("different", "g1")].fields
    assert (settled.field, settled.source, settled.target) == ("settled", True, False)
    assert found[("extra", "g4")].target_id == "13"
    assert "never deleted" in found[("extra", "g9")].remediation
    totals = {(t.currency, t.period): t.as_json() for t in result.totals}
    assert totals[("USD", "2026-11")]["source_amount"] == 2200
    assert totals[("USD", "2026-11")]["target_amount"] == 1550
    assert totals[("USD", "2026-11")]["difference"] == 650
    assert totals[("JPY", "2026-11")]["target_count"] == 2
    assert (result.source_count, result.target_count) == (4, 4)


def test_a_rules_fields_narrow_the_comparison_and_unknown_ones_are_refused() -> None:
    source = [("g1", _invoice("in_1", 1000, settled=True))]
    target = [("g1", _invoice("10", 1200, settled=False))]
    narrowed = compare(
        "invoices",
        zip(["g1"], only_fields((r for _, r in source), ["settled"]), strict=True),
        target,
        source_name="stripe",
        target_name="netsuite",
    )
    (drift,) = narrowed.drift
    assert [f.field for f in drift.fields] == ["settled"]  # the amount is not compared
    rule = {"name": "r", "schedule": "1h", "compare": ["stripe", "zendesk"]}
    assert ReconciliationRule.model_validate({**rule, "check": "entitlements"}).fields is None
    with pytest.raises(ValidationError, match="choose from tier"):
        ReconciliationRule.model_validate({**rule, "check": "entitlements", "fields": ["total"]})
    with pytest.raises(ValidationError, match="cannot be compared"):
        ReconciliationRule.model_validate({**rule, "check": "crm_standing", "fields": []})


def test_records_without_an_amount_are_counted_per_currency_and_period() -> None:
    def sub(native: str, currency: str) -> SnapshotRecord:
        return SnapshotRecord(
            "subscription", native, {"active": True}, currency=currency, period="2026-11"
        )

    result = compare(
        "subscriptions",
        [("g1", sub("sub_1", "USD")), ("g2", sub("sub_2", "GBP"))],
        [("g1", sub("1", "USD"))],
        source_name="stripe",
        target_name="netsuite",
    )
    totals = {t.currency: t.as_json() for t in result.totals}
    assert totals["USD"]["source_count"] == totals["USD"]["target_count"] == 1
    assert (totals["GBP"]["source_count"], totals["GBP"]["target_count"]) == (1, 0)
    assert all(t["difference"] == 0 for t in totals.values())  # no amounts to differ

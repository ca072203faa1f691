"""The schema-compatibility guard: each kind of break is caught, compatible growth is not.

Breaks are produced by building altered models (or altered copies of current schemas) here in
the test; the committed snapshots are only ever read.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, ConfigDict, Field

from syncwright.model import EVENT_TYPES, SubscriptionActivatedV1, compat
from syncwright.model.compat import (
    SNAPSHOT_DIR,
    check_compatibility,
    compare_schemas,
    current_schema,
    snapshot_path,
    write_snapshots,
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tier(StrEnum):
    BASIC = "basic"
    PRO = "pro"
    ENTERPRISE = "enterprise"


class Inner(Strict):
    amount: int
    note: str | None = None


class Base(Strict):
    name: str
    count: Annotated[int, Field(ge=0)]
    nickname: str | None = None
    tier: Tier
    inner: Inner
    tags: list[str] = []
    labels: dict[str, int] = {}


def schema(model: type[BaseModel]) -> dict[str, Any]:
    return current_schema(model)


def breaks(new: type[BaseModel], old: type[BaseModel] = Base) -> list[str]:
    return compare_schemas(schema(old), schema(new))


# -- compatible changes --------------------------------------------------------------------------


def test_identical_models_are_compatible() -> None:
    assert breaks(Base) == []


def test_adding_an_optional_field_is_compatible() -> None:
    class Grown(Base):
        region: str | None = None
        seats: int = 1

    assert breaks(Grown) == []


def test_adding_an_enum_value_and_loosening_are_compatible() -> None:
    class TierPlus(StrEnum):
        BASIC = "basic"
        PRO = "pro"
        ENTERPRISE = "enterprise"
        STARTUP = "startup"

    class Loosened(Strict):
        name: str
        count: int  # the minimum dropped
        nickname: str | None = None
        tier: TierPlus
        inner: Inner
        tags: list[str] = []
        labels: dict[str, int] = {}

    assert breaks(Loosened) == []


def test_making_a_required_field_optional_is_compatible() -> None:
    class Relaxed(Strict):
        name: str = "unnamed"
        count: Annotated[int, Field(ge=0)]
        nickname: str | None = None
        tier: Tier
        inner: Inner
        tags: list[str] = []
        labels: dict[str, int] = {}

    assert breaks(Relaxed) == []


# -- each kind of break --------------------------------------------------------------------------


def test_removed_field() -> None:
    class Removed(Strict):
        name: str
        count: Annotated[int, Field(ge=0)]
        tier: Tier
        inner: Inner
        tags: list[str] = []
        labels: dict[str, int] = {}

    assert breaks(Removed) == ["nickname: field removed"]


def test_changed_type() -> None:
    class Retyped(Strict):
        name: str
        count: str
        nickname: str | None = None
        tier: Tier
        inner: Inner
        tags: list[str] = []
        labels: dict[str, int] = {}

    assert breaks(Retyped) == ["count: type changed from integer to string"]


def test_becoming_nullable_is_a_type_change() -> None:
    class Nullable(Strict):
        name: str | None
        count: Annotated[int, Field(ge=0)]
        nickname: str | None = None
        tier: Tier
        inner: Inner
        tags: list[str] = []
        labels: dict[str, int] = {}

    assert breaks(Nullable) == ["name: type changed from string to null | string"]
    # ... and the other way round: stored nulls would be rejected.
    assert compare_schemas(schema(Nullable), schema(Base)) == [
        "name: type changed from null | string to string"
    ]


def test_field_newly_required() -> None:
    class Stricter(Strict):
        name: str
        count: Annotated[int, Field(ge=0)]
        nickname: str | None  # no default any more
        tier: Tier
        inner: Inner
        tags: list[str] = []
        labels: dict[str, int] = {}
        region: str  # a new field without a default

    assert breaks(Stricter) == [
        "nickname: field newly required (was optional)",
        "region: field newly required (new field without a default)",
    ]


def test_enum_value_removed() -> None:
    class TierMinus(StrEnum):
        BASIC = "basic"
        PRO = "pro"

    class Shrunk(Strict):
        name: str
        count: Annotated[int, Field(ge=0)]
        nickname: str | None = None
        tier: TierMinus
        inner: Inner
        tags: list[str] = []
        labels: dict[str, int] = {}

    assert breaks(Shrunk) == ['tier: enum value removed: "enterprise"']


def test_constraint_tightened() -> None:
    class Tighter(Strict):
        name: Annotated[str, Field(min_length=2, pattern=r"^[a-z]+$")]
        count: Annotated[int, Field(ge=1, le=10)]
        nickname: str | None = None
        tier: Tier
        inner: Inner
        tags: list[str] = []
        labels: dict[str, int] = {}

    assert breaks(Tighter) == [
        "name: constraint tightened: minLength None -> 2",
        "name: pattern changed: None -> '^[a-z]+$'",
        "count: constraint tightened: minimum 0 -> 1",
        "count: constraint tightened: maximum None -> 10",
    ]


def test_breaks_inside_nested_models_arrays_and_maps_carry_the_path() -> None:
    class Inner2(Strict):
        amount: str
        note: str | None = None

    class Nested(Strict):
        name: str
        count: Annotated[int, Field(ge=0)]
        nickname: str | None = None
        tier: Tier
        inner: Inner2
        tags: list[int] = []
        labels: dict[str, str] = {}

    assert breaks(Nested) == [
        "inner.amount: type changed from integer to string",
        "tags[]: type changed from string to integer",
        "labels{*}: type changed from integer to string",
    ]


def test_union_branches_are_paired_by_title() -> None:
    class Card(Strict):
        last4: str

    class Bank(Strict):
        iban: str
        bic: str | None = None

    class BankV2(Strict):
        bic: str | None = None

    class Paid(Strict):
        method: Card | Bank

    class PaidV2(Strict):
        method: Card | BankV2

    old = schema(Paid)
    new = schema(PaidV2)
    # Rename the def back so the pairing sees the same model under its published title.
    new["$defs"]["Bank"] = new["$defs"].pop("BankV2")
    new["$defs"]["Bank"]["title"] = "Bank"
    new_text = json.dumps(new).replace("#/$defs/BankV2", "#/$defs/Bank")
    assert compare_schemas(old, json.loads(new_text)) == ["method.iban: field removed"]


def test_recursive_models_terminate() -> None:
    class Node(Strict):
        name: str
        children: list[Node] = []

    class NodeV2(Strict):
        name: int
        children: list[NodeV2] = []

    assert compare_schemas(schema(Node), schema(Node)) == []
    assert compare_schemas(schema(Node), schema(NodeV2)) == [
        "name: type changed from string to integer"
    ]


def test_real_event_schema_change_is_reported_with_its_path() -> None:
    """An enum value dropped deep inside a published event (altered copy, snapshot untouched)."""
    event_type = "syncwright.subscription.activated.v1"
    published = json.loads(snapshot_path(event_type).read_text(encoding="utf-8"))
    altered = copy.deepcopy(current_schema(SubscriptionActivatedV1))
    altered["$defs"]["SubscriptionStatus"]["enum"].remove("past_due")
    altered["$defs"]["Money"]["properties"].pop("currency")
    altered["$defs"]["Money"]["required"].remove("currency")
    problems = compare_schemas(published, altered, where=event_type)
    assert f'{event_type}: subscription.status: enum value removed: "past_due"' in problems
    assert f"{event_type}: subscription.items[].unit_amount.currency: field removed" in problems


# -- snapshots -----------------------------------------------------------------------------------

THING = "syncwright.thing.happened.v1"


def test_write_snapshots_writes_missing_and_never_overwrites(tmp_path: Path) -> None:
    assert write_snapshots({THING: Base}, tmp_path) == [tmp_path / f"{THING}.json"]
    before = (tmp_path / f"{THING}.json").read_text(encoding="utf-8")
    assert json.loads(before) == schema(Base)

    class Changed(Strict):
        other: int

    assert write_snapshots({THING: Changed}, tmp_path) == []
    assert (tmp_path / f"{THING}.json").read_text(encoding="utf-8") == before
    assert check_compatibility({THING: Changed}, tmp_path) != []


def test_check_reports_breaks_with_the_event_type(tmp_path: Path) -> None:
    write_snapshots({THING: Base}, tmp_path)

    class Removed(Strict):
        name: str
        count: Annotated[int, Field(ge=0)]
        tier: Tier
        inner: Inner
        tags: list[str] = []
        labels: dict[str, int] = {}

    assert check_compatibility({THING: Base}, tmp_path) == []
    assert check_compatibility({THING: Removed}, tmp_path) == [f"{THING}: nickname: field removed"]


def test_missing_snapshot_is_a_break(tmp_path: Path) -> None:
    problems = check_compatibility({"syncwright.thing.happened.v2": Base}, tmp_path)
    assert len(problems) == 1
    assert problems[0].startswith("syncwright.thing.happened.v2: snapshot missing")


def test_unregistering_a_published_type_is_a_break(tmp_path: Path) -> None:
    write_snapshots({THING: Base}, tmp_path)
    problems = check_compatibility({}, tmp_path)
    assert problems == [
        f"{THING}: published event type is no longer registered; a published version must "
        "stay readable (keep its model in EVENT_TYPES)"
    ]


# -- the guard over the committed snapshots ------------------------------------------------------


def test_committed_snapshots_are_compatible_with_current_models() -> None:
    """The guard: fails when a published event model changed incompatibly."""
    assert check_compatibility() == []


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_every_registered_type_has_a_committed_snapshot(event_type: str) -> None:
    path = snapshot_path(event_type)
    assert path.parent == SNAPSHOT_DIR
    assert path.is_file(), f"run `python -m syncwright.model.compat publish` for {event_type}"
    published = json.loads(path.read_text(encoding="utf-8"))
    assert compare_schemas(published, published) == []


# -- command line --------------------------------------------------------------------------------


def test_main_check_and_publish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(compat, "SNAPSHOT_DIR", tmp_path)
    monkeypatch.setattr(compat, "EVENT_TYPES", {THING: Base})
    assert compat.main(["check"]) == 1
    assert "snapshot missing" in capsys.readouterr().err
    assert compat.main(["publish"]) == 0
    assert "wrote" in capsys.readouterr().out

    class Retyped(Strict):
        name: int

    monkeypatch.setattr(compat, "EVENT_TYPES", {THING: Retyped})
    assert compat.main(["publish"]) == 1  # publish never overwrites, so the break remains
    err = capsys.readouterr().err
    assert f"{THING}: name: type changed from string to integer" in err
    assert "breaking change(s)" in err


def test_module_entry_point() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "syncwright.model.compat", "check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "compatible" in result.stdout
    assert "Warning" not in result.stderr

"""The compiler: shipped files compile; a bad file is refused with every problem named by
file, line and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncwright.errors import ConfigError
from syncwright.mapping import compile_text, load_mapping, shipped_mapping

SAMPLES = Path(__file__).parent / "samples"

GOOD = """\
name: shop_inbound
version: 3
vendor: stripe
direction: inbound
entities:
  account:
    model: Account
    fields:
      global_id: id
      name: {from: name, transform: text}
"""


def _problems(text: str, **kwargs: object) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        compile_text(text, source="m.yaml", **kwargs)  # type: ignore[arg-type]
    return caught.value.problems


@pytest.mark.parametrize(
    ("vendor", "direction", "ref"),
    [
        ("zendesk", "outbound", "zendesk_outbound@1"),
        ("salesforce", "inbound", "salesforce_inbound@1"),
        ("business_central", "inbound", "business_central_inbound@1"),
        ("business_central", "outbound", "business_central_outbound@1"),
    ],
)
def test_shipped_mappings_compile(vendor: str, direction: str, ref: str) -> None:
    mapping = shipped_mapping(vendor, direction)  # type: ignore[arg-type]
    assert mapping is not None and mapping.ref == ref
    assert mapping.vendor == vendor and mapping.direction == direction


def test_a_vendor_without_a_file_has_no_shipped_mapping() -> None:
    assert shipped_mapping("netsuite", "inbound") is None
    assert shipped_mapping("nosuchvendor", "inbound") is None


def test_good_file_compiles_with_name_and_version() -> None:
    mapping = compile_text(GOOD, source="m.yaml")
    assert mapping.ref == "shop_inbound@3"
    assert list(mapping.entities) == ["account"]


def test_bad_yaml_names_file_line_and_column() -> None:
    problems = _problems("name: x\nversion: 1\nentities:\n  a: [1, 2\n")
    assert len(problems) == 1
    assert problems[0].startswith("m.yaml:") and "invalid YAML" in problems[0]
    assert problems[0].split(":")[1] in ("4", "5")  # the unclosed flow sequence


def test_type_errors_and_unknown_keys_name_their_lines() -> None:
    text = GOOD.replace("version: 3", "version: three").replace(
        "      name: {from: name, transform: text}",
        "      name: {form: name, transform: text}",
    )
    problems = _problems(text)
    assert "m.yaml:2: version: must be a valid integer" in problems
    assert any(
        p.startswith("m.yaml:10: entities.account.fields.name.form: unknown key; did you mean")
        for p in problems
    ), problems


def test_unknown_transform_field_model_and_value_map_each_named() -> None:
    text = GOOD.replace("transform: text}", "transform: txet, map: tiers}").replace(
        "      global_id: id", "      global_id: id\n      nmae: name"
    )
    problems = _problems(text)
    assert (
        "m.yaml:10: entities.account.fields.nmae: unknown field of Account 'nmae'; "
        "did you mean 'name'?" in problems
    )
    assert any(
        p.startswith("m.yaml:11: entities.account.fields.name.transform: unknown transform 'txet'")
        and "did you mean 'text'?" in p
        for p in problems
    ), problems
    assert any(
        p.startswith("m.yaml:11: entities.account.fields.name.map: unknown value map 'tiers'")
        for p in problems
    ), problems
    assert len(problems) == 3


def test_bad_paths_and_transform_arguments_are_refused() -> None:
    text = GOOD.replace(
        "global_id: id",
        "global_id: {from: 'lines[x]', transform: {name: money_from_minor, args: {cur: usd}}}",
    )
    problems = _problems(text)
    assert any(
        p.startswith("m.yaml:9: entities.account.fields.global_id.from: path 'lines[x]'")
        for p in problems
    ), problems
    assert any(
        "transform 'money_from_minor': got an unexpected keyword argument 'cur'" in p
        for p in problems
    ), problems


def test_unknown_model_and_missing_keys() -> None:
    problems = _problems(
        "name: x\nversion: 1\nvendor: stripe\nentities:\n  a:\n    fields: {b: c}\n"
    )
    assert "m.yaml:1: direction: required key is missing" in problems
    text = GOOD.replace("model: Account", "model: Acount")
    assert any(
        p.startswith("m.yaml:7: entities.account.model: unknown canonical model 'Acount'")
        for p in _problems(text)
    )


def test_duplicate_keys_are_refused() -> None:
    problems = _problems(GOOD + "      name: other\n")
    assert any(
        p.startswith("m.yaml:11: entities.account.fields.name: duplicate key") for p in problems
    )


def test_the_configured_version_must_be_the_files(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(GOOD)
    assert load_mapping(path, version=3).version == 3
    with pytest.raises(ConfigError) as caught:
        load_mapping(path, version=4)
    assert caught.value.problems == [
        f"{path}:2: version: the file is version 3 but the config asks for version 4; "
        "change mappings[].version or the file"
    ]


def test_a_missing_file_is_a_problem(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_mapping(tmp_path / "nope.yaml")
    assert caught.value.problems == [f"{tmp_path / 'nope.yaml'}: mapping file not found"]


def test_sample_files_compile() -> None:
    assert load_mapping(SAMPLES / "stripe_invoice_v1.yaml").ref == "stripe_invoices@1"
    assert load_mapping(SAMPLES / "stripe_invoice_v2.yaml").ref == "stripe_invoices@2"

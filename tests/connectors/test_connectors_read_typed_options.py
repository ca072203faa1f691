"""Every connector reads ``connections.<name>.options`` through its declared options model, so
what ``config validate`` accepts is exactly what the connector understands (no raw ``dict``
reads that could drift from the model: a key read but not declared, a type assumed but not
checked).

Source is read, not imported: the one place a connector may touch the raw ``settings.options``
is as the argument of ``parse_options``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import syncwright.connectors

CONNECTORS = Path(syncwright.connectors.__file__).parent


def _raw_option_reads(path: Path, root: Path = CONNECTORS) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parsed: set[int] = set()  # ids of `settings.options` nodes handed to parse_options
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "parse_options"
        ):
            parsed.update(id(arg) for arg in node.args)
    return sorted(
        f"{path.relative_to(root)}:{node.lineno}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr == "options"
        and isinstance(node.value, ast.Attribute | ast.Name)
        and getattr(node.value, "attr", getattr(node.value, "id", "")) == "settings"
        and id(node) not in parsed
    )


def test_connectors_read_options_only_through_their_model() -> None:
    vendors = [
        p for p in CONNECTORS.iterdir() if (p / "options.py").is_file() and p.name != "_base"
    ]
    assert {p.name for p in vendors} >= {"example", "netsuite", "salesforce", "stripe", "zendesk"}
    for vendor in vendors:
        modules = list(vendor.rglob("*.py"))
        # Each parses its options once, through the kit.
        assert any("parse_options(name, settings.options)" in p.read_text() for p in modules), (
            vendor.name
        )
        assert [hit for p in modules for hit in _raw_option_reads(p)] == [], vendor.name


def test_the_check_sees_a_raw_read(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "x = self.settings.options.get('prices')\n"
        "y = self.parse_options(name, settings.options)\n"
        "z = settings.options['role']\n"
    )
    # Lines 1 and 3 read raw options; line 2 hands them to the model.
    assert _raw_option_reads(probe, tmp_path) == ["probe.py:1", "probe.py:3"]

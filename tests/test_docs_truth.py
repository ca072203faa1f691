"""What the documentation promises exists: the full example config validates with nothing to
report, and every ``syncwright <command>`` the README and docs/ mention is a real command."""

from __future__ import annotations

import json
import re
from pathlib import Path

import typer.main
from typer.testing import CliRunner

from syncwright.cli import app
from syncwright.engine import registered_workflows
from syncwright.runtime import WORKFLOW_MODULES, load_workflow_modules

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "syncwright.example.yaml"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# Inline code spans and fenced blocks: where a command is written to be typed.
_CODE = re.compile(r"```.*?```|`[^`\n]+`", re.DOTALL)
_WORD = r"[a-z][a-z0-9-]*"
_MENTION = re.compile(
    rf"(?<![\w./-])syncwright ({_WORD}(?:\|{_WORD})*)(?: ({_WORD}(?:\|{_WORD})*))?"
)


def test_the_full_example_config_validates_with_nothing_to_report() -> None:
    assert "syncwright.example.yaml" in (ROOT / "docs/config.md").read_text(encoding="utf-8")
    text = EXAMPLE.read_text(encoding="utf-8")
    env = {name: f"value-of-{name.lower()}" for name in re.findall(r"\$\{(\w+)\}", text)}
    env.update({m: f"value-of-{m.lower()}" for m in re.findall(r"\{env: (\w+)\}", text)})
    result = CliRunner().invoke(
        app, ["config", "validate", "--json", "--config", str(EXAMPLE)], env=env
    )
    report = json.loads(result.stdout)
    assert report["problems"] == [] and report["ok"] is True, report
    assert result.exit_code == 0
    # Every section of the example reaches the settings (nothing silently dropped).
    summary = report["summary"]
    assert summary["connections"] == ["netsuite", "salesforce", "stripe", "zendesk"]
    assert summary["workflows"], "the example configures workflows"


def documented_commands() -> set[tuple[str, str | None]]:
    """(command, subcommand or None) for every ``syncwright ...`` in a code span or block."""
    found: set[tuple[str, str | None]] = set()
    for doc in DOCS:
        for block in _CODE.findall(doc.read_text(encoding="utf-8")):
            for command, sub in _MENTION.findall(block):
                for name in command.split("|"):
                    for part in sub.split("|") if sub else [None]:
                        found.add((name, part))
    return found


def test_docs_mention_commands() -> None:
    # The extraction itself works: commands every doc set has are found.
    found = documented_commands()
    assert ("config", "validate") in found and ("worker", None) in found


def _subcommands(command: object) -> dict[str, object] | None:
    """A group's commands by name; None for a plain command (its words are arguments)."""
    commands = getattr(command, "commands", None)
    return commands if isinstance(commands, dict) else None


def test_every_documented_command_exists() -> None:
    top = _subcommands(typer.main.get_command(app))
    assert top is not None and "config" in top
    missing: list[str] = []
    for name, sub in sorted(documented_commands(), key=lambda c: (c[0], c[1] or "")):
        group = _subcommands(top.get(name))
        if name not in top:
            missing.append(f"syncwright {name}")
        elif group is not None and sub is not None and sub not in group:
            missing.append(f"syncwright {name} {sub}")
    assert missing == [], f"documented but not commands of the CLI: {missing}"


def test_config_doc_lists_every_registered_workflow() -> None:
    load_workflow_modules()
    text = (ROOT / "docs/config.md").read_text(encoding="utf-8")
    # Other tests register workflows of their own in the same process: only the shipped ones.
    names = sorted(
        name
        for name, definition in registered_workflows().items()
        if definition.body.__module__ in WORKFLOW_MODULES
    )
    assert names, "no workflow registered"
    assert [n for n in names if f"| `{n}` |" not in text] == []

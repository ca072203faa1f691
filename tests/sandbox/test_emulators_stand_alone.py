"""Emulators never import connector code: a mistake shared by both sides (a signature computed
the same wrong way, a credential type both trust) would make a broken connector look correct.

Every module under ``syncwright/sandbox/`` is read as source (not imported) and each ``import``
statement, ``__import__``/``import_module`` string included, is checked.
"""

from __future__ import annotations

import ast
from pathlib import Path

import syncwright.sandbox

SANDBOX = Path(syncwright.sandbox.__file__).parent
FORBIDDEN = "syncwright.connectors"
# Not an emulator: `sandbox up` wires emulators to a config and asks the connector kit which
# vendors take webhooks (see its module docstring).
WIRING = {SANDBOX / "up.py"}


def _imported(tree: ast.AST) -> list[tuple[int, str]]:
    names: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names += [(node.lineno, node.module)]
            names += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Call) and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                names.append((node.lineno, first.value))
    return names


def _offences(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        f"{path.relative_to(SANDBOX.parent.parent)}:{line}: imports {name}"
        for line, name in _imported(tree)
        if name == FORBIDDEN or name.startswith(FORBIDDEN + ".")
    ]


def test_no_emulator_module_imports_connector_code() -> None:
    modules = sorted(p for p in SANDBOX.rglob("*.py") if p not in WIRING)
    # The walk really covers the emulators (a wrong root would pass vacuously).
    assert {p.parent.name for p in modules} >= {"netsuite", "salesforce", "stripe", "zendesk"}
    offences = [line for path in modules for line in _offences(path)]
    assert offences == []


def test_the_check_catches_every_spelling() -> None:
    # The detector itself must see a forbidden import however it is written.
    for source in (
        "import syncwright.connectors.stripe.signature\n",
        "from syncwright.connectors.netsuite._oauth import TbaCredentials\n",
        "from syncwright import connectors\n",
        "import importlib\nimportlib.import_module('syncwright.connectors.stripe')\n",
    ):
        module = SANDBOX / "_probe_never_written.py"
        found = [
            name
            for _, name in _imported(ast.parse(source, filename=str(module)))
            if name == FORBIDDEN or name.startswith(FORBIDDEN + ".")
        ]
        assert found, source

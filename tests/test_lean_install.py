"""``pip install syncwright`` stays lean: vendor SDKs are for emulators, demos and tests only.

The runtime (everything outside ``syncwright/sandbox`` and ``syncwright/demo``) never imports a
vendor SDK; Stripe's SDK comes with the ``sandbox`` extra, which ``dev`` includes; and without it
the CLI still works while ``syncwright demo`` names the extra to install.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import syncwright

PACKAGE = Path(syncwright.__file__).parent
ROOT = PACKAGE.parent
VENDOR_SDKS = ("stripe", "zenpy", "simple_salesforce", "hubspot", "freshdesk", "chargebee")
# Where an SDK may be used: the demos drive emulators the way a user's systems would.
SDK_USERS = (PACKAGE / "sandbox", PACKAGE / "demo")


def _sdk_imports(path: Path) -> list[str]:
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        found += [
            f"{path.relative_to(ROOT)}:{node.lineno}: {name}"
            for name in names
            if name.split(".")[0] in VENDOR_SDKS
        ]
    return found


def test_the_runtime_imports_no_vendor_sdk() -> None:
    modules = [p for p in PACKAGE.rglob("*.py") if not any(p.is_relative_to(u) for u in SDK_USERS)]
    assert any(p.parent.name == "stripe" for p in modules)  # connectors are walked too
    assert [hit for path in modules for hit in _sdk_imports(path)] == []
    # ... while the check does see the demo's use of Stripe's SDK.
    assert _sdk_imports(PACKAGE / "demo" / "billing_world.py")


def test_stripe_sdk_is_in_the_sandbox_extra_not_the_core() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = " ".join(project["dependencies"]).lower()
    assert not any(sdk.replace("_", "-") in core for sdk in VENDOR_SDKS)
    extras = project["optional-dependencies"]
    assert any(d.startswith("stripe") for d in extras["sandbox"])
    assert "syncwright[sandbox]" in extras["dev"]


# Runs in a fresh interpreter where `import stripe` fails, as on a lean install.
_NO_STRIPE = """
import importlib.abc, sys

class NoStripe(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "stripe":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NoStripe())
"""
_WITHOUT_STRIPE = (
    _NO_STRIPE
    + "from syncwright.cli import main\nsys.argv = ['syncwright', *sys.argv[1:]]\nmain()\n"
)


def test_the_emulators_and_sandbox_up_need_no_vendor_sdk() -> None:
    # `sandbox up` starts emulators only; none of them drives a vendor's SDK.
    emulators = ", ".join(
        f"syncwright.sandbox.{name}" for name in ("example", "netsuite", "salesforce", "stripe")
    )
    script = f"{_NO_STRIPE}import syncwright.sandbox.up, syncwright.sandbox.zendesk, {emulators}\n"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr


def test_without_the_sandbox_extra_the_demo_says_what_to_install(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_STRIPE, "demo", "--json", "--workdir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stderr
    answer = json.loads(done.stdout)
    assert "pip install 'syncwright[sandbox]'" in answer["error"]
    assert any("Stripe's SDK" in problem for problem in answer["problems"])
    assert "Traceback" not in done.stderr
    # Nothing was started: the check comes before any emulator or database.
    assert list(tmp_path.iterdir()) == []

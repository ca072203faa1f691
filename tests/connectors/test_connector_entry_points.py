"""Connectors register through the ``syncwright.connectors`` entry-point group: a package outside
syncwright (``tests/connectors/thirdparty``, with its own pyproject.toml) becomes a vendor a
config can use once it is installed, and not before."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from syncwright.config import (
    ENTRY_POINT_GROUP,
    installed_vendors,
    parse_settings,
    settings_json_schema,
)
from syncwright.connectors import connector_class
from syncwright.errors import ConfigError
from syncwright.runtime import Runtime

PACKAGE = Path(__file__).resolve().parent / "thirdparty"


def install(site: Path, *, entry_points: dict[str, str] | None = None) -> Path:
    """What ``pip install`` leaves behind, built from the package's own pyproject.toml: the
    package, and a ``.dist-info`` whose entry_points.txt lists its entry points."""
    project = tomllib.loads((PACKAGE / "pyproject.toml").read_text())["project"]
    shutil.copytree(PACKAGE / "syncwright_acme", site / "syncwright_acme")
    dist = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n"
    )
    points = entry_points or project["entry-points"][ENTRY_POINT_GROUP]
    lines = [f"[{ENTRY_POINT_GROUP}]", *(f"{k} = {v}" for k, v in points.items())]
    (dist / "entry_points.txt").write_text("\n".join(lines) + "\n")
    return site


CONFIG = """\
database: {{url: "sqlite:///{db}"}}
connections:
  crm:
    vendor: acme
    options: {{region: {region}}}
"""


def test_an_installed_package_is_found_and_usable_from_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = CONFIG.format(db=tmp_path / "acme.db", region="us")
    assert "acme" not in installed_vendors()
    with pytest.raises(ConfigError) as missing:
        parse_settings(text)
    assert missing.value.problems[0].startswith(
        "connections.crm.vendor: no connector installed for vendor 'acme'; installed: "
        "business_central, example,"
    )

    monkeypatch.syspath_prepend(str(install(tmp_path / "site")))
    assert "acme" in installed_vendors()
    schema = settings_json_schema()
    assert "acme" in schema["$defs"]["ConnectionSettings"]["properties"]["vendor"]["enum"]

    settings = parse_settings(text)
    with Runtime(settings) as runtime:
        connector = runtime.connection("crm")
        assert type(connector) is connector_class("acme")
        assert type(connector).__module__ == "syncwright_acme.connector"
        assert connector.options.region == "us"  # type: ignore[attr-defined]

    # Its options model is what a config is checked against.
    with pytest.raises(ConfigError) as bad:
        parse_settings(CONFIG.format(db=tmp_path / "acme.db", region="mars"))
    (problem,) = bad.value.problems
    assert problem.startswith("connections.crm.options.region: unknown value 'mars'")


def test_config_validate_in_another_process_sees_the_installed_package(tmp_path: Path) -> None:
    site = install(tmp_path / "site")
    config = tmp_path / "syncwright.yaml"
    config.write_text(CONFIG.format(db=tmp_path / "acme.db", region="eu"))

    def validate(**env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "syncwright",
                "config",
                "validate",
                "--config",
                str(config),
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**os.environ, **env},
        )

    installed = validate(PYTHONPATH=os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    assert installed.returncode == 0, installed.stdout + installed.stderr
    without = validate()
    assert without.returncode == 1
    (problem,) = json.loads(without.stdout)["problems"]
    assert "no connector installed for vendor 'acme'" in problem


def test_an_entry_point_that_does_not_load_is_a_config_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = install(tmp_path / "site", entry_points={"broken": "syncwright_acme.connector:Nope"})
    monkeypatch.syspath_prepend(str(site))
    with pytest.raises(ConfigError) as raised:
        connector_class("broken")
    assert raised.value.code == "config.connector_import"
    with pytest.raises(ConfigError) as config:
        parse_settings("connections:\n  x: {vendor: broken}\n")
    (problem,) = config.value.problems
    assert problem.startswith(
        "connections.x.vendor: the connector for vendor 'broken' does not load"
    )

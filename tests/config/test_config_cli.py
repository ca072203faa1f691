"""`syncwright config validate|schema|diff` (the typer sub-app on its own)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from syncwright.cli.config_cmd import app

EXAMPLE = Path(__file__).resolve().parents[2] / "syncwright.example.yaml"
SECRET = "sk_live_CLI_TOPSECRET"

GOOD = """\
connections:
  stripe:
    vendor: stripe
    credentials: {api_key: "${STRIPE_API_KEY}"}
    webhook: {secrets: ["${STRIPE_WEBHOOK_SECRET}"]}
"""

BAD = """\
server: {port: 0}
connections:
  stripe:
    vendor: stripe
    base_url: not-a-url
    credentials: {api_key: "${STRIPE_API_KEY}", pasted: sk_live_PASTED_LITERAL}
ownership:
  account: {system: salesforce}
"""

ENV = {"STRIPE_API_KEY": SECRET, "STRIPE_WEBHOOK_SECRET": "whsec_" + SECRET}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_validate_ok(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, "syncwright.yaml", GOOD)
    result = runner.invoke(app, ["validate", "--config", str(path)], env=ENV)
    assert result.exit_code == 0, result.output
    assert "is valid" in result.output and "stripe" in result.output
    assert SECRET not in result.output


def test_validate_ok_json(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, "syncwright.yaml", GOOD)
    result = runner.invoke(app, ["validate", "--config", str(path), "--json"], env=ENV)
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert payload["ok"] is True and payload["problems"] == []
    assert payload["summary"]["connections"] == ["stripe"]


def test_validate_example(runner: CliRunner) -> None:
    env = {name: "x" * 32 for name in _example_env_names()}  # API tokens need 16+ characters
    result = runner.invoke(app, ["validate", "--config", str(EXAMPLE), "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ok"] is True


def _example_env_names() -> list[str]:
    pairs = re.findall(r"\$\{([A-Z0-9_]+)\}|env: ([A-Z0-9_]+)", EXAMPLE.read_text())
    assert pairs
    return [a or b for a, b in pairs]


def test_validate_reports_every_problem_and_exits_1(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, "syncwright.yaml", BAD)
    result = runner.invoke(app, ["validate", "--config", str(path)], env=ENV)
    assert result.exit_code == 1
    out = result.output
    assert "4 problems" in out
    for fragment in (
        "server.port: must be at least 1",
        "connections.stripe.base_url: must be an http:// or https:// URL",
        "connections.stripe.credentials.pasted: looks like a literal secret",
        "ownership.account.system: unknown connection 'salesforce'",
    ):
        assert fragment in out
    assert SECRET not in out and "PASTED_LITERAL" not in out


def test_validate_json_problems(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, "syncwright.yaml", BAD)
    result = runner.invoke(app, ["validate", "-c", str(path), "--json"], env=ENV)
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["ok"] is False and payload["code"] == "config.invalid"
    assert [p.split(":")[0] for p in payload["problems"]] == [
        "server.port",
        "connections.stripe.base_url",
        "connections.stripe.credentials.pasted",
        "ownership.account.system",
    ]
    assert SECRET not in result.stdout and "PASTED_LITERAL" not in result.stdout


def test_validate_missing_env_names_variable_only(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, "syncwright.yaml", GOOD)
    result = runner.invoke(app, ["validate", "-c", str(path)], env={"STRIPE_API_KEY": SECRET})
    assert result.exit_code == 1
    assert "connections.stripe.webhook.secrets[0]: environment variable STRIPE_WEBHOOK_SECRET" in (
        result.output
    )
    assert SECRET not in result.output


def test_validate_default_path_absent_uses_defaults(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["validate", "--json"])
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert payload["ok"] is True and payload["defaults"] is True
    assert payload["config"] == "syncwright.yaml"


def test_validate_default_path_is_read(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "syncwright.yaml", BAD)
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["validate"], env=ENV).exit_code == 1


def test_validate_explicit_missing_file_is_an_error(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", "--config", str(tmp_path / "typo.yaml"), "--json"])
    assert result.exit_code == 1
    assert "no such file" in json.loads(result.stdout)["problems"][0]


def test_validate_yaml_syntax_error(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, "syncwright.yaml", "server:\n  port: [1\n")
    result = runner.invoke(app, ["validate", "-c", str(path), "--json"])
    assert result.exit_code == 1
    (problem,) = json.loads(result.stdout)["problems"]
    assert problem.startswith(f"{path}:") and "invalid YAML" in problem


def test_schema(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert "connections" in schema["properties"]
    compact = runner.invoke(app, ["schema", "--json"])
    assert json.loads(compact.stdout) == schema and compact.stdout.count("\n") == 1
    out = tmp_path / "schema.json"
    written = runner.invoke(app, ["schema", "-o", str(out)])
    assert written.exit_code == 0 and json.loads(out.read_text()) == schema


def test_diff(runner: CliRunner, tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", GOOD)
    b = write(tmp_path, "b.yaml", GOOD.replace("${STRIPE_API_KEY}", "${OTHER_KEY}"))
    env = {**ENV, "OTHER_KEY": SECRET + "_rotated"}
    result = runner.invoke(app, ["diff", str(b), "--config", str(a)], env=env)
    assert result.exit_code == 0, result.output
    assert "1 change" in result.output
    assert "connections.stripe.credentials.api_key: value changed (**********" in result.output
    assert SECRET not in result.output

    as_json = runner.invoke(app, ["diff", str(b), "--config", str(a), "--json"], env=env)
    payload = json.loads(as_json.stdout)
    assert payload["ok"] is True and len(payload["changes"]) == 1
    assert SECRET not in as_json.stdout

    same = runner.invoke(app, ["diff", str(a), "--config", str(a)], env=env)
    assert same.exit_code == 0 and "no changes" in same.output


def test_diff_invalid_other_names_the_file(runner: CliRunner, tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", GOOD)
    b = write(tmp_path, "b.yaml", BAD)
    result = runner.invoke(app, ["diff", str(b), "--config", str(a), "--json"], env=ENV)
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["problems"]
    assert problems and all(p.startswith(f"{b}: ") for p in problems)
    missing = runner.invoke(app, ["diff", str(tmp_path / "nope.yaml"), "-c", str(a)], env=ENV)
    assert missing.exit_code == 1 and "no such file" in missing.output


def test_validate_says_which_limits_are_shared(runner: CliRunner, tmp_path: Path) -> None:
    shared = (
        GOOD
        + """\
  erp:
    vendor: example
    base_url: https://erp.example.com
    limits: {concurrency: 5, scope: shared}
"""
    )
    path = write(tmp_path, "syncwright.yaml", shared)
    result = runner.invoke(app, ["validate", "--config", str(path)], env=ENV)
    assert result.exit_code == 0, result.output
    assert "limits per process: stripe; shared by all processes (database): erp" in result.output
    result = runner.invoke(app, ["validate", "--config", str(path), "--json"], env=ENV)
    scopes = json.loads(result.stdout)["summary"]["limits_scope"]
    assert scopes == {"stripe": "process", "erp": "shared"}


def test_validate_refuses_an_unknown_limits_scope(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, "syncwright.yaml", GOOD + "    limits: {scope: cluster}\n")
    result = runner.invoke(app, ["validate", "--config", str(path)], env=ENV)
    assert result.exit_code == 1
    assert "connections.stripe.limits.scope" in result.output

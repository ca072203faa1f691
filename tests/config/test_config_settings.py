"""Settings: defaults, the example, every problem at once, unknown keys, references."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from syncwright.config import (
    DOMAINS,
    ConnectionSettings,
    DatabaseSettings,
    OwnershipRule,
    ReconciliationRule,
    Secret,
    Settings,
    format_loc,
    installed_vendors,
    load_settings,
    parse_settings,
)
from syncwright.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "syncwright.example.yaml"
EXAMPLE_ENV = {
    name: f"value-of-{name.lower()}"
    for name in (
        "STRIPE_API_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "STRIPE_WEBHOOK_SECRET_PREVIOUS",
        "SALESFORCE_CLIENT_ID",
        "SALESFORCE_CLIENT_SECRET",
        "NETSUITE_CONSUMER_KEY",
        "NETSUITE_CONSUMER_SECRET",
        "NETSUITE_TOKEN_ID",
        "NETSUITE_TOKEN_SECRET",
        "ZENDESK_EMAIL",
        "ZENDESK_API_TOKEN",
        "ZENDESK_WEBHOOK_SECRET",
        "SYNCWRIGHT_OPS_TOKEN",
    )
}


def parse(text: str, **env: str) -> Settings:
    return parse_settings(textwrap.dedent(text), environ=env)


def problems_of(text: str, **env: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse(text, **env)
    assert caught.value.code == "config.invalid"
    return caught.value.problems


# --- defaults ------------------------------------------------------------------------------


def test_defaults_are_documented_values() -> None:
    settings = Settings()
    assert settings.database.url == "sqlite:///syncwright.db"
    assert settings.database.password is None
    assert settings.database.pool_size == 5
    assert (settings.server.host, settings.server.port) == ("127.0.0.1", 8787)
    assert settings.server.max_body_bytes == 1024 * 1024
    assert settings.engine.application_version == "0.1.0"
    assert settings.engine.executor_id is None
    assert settings.engine.workers >= 1
    assert settings.engine.partition_concurrency == 1
    assert settings.connections == {} and settings.ownership == {}
    assert settings.mappings == [] and settings.workflows == {} and settings.reconciliation == []
    assert settings.telemetry.log_level == "info"
    assert settings.telemetry.metrics_enabled is True


def test_connection_defaults() -> None:
    conn = ConnectionSettings(vendor="stripe")
    assert conn.base_url is None and conn.credentials == {} and conn.options == {}
    assert conn.enabled is True
    assert conn.webhook.secrets == [] and conn.webhook.tolerance_seconds == 300
    assert conn.limits.requests_per_second is None and conn.limits.concurrency is None
    assert conn.limits.timeout_seconds == 30
    retry = conn.limits.retry
    assert (retry.max_attempts, retry.base_delay_seconds, retry.max_delay_seconds) == (5, 0.5, 60)


def test_missing_file_and_none_give_defaults(tmp_path: Path) -> None:
    assert load_settings(None) == Settings()
    assert load_settings(tmp_path / "absent.yaml") == Settings()


def test_empty_file_gives_defaults(tmp_path: Path) -> None:
    path = tmp_path / "syncwright.yaml"
    path.write_text("# nothing yet\n")
    assert load_settings(path) == Settings()


def test_empty_sections_mean_defaults() -> None:
    settings = parse("database:\nconnections:\nmappings:\nserver:\n  port:\n")
    assert settings == Settings()


def test_vendor_and_domain_lists() -> None:
    # The installed connectors (entry points), not a fixed list of vendor names.
    assert installed_vendors() == (
        "business_central",
        "example",
        "freshdesk",
        "hubspot",
        "netsuite",
        "salesforce",
        "stripe",
        "zendesk",
    )
    assert DOMAINS[0] == "account" and "credit_note" in DOMAINS and len(DOMAINS) == 13


# --- the example ---------------------------------------------------------------------------


def test_example_file_validates() -> None:
    settings = load_settings(EXAMPLE, environ=EXAMPLE_ENV)
    stripe = settings.connections["stripe"]
    assert stripe.vendor == "stripe"
    assert stripe.base_url == "https://api.stripe.com"
    assert stripe.credentials["api_key"].reveal() == "value-of-stripe_api_key"
    assert [s.reveal() for s in stripe.webhook.secrets] == [
        "value-of-stripe_webhook_secret",
        "value-of-stripe_webhook_secret_previous",
    ]
    assert settings.ownership["account"].fields == {"billing_email": "stripe"}
    assert settings.reconciliation[0].schedule == 3600
    assert settings.reconciliation[1].schedule == "0 3 * * *"
    assert [r.check for r in settings.reconciliation] == ["invoices", "subscriptions"]
    # mapping paths are relative to the config file
    assert settings.mappings[0].path == ROOT / "mappings" / "stripe_inbound.yaml"
    [token] = settings.auth.tokens
    assert (token.name, token.role) == ("ops-team", "operator")


# --- every problem at once -----------------------------------------------------------------

BROKEN = """\
server:
  port: 70000
  hots: 0.0.0.0
engine:
  workers: 0
connections:
  stripe:
    vendor: strip
    base_url: ftp://api.stripe.com
    credentials:
      api_key: ${NOT_SET_ANYWHERE}
    limts: {}
  hubspot:
    base_url: https://api.hubapi.com
ownership:
  account: {system: salesforce}
mappings:
  - {name: m, connection: stripe, version: 0, path: m.yaml}
reconciliation:
  - {name: r, check: invoices, schedule: sometimes, compare: [stripe, netsuite]}
telemetry:
  log_level: LOUD
"""


def test_every_problem_is_reported_at_once_with_its_path() -> None:
    problems = problems_of(BROKEN)
    paths = [p.split(": ", 1)[0] for p in problems]
    assert paths == [
        "server.port",
        "server.hots",
        "engine.workers",
        "connections.stripe.vendor",
        "connections.stripe.base_url",
        "connections.stripe.credentials.api_key",
        "connections.stripe.limts",
        "connections.hubspot.vendor",
        "ownership.account.system",
        "mappings[0].version",
        "reconciliation[0].schedule",
        "reconciliation[0].compare[1]",
        "telemetry.log_level",
    ]
    text = "\n".join(problems)
    assert "server.port: must be at most 65535 (line 2)" in text
    assert "server.hots: unknown key; did you mean 'host'?" in text
    assert "did you mean 'stripe'?" in text
    assert "connections.stripe.limts: unknown key; did you mean 'limits'?" in text
    assert (
        "connections.hubspot.vendor: required key is missing; one of the installed vendors: "
        + ", ".join(installed_vendors())
        in text
    )
    assert "environment variable NOT_SET_ANYWHERE is not set" in text
    assert "unknown connection 'salesforce'" in text
    assert "unknown connection 'netsuite'" in text


def test_config_error_message_lists_problems_and_source(tmp_path: Path) -> None:
    path = tmp_path / "syncwright.yaml"
    path.write_text(BROKEN)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    message = str(caught.value)
    assert str(path) in message and "13 problems" in message
    assert all(p in message for p in caught.value.problems)
    assert caught.value.to_dict()["problems"] == caught.value.problems


def test_yaml_syntax_error_names_line_and_column() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings("server:\n  port: 1\n bad: [\n", source="syncwright.yaml")
    (problem,) = caught.value.problems
    assert problem.startswith("syncwright.yaml:3:")
    assert "invalid YAML" in problem


def test_yaml_error_does_not_quote_the_source_line() -> None:
    text = 'connections:\n  stripe:\n    credentials: {api_key: "sk_live_SECRETVALUE\n'
    with pytest.raises(ConfigError) as caught:
        parse_settings(text)
    assert "SECRETVALUE" not in str(caught.value)
    assert "SECRETVALUE" not in "".join(caught.value.problems)


def test_duplicate_keys_are_problems() -> None:
    problems = problems_of(
        """\
        server:
          port: 1000
          port: 2000
        """
    )
    assert problems == [
        "server.port: duplicate key (first at line 2); the later one would silently win, "
        "so keep only one (line 3)"
    ]


def test_top_level_must_be_a_mapping() -> None:
    assert problems_of("- a\n- b\n") == [
        "(top level): must be a mapping of sections (database:, connections:, ...) (line 1)"
    ]


# --- unknown keys --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("databse: {}\n", "databse: unknown key; did you mean 'database'?"),
        ("database: {pool: 3}\n", "database.pool: unknown key; did you mean 'pool_size'?"),
        (
            "telemetry: {zzz: 1}\n",
            "telemetry.zzz: unknown key; allowed here: log_level, metrics_enabled, log_format, "
            "worker_metrics_port, traces",
        ),
        (
            "workflows: {renewal: {timeout: 5}}\n",
            "workflows.renewal.timeout: unknown key; did you mean 'timeout_seconds'?",
        ),
    ],
)
def test_unknown_keys_are_errors(text: str, expected: str) -> None:
    (problem,) = problems_of(text)
    assert problem.startswith(expected)


def test_unknown_key_value_is_not_echoed() -> None:
    (problem,) = problems_of("connections:\n  s:\n    vendor: stripe\n    api_key: sk_live_X1\n")
    assert problem.startswith("connections.s.api_key: unknown key")
    assert "sk_live_X1" not in problem


# --- references and uniqueness -------------------------------------------------------------


def test_ownership_must_reference_defined_connections() -> None:
    problems = problems_of(
        """\
        connections:
          stripe: {vendor: stripe}
        ownership:
          invoice:
            system: stripe
            fields: {total: netsuite}
          acount: {system: stripe}
        """
    )
    assert problems == [
        "ownership.invoice.fields.total: unknown connection 'netsuite'; define it under "
        "connections: or use one of the defined ones (stripe) (line 6)",
        "ownership.acount: unknown domain 'acount'; did you mean 'account'? (one of: "
        + ", ".join(DOMAINS)
        + ") (line 7)",
    ]


def test_references_checked_for_python_construction_too() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(ownership={"account": OwnershipRule(system="crm")})
    assert "ownership.account.system: unknown connection 'crm'" in str(caught.value)


def test_mapping_and_rule_uniqueness() -> None:
    problems = problems_of(
        """\
        connections: {a: {vendor: stripe}, b: {vendor: netsuite}}
        mappings:
          - {name: m, connection: a, version: 1, path: m1.yaml}
          - {name: m, connection: a, version: 1, path: m2.yaml}
          - {name: m, connection: a, version: 2, path: m2.yaml}
        reconciliation:
          - {name: r, check: invoices, schedule: 60, compare: [a, b]}
          - {name: r, check: invoices, schedule: 60, compare: [a, a]}
        """
    )
    assert [p.split(":")[0] for p in problems] == [
        "mappings[1].version",
        "reconciliation[1].compare",
        "reconciliation[1].name",
    ]


def test_connection_names_are_slugs() -> None:
    (problem,) = problems_of("connections:\n  'my stripe': {vendor: stripe}\n")
    assert problem.startswith("connections['my stripe']: invalid name: use letters, digits")


# --- values --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (900, 900),
        ("900", 900),
        ("15m", 900),
        ("every 15 minutes", 900),
        ("1h30m", 5400),
        ("1d", 86400),
        ("*/15 * * * *", "*/15 * * * *"),
        ("0  3 * *  MON", "0 3 * * MON"),
        ("@Daily", "@daily"),
    ],
)
def test_schedule_forms(given: object, expected: object) -> None:
    rule = ReconciliationRule.model_validate(
        {"name": "r", "check": "invoices", "schedule": given, "compare": ["a", "b"]}
    )
    assert rule.schedule == expected


@pytest.mark.parametrize("given", [0, -5, True, "sometimes", "61 * * * *", "* * *", 1.5])
def test_bad_schedules(given: object) -> None:
    with pytest.raises(ValidationError):
        ReconciliationRule.model_validate(
            {"name": "r", "check": "invoices", "schedule": given, "compare": ["a", "b"]}
        )


def test_scalars_are_strict() -> None:
    problems = problems_of('server: {port: "8787"}\nengine: {workers: true}\n')
    assert problems == [
        "server.port: must be a whole number (line 1)",
        "engine.workers: must be a whole number (line 2)",
    ]


def test_base_url_checks_and_trailing_slash() -> None:
    conn = ConnectionSettings.model_validate(
        {"vendor": "example", "base_url": "http://127.0.0.1:9000/"}
    )
    assert conn.base_url == "http://127.0.0.1:9000"
    problems = problems_of(
        """\
        connections:
          a: {vendor: stripe, base_url: "https://user:pw@api.stripe.com"}
          b: {vendor: stripe, base_url: "api.stripe.com"}
        """
    )
    assert "must not contain credentials" in problems[0]
    assert "user:pw@" not in problems[0]
    assert "must be an http:// or https:// URL" in problems[1]


def test_retry_delays_must_be_ordered() -> None:
    (problem,) = problems_of(
        """\
        connections:
          s:
            vendor: stripe
            limits: {retry: {base_delay_seconds: 5, max_delay_seconds: 1}}
        """
    )
    assert problem.startswith(
        "connections.s.limits.retry: max_delay_seconds (1) must be at least base_delay_seconds (5)"
    )


def test_database_password_is_a_secret_and_not_in_the_url() -> None:
    (problem,) = problems_of("database: {url: 'postgresql://u:hunter2@db/x'}\n")
    assert problem.startswith("database.url: contains a password")
    assert "hunter2" not in problem
    settings = parse(
        "database: {url: 'postgresql+psycopg://sync@db:5432/x', password: '${PGPASS}'}\n",
        PGPASS="p@ss/word",
    )
    assert str(settings.database.password) == "**********"
    assert (
        settings.database.url_with_password() == "postgresql+psycopg://sync:p%40ss%2Fword@db:5432/x"
    )
    assert DatabaseSettings().url_with_password() == "sqlite:///syncwright.db"


def test_log_level_is_case_insensitive() -> None:
    assert parse("telemetry: {log_level: DEBUG}\n").telemetry.log_level == "debug"


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(ValidationError):
        settings.server = settings.server  # type: ignore[misc]


def test_secret_instances_accepted_in_python() -> None:
    conn = ConnectionSettings(vendor="stripe", credentials={"api_key": Secret("sk_test_1")})
    assert conn.credentials["api_key"].reveal() == "sk_test_1"


def test_format_loc() -> None:
    assert format_loc(("connections", "stripe", "webhook", "secrets", 0)) == (
        "connections.stripe.webhook.secrets[0]"
    )
    assert format_loc(("connections", "a b")) == "connections['a b']"
    assert format_loc(()) == "(top level)"


def test_docs_mention_every_key() -> None:
    from pydantic import BaseModel

    docs = (ROOT / "docs" / "config.md").read_text()
    seen: set[type[BaseModel]] = set()

    def walk(model: type[BaseModel]) -> None:
        seen.add(model)
        for name, field in model.model_fields.items():
            # as a key in backticks: `name`, `a.name`, `name.b`, `<domain>.name`
            assert re.search(rf"[`.]{name}[`.]", docs), f"{model.__name__}.{name}"
            for arg in _types_in(field.annotation):
                if isinstance(arg, type) and issubclass(arg, BaseModel) and arg not in seen:
                    walk(arg)

    walk(Settings)
    assert len(seen) >= 12


def _types_in(annotation: object) -> list[object]:
    from typing import get_args

    out = [annotation]
    for arg in get_args(annotation):
        out += _types_in(arg)
    return out

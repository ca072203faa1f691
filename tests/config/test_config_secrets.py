"""Secrets: references only, resolved at load, never shown."""

from __future__ import annotations

import copy
import json
import pickle
import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from syncwright.config import (
    MASK,
    ConnectionSettings,
    Secret,
    SecretReferenceError,
    Settings,
    load_settings,
    parse_settings,
    resolve_secret,
)
from syncwright.errors import ConfigError

VALUE = "sk_live_51HxTOPSECRETvalue"


def stripe_with(reference: str) -> str:
    return textwrap.dedent(
        f"""\
        connections:
          stripe:
            vendor: stripe
            credentials:
              api_key: {reference}
        """
    )


def problems_of(text: str, environ: dict[str, str], base_dir: Path | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, environ=environ, base_dir=base_dir)
    return caught.value.problems


# --- resolution ----------------------------------------------------------------------------


@pytest.mark.parametrize("reference", ["${STRIPE_API_KEY}", "{env: STRIPE_API_KEY}"])
def test_env_reference(reference: str) -> None:
    settings = parse_settings(stripe_with(reference), environ={"STRIPE_API_KEY": VALUE})
    secret = settings.connections["stripe"].credentials["api_key"]
    assert secret.reveal() == VALUE
    assert secret.source == "${STRIPE_API_KEY}"


@pytest.mark.parametrize("form", ["file:{p}", "{{file: {p}}}", "file:key.txt"])
def test_file_reference(tmp_path: Path, form: str) -> None:
    path = tmp_path / "key.txt"
    path.write_text(VALUE + "\n")  # one trailing newline is dropped
    config = tmp_path / "syncwright.yaml"
    config.write_text(stripe_with(form.format(p=path)))
    settings = load_settings(config, environ={})
    secret = settings.connections["stripe"].credentials["api_key"]
    assert secret.reveal() == VALUE
    assert secret.source == f"file:{path}"


def test_missing_env_var_names_path_and_variable_not_values() -> None:
    problems = problems_of(stripe_with("${STRIPE_API_KEY}"), {"OTHER": VALUE})
    assert problems == [
        "connections.stripe.credentials.api_key: environment variable STRIPE_API_KEY is not "
        "set; export STRIPE_API_KEY before starting syncwright (or point this at a file with "
        "file:/path/to/file) (line 5)"
    ]


def test_empty_env_var_is_a_problem() -> None:
    (problem,) = problems_of(stripe_with("${STRIPE_API_KEY}"), {"STRIPE_API_KEY": ""})
    assert "environment variable STRIPE_API_KEY is empty" in problem


def test_unreadable_file_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    (problem,) = problems_of(stripe_with(f"file:{missing}"), {})
    assert problem.startswith("connections.stripe.credentials.api_key: cannot read secret file")
    assert str(missing) in problem and "No such file" in problem


def test_relative_file_is_relative_to_config_dir(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "k").write_text(VALUE)
    settings = parse_settings(stripe_with("file:secrets/k"), environ={}, base_dir=tmp_path)
    assert settings.connections["stripe"].credentials["api_key"].reveal() == VALUE


def test_literal_secret_is_refused_with_a_fix() -> None:
    (problem,) = problems_of(stripe_with(VALUE), {})
    assert problem.startswith("connections.stripe.credentials.api_key: looks like a literal secret")
    assert "${STRIPE_API_KEY}" in problem and "file:" in problem
    assert VALUE not in problem


@pytest.mark.parametrize(
    ("reference", "fragment"),
    [
        ("$STRIPE_API_KEY", "write it as ${ENV_NAME}"),
        ("'${1BAD}'", "write it as ${ENV_NAME}"),
        ("'file:'", "file: needs a path"),
        ("{env: STRIPE_API_KEY, file: x}", "exactly one key"),
        ("{env: 'not a name'}", "environment variable name"),
        ("12345", "literal"),
        ("''", "is empty"),
    ],
)
def test_malformed_references(reference: str, fragment: str) -> None:
    (problem,) = problems_of(stripe_with(reference), {"STRIPE_API_KEY": VALUE})
    assert fragment in problem


def test_webhook_secrets_list_for_rotation() -> None:
    text = textwrap.dedent(
        """\
        connections:
          stripe:
            vendor: stripe
            webhook:
              secrets: ["${NEW}", "${OLD}", "${GONE}"]
              tolerance_seconds: 60
        """
    )
    problems = problems_of(text, {"NEW": "whsec_new", "OLD": "whsec_old"})
    assert problems == [
        "connections.stripe.webhook.secrets[2]: environment variable GONE is not set; export "
        "GONE before starting syncwright (or point this at a file with file:/path/to/file) "
        "(line 5)"
    ]
    webhook = (
        parse_settings(text, environ={"NEW": "a", "OLD": "b", "GONE": "c"})
        .connections["stripe"]
        .webhook
    )
    assert [s.reveal() for s in webhook.secrets] == ["a", "b", "c"]
    assert webhook.tolerance_seconds == 60


def test_literal_webhook_secret_suggests_a_name() -> None:
    text = "connections:\n  stripe:\n    vendor: stripe\n    webhook: {secrets: [whsec_abc]}\n"
    (problem,) = problems_of(text, {})
    assert "${STRIPE_WEBHOOK_SECRET}" in problem and "whsec_abc" not in problem


def test_resolve_secret_directly() -> None:
    assert resolve_secret("${A}", environ={"A": "x"}).reveal() == "x"
    with pytest.raises(SecretReferenceError) as caught:
        resolve_secret("${A}", environ={})
    assert caught.value.kind == "secret_unresolved"


# --- never shown ---------------------------------------------------------------------------


def loaded() -> Settings:
    text = stripe_with("${STRIPE_API_KEY}") + "    webhook: {secrets: ['${WH}']}\n"
    return parse_settings(text, environ={"STRIPE_API_KEY": VALUE, "WH": "whsec_" + VALUE})


def test_str_repr_format_mask() -> None:
    secret = Secret(VALUE)
    assert str(secret) == MASK == "**********"
    assert repr(secret) == "Secret('**********')"
    assert f"{secret}" == MASK and f"{secret:>12}" == f"{MASK:>12}"
    assert secret.reveal() == VALUE


def test_settings_repr_and_dumps_mask_secrets() -> None:
    settings = loaded()
    conn = settings.connections["stripe"]
    outputs = [
        str(settings),
        repr(settings),
        repr(conn),
        str(settings.model_dump()),
        json.dumps(settings.model_dump(mode="json")),
        settings.model_dump_json(),
        conn.model_dump_json(indent=2),
    ]
    for out in outputs:
        assert VALUE not in out
    assert settings.model_dump()["connections"]["stripe"]["credentials"]["api_key"] == MASK
    assert settings.model_dump(mode="json")["connections"]["stripe"]["webhook"]["secrets"] == [MASK]


def test_raw_validation_error_does_not_echo_a_literal() -> None:
    with pytest.raises(ValidationError) as caught:
        ConnectionSettings.model_validate({"vendor": "stripe", "credentials": {"k": VALUE}})
    assert VALUE not in str(caught.value)
    assert VALUE not in repr(caught.value)


def test_env_values_never_appear_in_errors() -> None:
    # Everything else is broken; the resolved secret must not leak into any message.
    text = (
        stripe_with("${STRIPE_API_KEY}") + "    base_url: nope\n    extra: 1\nserver: {port: x}\n"
    )
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, environ={"STRIPE_API_KEY": VALUE})
    assert VALUE not in str(caught.value)
    assert VALUE not in json.dumps(caught.value.to_dict())


def test_equality_copy_and_no_pickle() -> None:
    assert Secret("a", source="x") == Secret("a", source="y")
    assert Secret("a") != Secret("b")
    assert len({Secret("a"), Secret("a")}) == 1
    secret = Secret(VALUE)
    assert copy.deepcopy(secret) is secret
    settings = loaded()
    assert settings.model_copy(deep=True) == settings
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_secret_needs_a_str() -> None:
    with pytest.raises(TypeError):
        Secret(123)  # type: ignore[arg-type]

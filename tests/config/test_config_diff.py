"""diff_settings: readable changes, secrets compared by value and shown masked."""

from __future__ import annotations

import textwrap

from syncwright.config import MASK, Settings, diff_settings, parse_settings

BASE = """\
engine: {workers: 4}
connections:
  stripe:
    vendor: stripe
    base_url: https://api.stripe.com
    credentials: {api_key: "${KEY_A}"}
    webhook: {secrets: ["${WH_1}"]}
    limits: {timeout_seconds: 30}
  netsuite: {vendor: netsuite}
mappings:
  - {name: stripe_in, connection: stripe, version: 1, path: /m/stripe.yaml}
reconciliation:
  - {name: subs, check: invoices, schedule: 1h, compare: [stripe, netsuite]}
"""

ENV = {
    "KEY_A": "sk_test_AAAA",
    "KEY_B": "sk_test_BBBB",
    "SAME_AS_A": "sk_test_AAAA",
    "WH_1": "whsec_1111",
    "WH_2": "whsec_2222",
}


def load(text: str) -> Settings:
    return parse_settings(textwrap.dedent(text), environ=ENV)


def test_no_changes() -> None:
    assert diff_settings(load(BASE), load(BASE)) == []
    assert diff_settings(Settings(), Settings()) == []


def test_scalar_changes_added_and_removed() -> None:
    after = (
        BASE.replace("workers: 4", "workers: 8")
        .replace("timeout_seconds: 30", "timeout_seconds: 10")
        .replace(
            "  netsuite: {vendor: netsuite}\n",
            "  netsuite: {vendor: netsuite}\n  hub: {vendor: hubspot}\n",
        )
        .replace("version: 1", "version: 2")
        .replace("schedule: 1h", "schedule: '*/5 * * * *'")
    )
    assert diff_settings(load(BASE), load(after)) == [
        "engine.workers: 4 -> 8",
        "connections.stripe.limits.timeout_seconds: 30.0 -> 10.0",
        "connections.hub: added",
        "mappings[stripe_in].version: 1 -> 2",
        'reconciliation[subs].schedule: 3600 -> "*/5 * * * *"',
    ]
    assert diff_settings(load(after), load(BASE))[2] == "connections.hub: removed"


def test_secret_value_change_is_shown_masked() -> None:
    after = load(BASE.replace("${KEY_A}", "${KEY_B}"))
    changes = diff_settings(load(BASE), after)
    assert changes == [
        f"connections.stripe.credentials.api_key: value changed ({MASK}, read from ${{KEY_A}}, "
        "now from ${KEY_B})"
    ]
    assert "sk_test" not in "".join(changes)


def test_secret_same_value_new_source() -> None:
    changes = diff_settings(load(BASE), load(BASE.replace("${KEY_A}", "${SAME_AS_A}")))
    assert changes == [
        f"connections.stripe.credentials.api_key: same value ({MASK}), now read from ${{SAME_AS_A}}"
    ]


def test_webhook_rotation_counts_secrets() -> None:
    rotated = load(BASE.replace('["${WH_1}"]', '["${WH_2}", "${WH_1}"]'))
    changes = diff_settings(load(BASE), rotated)
    assert changes == [
        f"connections.stripe.webhook.secrets: 1 -> 2 secrets (1 added, 0 removed; values {MASK})"
    ]
    assert "whsec" not in "".join(changes)


def test_credential_added_and_removed() -> None:
    after = load(BASE.replace('{api_key: "${KEY_A}"}', '{api_key: "${KEY_A}", other: "${KEY_B}"}'))
    assert diff_settings(load(BASE), after) == ["connections.stripe.credentials.other: added"]


def test_unset_values_are_named() -> None:
    after = load(BASE.replace("    base_url: https://api.stripe.com\n", ""))
    assert diff_settings(load(BASE), after) == [
        'connections.stripe.base_url: "https://api.stripe.com" -> unset'
    ]

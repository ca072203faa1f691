"""``vendor`` comes from the installed connectors; ``options`` are checked against the
connector's declared options model, every problem named by its path."""

from __future__ import annotations

import textwrap

import pytest

from syncwright.config import installed_vendors, parse_settings
from syncwright.errors import ConfigError


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_settings(textwrap.dedent(text))
    return raised.value.problems


def test_a_vendor_without_an_installed_connector_names_the_installed_ones() -> None:
    problems = problems_of(
        """
        connections:
          crm: {vendor: pipedrive}
        """
    )
    assert problems == [
        "connections.crm.vendor: no connector installed for vendor 'pipedrive'; installed: "
        + ", ".join(installed_vendors())
        + " (line 3)"
    ]


def test_a_near_miss_vendor_gets_a_suggestion() -> None:
    (problem,) = problems_of("connections:\n  crm: {vendor: salesforse}\n")
    assert "did you mean 'salesforce'?" in problem


def test_bad_options_are_reported_with_their_path() -> None:
    problems = problems_of(
        """
        connections:
          stripe:
            vendor: stripe
            options: {poll_page_size: 0, prices: {gold: 5}, pol_interval_seconds: 5}
          sf:
            vendor: salesforce
            options: {poll_streams: [cdc, pubsub], cdc_start_replay_id: -3}
          zd:
            vendor: zendesk
            options: {tiers: [premium]}
          ns:
            vendor: netsuite
            options: {validation: {fallback: maybe, deadline_seconds: 0}}
        """
    )
    text = "\n".join(problems)
    assert "connections.stripe.options.poll_page_size: must be at least 1" in text
    assert "connections.stripe.options.prices.gold: must be a string" in text
    assert (
        "connections.stripe.options.pol_interval_seconds: unknown option for vendor 'stripe'; "
        "allowed here: role, poll_interval_seconds, default_subsidiary" in text
    )
    assert "connections.sf.options.poll_streams[1]: unknown value 'pubsub'" in text
    assert "connections.sf.options.cdc_start_replay_id: must be at least -2" in text
    assert "connections.zd.options.tiers: must be a mapping (key: value pairs)" in text
    assert "connections.ns.options.validation.fallback: unknown value 'maybe'" in text
    assert "connections.ns.options.validation.deadline_seconds: must be greater than 0" in text
    assert len(problems) == 8


def test_options_that_fit_the_model_are_accepted() -> None:
    settings = parse_settings(
        textwrap.dedent(
            """
            connections:
              ns:
                vendor: netsuite
                options:
                  role: erp
                  account: TSTDRV1
                  subsidiaries: {Parent Company: 1}
                  tax_codes: {1: "-7"}
                  validation: {deadline_seconds: 1.5, fallback: allow}
            """
        )
    )
    assert settings.connections["ns"].options["subsidiaries"] == {"Parent Company": 1}


def test_the_json_schema_describes_each_vendors_options() -> None:
    from syncwright.config import settings_json_schema

    schema = settings_json_schema()
    rules = schema["$defs"]["ConnectionSettings"]["allOf"]
    by_vendor = {
        rule["if"]["properties"]["vendor"]["const"]: rule["then"]["properties"]["options"]["$ref"]
        for rule in rules
    }
    assert set(by_vendor) == set(installed_vendors())
    stripe = schema["$defs"][by_vendor["stripe"].removeprefix("#/$defs/")]
    assert stripe["additionalProperties"] is False
    assert stripe["properties"]["poll_page_size"]["minimum"] == 1
    assert {"role", "poll_interval_seconds"} <= set(stripe["properties"])
    netsuite = schema["$defs"][by_vendor["netsuite"].removeprefix("#/$defs/")]
    assert "validation" in netsuite["properties"]

"""``routing:``: rules are typed, name defined connections of their role, are not shadowed, and
book only legal entities their connection can place."""

from __future__ import annotations

import textwrap

import pytest

from syncwright.config import Settings, parse_settings
from syncwright.errors import ConfigError

CONNECTIONS = """\
connections:
  ns_home:
    vendor: netsuite
    options: {role: erp, account: "1", subsidiaries: {"Parent Company": 1}}
  ns_apac:
    vendor: netsuite
    options: {role: erp, account: "2", subsidiaries: {"Syncwright KK": 4}}
  stripe:
    vendor: stripe
    options: {role: billing}
"""


def parse(routing: str, connections: str = CONNECTIONS) -> Settings:
    return parse_settings(connections + textwrap.dedent(routing))


def problems_of(routing: str, connections: str = CONNECTIONS) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse(routing, connections)
    return caught.value.problems


def test_rules_parse_in_order() -> None:
    settings = parse(
        """\
        routing:
          erp:
            - name: japan
              when: {billing_country: [JP], currency: [JPY]}
              connection: ns_apac
              subsidiary: syncwright kk
              currencies: [JPY]
            - {name: rest, connection: ns_home}
        """
    )
    japan, rest = settings.routing["erp"]
    assert (japan.name, japan.connection, japan.subsidiary) == ("japan", "ns_apac", "syncwright kk")
    assert japan.when.billing_country == ["JP"] and japan.currencies == ["JPY"]
    assert rest.when.billing_country is None and rest.currencies is None


def test_unknown_connection_wrong_role_and_duplicate_name() -> None:
    problems = "\n".join(
        problems_of(
            """\
            routing:
              erp:
                - {name: a, connection: ns_nowhere}
                - {name: a, when: {currency: [EUR]}, connection: stripe}
            """
        )
    )
    assert "routing.erp[0].connection: unknown connection 'ns_nowhere'" in problems
    assert "routing.erp[1].connection: connection 'stripe' has options.role 'billing'" in problems
    assert "routing.erp[1].name: rule name 'a' is already used at routing.erp[0]" in problems


def test_shadowed_rules_are_refused() -> None:
    problems = problems_of(
        """\
        routing:
          erp:
            - {name: asia, when: {billing_country: [JP, KR]}, connection: ns_apac}
            - {name: japan-yen, when: {billing_country: [JP], currency: [JPY]}, connection: ns_home}
            - {name: all, connection: ns_home}
            - {name: late, when: {currency: [USD]}, connection: ns_home}
        """
    )
    assert problems == [
        "routing.erp[1]: rule 'japan-yen' never applies: rule 'asia' (routing.erp[0]) comes "
        "first and matches every account it matches; put the narrower rule first or remove "
        "one (line 14)",
        "routing.erp[3]: rule 'late' never applies: rule 'all' (routing.erp[2]) comes first and "
        "matches every account it matches; put the narrower rule first or remove one (line 16)",
    ]


def test_a_narrower_rule_first_is_fine() -> None:
    settings = parse(
        """\
        routing:
          erp:
            - {name: japan-yen, when: {billing_country: [JP], currency: [JPY]}, connection: ns_apac}
            - {name: asia, when: {billing_country: [JP, KR]}, connection: ns_apac}
        """
    )
    assert [r.name for r in settings.routing["erp"]] == ["japan-yen", "asia"]


def test_legal_entity_must_be_mapped_on_the_connection() -> None:
    (problem,) = problems_of(
        """\
        routing:
          erp:
            - {name: japan, connection: ns_home, subsidiary: Syncwright KK}
        """
    )
    assert problem.startswith(
        "routing.erp[0].subsidiary: legal entity 'Syncwright KK' is not under "
        "connections.ns_home.options.subsidiaries (Parent Company)"
    )


def test_legal_entity_needs_a_subsidiary_map_on_netsuite() -> None:
    (problem,) = problems_of(
        """\
        routing:
          erp:
            - {name: home, connection: ns_home, subsidiary: Parent Company}
        """,
        connections=CONNECTIONS.replace(', subsidiaries: {"Parent Company": 1}', ""),
    )
    assert problem.startswith(
        "routing.erp[0].subsidiary: connections.ns_home.options.subsidiaries is not set"
    )


def test_codes_are_checked() -> None:
    problems = "\n".join(
        problems_of(
            """\
            routing:
              erp:
                - {name: x, when: {billing_country: [jp], currency: [yen]}, connection: ns_home,
                   currencies: [], colour: red}
            """
        )
    )
    assert "routing.erp[0].when.billing_country[0]" in problems
    assert "routing.erp[0].when.currency[0]" in problems
    assert "routing.erp[0].currencies" in problems
    assert "routing.erp[0].colour" in problems


def test_only_routed_roles_are_accepted() -> None:
    (problem,) = problems_of(
        """\
        routing:
          crm:
            - {name: all, connection: ns_home}
        """
    )
    assert problem == "routing.crm: unknown name 'crm' (one of: erp) (line 12)"

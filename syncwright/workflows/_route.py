"""Which connections of a role a workflow writes an account's documents to (``routing:``).

Every workflow asks here instead of listing ``connections_with_role`` itself, so routing by
legal entity or region lives in one place. A role without rules under ``routing:`` keeps the
simple answer: every connection with the role and the action. A role with rules gets, for each
account, the connection of the first rule that matches it, and optionally the legal entity that
books it there (:meth:`Route.account`: it replaces the account's own ``subsidiary`` in what is
written, so the NetSuite connector's ``options.subsidiaries`` stays the one table from a legal
entity to a subsidiary id).

The decision is a durable step (``route.<role>``): it reads the account's facts (billing
country, currency, legal entity) from the account the caller holds, else from the canonical
state the policy gate keeps, else fresh from a connection that knows the account, and records
its answer, so a replayed or resumed run writes to the same place. An account no rule matches,
and a document in a currency its legal entity does not book (FX is never invented), park the run
with remediation: nothing is sent anywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from syncwright.config import RoutingRule
from syncwright.config._routing import MATCH_KEYS
from syncwright.connectors import Connector
from syncwright.engine import RetryPolicy, StepContext, StepPolicy, WorkflowRun
from syncwright.errors import BusinessRuleError

__all__ = ["Route", "account_facts", "route_account", "targets_for_account"]

# A lookup reads our own tables (and at worst one vendor read): short, a few quick retries.
ROUTE_LOOKUP = StepPolicy(
    timeout_seconds=15.0,
    retry=RetryPolicy(max_attempts=5, base_delay_seconds=0.2, max_delay_seconds=5.0),
)


@dataclass(frozen=True)
class Route:
    """One target of an account: the connection, the rule that chose it (None: no rules for
    the role) and the legal entity that books the account there (None: the account's own)."""

    target: Connector
    rule: str | None = None
    subsidiary: str | None = None

    def account(self, account: Mapping[str, Any]) -> dict[str, Any]:
        """The canonical account as this target must receive it."""
        if self.subsidiary is None:
            return dict(account)
        return {**account, "subsidiary": self.subsidiary}


def account_facts(account: Mapping[str, Any] | None) -> dict[str, str | None]:
    """What routing rules match on, from a canonical account (missing facts are None)."""
    account = account or {}
    bill_to = account.get("bill_to")
    country = bill_to.get("country") if isinstance(bill_to, Mapping) else None
    return {
        "billing_country": country,
        "currency": account.get("currency"),
        "legal_entity": account.get("subsidiary"),
    }


def _matches(rule: RoutingRule, facts: Mapping[str, str | None]) -> bool:
    for key in MATCH_KEYS:
        wanted: list[str] | None = getattr(rule.when, key)
        if wanted and facts.get(key) not in wanted:
            return False
    return True


def _known_account(ctx: StepContext, account_id: str) -> dict[str, Any] | None:
    """The account as the canonical state holds it, else read from a connection that knows it
    (the cross-reference has its native id there), else None."""
    stored = ctx.services.policy_store.get_state("account", account_id)
    if stored is not None:
        return dict(stored.data)
    for name, connector in ctx.services.connectors.items():
        if connector.can("read_account") and ctx.services.xref.native_id_for(
            "account", account_id, name
        ):
            found: dict[str, Any] = connector.action("read_account").run(ctx, name, account_id)
            return found
    return None


def decide_routes(
    ctx: StepContext,
    role: str,
    action: str,
    account_id: str | None,
    account: dict[str, Any] | None,
    currency: str | None,
) -> dict[str, Any]:
    """The step: the first matching rule's target, or a park with what to change."""
    rules: list[RoutingRule] = list(ctx.services.settings.routing.get(role, []))
    if account is None and account_id is not None:
        account = _known_account(ctx, account_id)
    facts = account_facts(account)
    described = ", ".join(f"{k}={v or 'unknown'}" for k, v in facts.items())
    rule = next((r for r in rules if _matches(r, facts)), None)
    if rule is None:
        raise BusinessRuleError(
            f"account {account_id} matches no routing.{role} rule ({described})",
            code="routing.no_route",
            remediation=f"Add a rule to routing.{role} in syncwright.yaml that matches this "
            f"account ({described}), or a catch-all rule without `when`, or correct the "
            "account's billing country, currency or legal entity at its source; then restart "
            "and retry this exception.",
        )
    if currency and rule.currencies and currency not in rule.currencies:
        raise BusinessRuleError(
            f"routing.{role} rule {rule.name!r} books in {', '.join(rule.currencies)}, not "
            f"{currency} (account {account_id})",
            code="routing.currency_not_booked",
            remediation=f"syncwright never converts currencies. If legal entity "
            f"{rule.subsidiary or 'of this rule'} books {currency}, add {currency} to the "
            f"`currencies` of rule {rule.name!r} (and to the connection's options.currencies); "
            "otherwise route this account to an entity that bills in "
            f"{currency}, or bill it in a booked currency; then retry this exception.",
        )
    target = ctx.services.connection(rule.connection)
    if not target.can(action):
        raise BusinessRuleError(
            f"routing.{role} rule {rule.name!r} sends account {account_id} to "
            f"{rule.connection!r}, which cannot {action}",
            code="routing.target_cannot",
            remediation=f"Route this account to a {role} connection that can {action} "
            f"(routing.{role}), then retry this exception.",
        )
    return {
        "routes": [
            {"connection": rule.connection, "rule": rule.name, "subsidiary": rule.subsidiary}
        ],
        "facts": facts,
        "ledger": {"entity_type": "account", "global_id": account_id},
    }


def route_account(
    run: WorkflowRun,
    role: str,
    action: str,
    account_id: str | None,
    *,
    account: Mapping[str, Any] | None = None,
    currency: str | None = None,
) -> list[Route]:
    """The targets of ``account_id`` for ``action`` (see the module doc). ``account`` is the
    canonical account when the caller holds it; ``currency`` the document's currency, checked
    against the chosen rule's ``currencies``."""
    rules = run.services.settings.routing.get(role)
    if not rules:
        found: list[Connector] = run.services.connections_with_role(role)
        return [Route(target) for target in found if target.can(action)]
    decided = run.step(
        f"route.{role}",
        decide_routes,
        role,
        action,
        account_id,
        dict(account) if account is not None else None,
        currency,
        policy=ROUTE_LOOKUP,
    )
    return [
        Route(run.services.connection(r["connection"]), r["rule"], r["subsidiary"])
        for r in decided["routes"]
    ]


def targets_for_account(
    run: WorkflowRun, role: str, action: str, account_id: str | None, currency: str | None = None
) -> list[Connector]:
    """The connections with ``options.role: role`` that do ``action`` for ``account_id`` (for
    writes that carry no legal entity; a customer write takes :func:`route_account`'s
    :meth:`Route.account`)."""
    return [
        route.target for route in route_account(run, role, action, account_id, currency=currency)
    ]

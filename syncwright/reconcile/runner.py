"""Runs a reconciliation rule: read both systems through their connectors, compare record by
record, store the run with its drift and totals, and -- where the rule allows -- heal each
missing or different record by re-sending it from the system of record into the inbox, so the
workflow that should have fixed it runs again (idempotent writes make that safe)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from syncwright.config import ReconciliationRule
from syncwright.errors import ConfigError, SyncwrightError
from syncwright.reconcile.checks import ACCOUNT_CHECKS, known_to, only_fields, with_tiers
from syncwright.reconcile.compare import Comparison, Drift, compare, keyed
from syncwright.reconcile.runs import RunStore
from syncwright.reconcile.snapshot import SnapshotRecord, SnapshotSource

if TYPE_CHECKING:
    from syncwright.runtime import Runtime

log = logging.getLogger("syncwright.reconcile")

#: ``progress(side, records_read)``: called as each system's records are read.
Progress = Callable[[str, int], None]


class UnknownRule(LookupError):
    pass


@dataclass(frozen=True)
class RunResult:
    run_id: str
    rule: str
    status: str
    report: dict[str, Any]

    @property
    def drift_count(self) -> int:
        return int(self.report["counts"]["drift"])


def _source(runtime: Runtime, connection: str, rule: str) -> SnapshotSource:
    connector = runtime.connectors.get(connection)
    if connector is None:
        raise ConfigError(
            f"reconciliation rule {rule!r} compares {connection!r}, which is not an enabled "
            "connection",
            code="config.reconcile_connection",
            problems=[f"reconciliation[{rule}].compare: enable connections.{connection}"],
        )
    if not isinstance(connector, SnapshotSource):
        raise ConfigError(
            f"connection {connection!r} ({connector.vendor}) cannot be reconciled yet",
            code="config.reconcile_unsupported",
            problems=[
                f"reconciliation[{rule}].compare: {connector.vendor} has no reconciliation "
                "reader; supported today: stripe (invoices, subscriptions, entitlements, "
                "crm_standing), netsuite (invoices, subscriptions), zendesk (entitlements), "
                "salesforce (crm_standing)"
            ],
        )
    return connector


def _counted(
    records: Iterator[SnapshotRecord], side: str, progress: Progress | None
) -> Iterator[SnapshotRecord]:
    for count, record in enumerate(records, start=1):
        if progress is not None and count % 50 == 0:
            progress(side, count)
        yield record


class Reconciler:
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self.runs = RunStore(runtime.db)
        self.rules = {rule.name: rule for rule in runtime.settings.reconciliation}

    def check_rules(self) -> None:
        """Every rule's connections exist and can read its check (called at worker start-up)."""
        for rule in self.rules.values():
            for connection in rule.compare:
                source = _source(self._runtime, connection, rule.name)
                can = getattr(source, "reconcile_datasets", None)
                if can is not None and rule.check not in can:
                    raise ConfigError(
                        f"reconciliation rule {rule.name!r}: connection {connection!r} cannot "
                        f"be reconciled on {rule.check!r}",
                        code="config.reconcile_unsupported",
                        problems=[
                            f"reconciliation[{rule.name}].compare: {connection} reads "
                            f"{', '.join(can)}, not {rule.check}"
                        ],
                    )

    def rule(self, name: str) -> ReconciliationRule:
        found = self.rules.get(name)
        if found is None:
            known = ", ".join(sorted(self.rules)) or "none are configured"
            raise UnknownRule(f"no reconciliation rule {name!r} (configured: {known})")
        return found

    def run(
        self,
        name: str,
        *,
        heal: bool | None = None,
        run_id: str | None = None,
        progress: Progress | None = None,
        actor: str | None = None,
    ) -> RunResult | None:
        """Run rule ``name`` now. ``heal`` overrides the rule's own setting. With ``run_id``
        (a scheduled slot), returns ``None`` when another worker has taken that slot.
        ``actor`` (who asked: a token's name, ``cli:<user>``) is kept in the report as
        ``requested_by``; scheduled runs have none."""
        rule = self.rule(name)
        started = self.runs.start(rule.name, run_id=run_id)
        if started is None:
            return None
        try:
            report = self._compare_and_heal(rule, rule.heal if heal is None else heal, progress)
        except SyncwrightError as exc:
            report = {"error": {"code": exc.code, "message": str(exc)}, **_requested_by(actor)}
            self.runs.finish(started, "failed", 0, report)
            log.warning("reconciliation %s failed: %s", rule.name, exc.code)
            return RunResult(started, rule.name, "failed", {**report, "counts": {"drift": 0}})
        report.update(_requested_by(actor))
        status = "drift" if report["counts"]["drift"] else "clean"
        self.runs.finish(started, status, report["counts"]["drift"], report)
        return RunResult(started, rule.name, status, report)

    def _compare_and_heal(
        self, rule: ReconciliationRule, heal: bool, progress: Progress | None
    ) -> dict[str, Any]:
        source_name, target_name = rule.compare
        source = _source(self._runtime, source_name, rule.name)
        target = _source(self._runtime, target_name, rule.name)
        xref = self._runtime.xref
        source_records = _counted(source.snapshot(rule.check), "source", progress)
        target_records = _counted(target.snapshot(rule.check), "target", progress)
        if rule.check in ACCOUNT_CHECKS:
            source_records = known_to(source_records, xref, target_name)
        if rule.check == "entitlements":
            options = self._runtime.settings.connections[target_name].options
            source_records = with_tiers(source_records, options, xref)
        comparison = compare(
            rule.check,
            keyed(only_fields(source_records, rule.fields), source_name, xref.global_id_for),
            keyed(only_fields(target_records, rule.fields), target_name, xref.global_id_for),
            source_name=source_name,
            target_name=target_name,
        )
        if heal:
            for drift in comparison.drift:
                self._heal(rule, source, source_name, drift)
        return _report(rule, heal, comparison)

    def _heal(
        self, rule: ReconciliationRule, source: SnapshotSource, connection: str, drift: Drift
    ) -> None:
        if drift.kind == "extra" or drift.source_id is None:
            return  # never deleted automatically: see the drift's remediation
        reason = f"reconciliation {rule.name}: {drift.kind} {drift.entity_type} {drift.key}"
        events = source.reemit(rule.check, drift.source_id, reason)
        if not events:
            drift.remediation += f" {connection} has nothing to re-send for it."
        for event in events:
            accepted = self._runtime.inbox.accept(
                connection=connection,
                vendor_event_id=event.vendor_event_id,
                event_type=event.event_type,
                body=event.body,
                origin="reconcile",
            )
            if not accepted.duplicate:
                drift.healed.append(event.vendor_event_id)


def _report(rule: ReconciliationRule, heal: bool, comparison: Comparison) -> dict[str, Any]:
    kinds = {"missing": 0, "extra": 0, "different": 0}
    for drift in comparison.drift:
        kinds[drift.kind] += 1
    return {
        "rule": rule.name,
        "check": rule.check,
        "source": rule.compare[0],
        "target": rule.compare[1],
        "heal": heal,
        "counts": {
            "source": comparison.source_count,
            "target": comparison.target_count,
            "drift": len(comparison.drift),
            **kinds,
            "healed": sum(1 for d in comparison.drift if d.healed),
        },
        "drift": [d.as_json() for d in comparison.drift],
        "totals": [t.as_json() for t in comparison.totals],
    }


def _requested_by(actor: str | None) -> dict[str, str]:
    return {} if actor is None else {"requested_by": actor}

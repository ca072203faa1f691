"""Business figures: what operations people ask first, read from the database.

Every figure is computed from durable state at the moment it is asked for -- our tables
(ledger, exceptions) and the engine's run status (``syncwright.engine.open_runs``) -- so every
process (API, worker, console, CLI) reports the same truth. ``/metrics`` exposes them as
gauges (``syncwright/telemetry/metrics.py``); the console shows the same numbers.

Definitions (docs/telemetry.md has the long form):

- *orders awaiting ERP validation*: ``deal.onboard`` runs not finished whose master-data
  validation (``validate.master_data``) has not yet passed: queued, validating, retrying, or
  parked on the ERP's "no" until someone fixes the data.
- *subscriptions pending activation*: subscriptions onboarding created that were not active at
  once, and whose activation (``subscription.activate_in_erp``) or cancellation has not come.
- *invoices blocked by master data*: invoice runs parked on the data -- exception class
  ``value``, ``missing_reference`` or ``business_rule`` (customer, subsidiary, currency, item,
  tax ...) -- not on a connection that kept failing.
- *renewals not yet in the CRM*: ``subscription.renewal_to_crm`` runs not finished.
- *customers in dunning*: customers whose latest collection event in the ERP is a failed
  payment (``mark_dunning``) not followed by a payment applied.
- *open exceptions by class, code and age*: records not resolved, by their class (what kind
  of fix they need, ``syncwright.exceptions.classify``), error code and age bucket.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime

import sqlalchemy as sa

from syncwright._time import as_utc, utcnow
from syncwright.engine import open_run_counts, open_runs
from syncwright.store import Database
from syncwright.store.tables import exceptions, ledger

ONBOARDING = "deal.onboard"
VALIDATION_STEP = "validate.master_data"
ACTIVATION = "subscription.activate_in_erp"
CANCELLATION = "subscription.cancel_in_erp"
RENEWAL_TO_CRM = "subscription.renewal_to_crm"
INVOICE_WORKFLOWS = "invoice.%"
DUNNING = "invoice.dunning_in_erp"
PAYMENT = "invoice.paid_in_erp"
# Exception classes (syncwright.exceptions.classify) a fix of the data resolves.
MASTER_DATA_CLASSES = ("value", "missing_reference", "business_rule")
# A step that reached its target: the write itself, or a probe that found it had landed.
DONE = ("ok", "probe")
ID_BATCH = 500
# Records opened before exceptions had classes.
UNCLASSIFIED = "unclassified"
# Upper bounds (seconds) of the age buckets of open exceptions; the last one is open-ended.
AGE_BUCKETS: tuple[tuple[str, float], ...] = (
    ("lt_1h", 3_600.0),
    ("1h_1d", 86_400.0),
    ("1d_7d", 7 * 86_400.0),
    ("ge_7d", math.inf),
)


@dataclass(frozen=True)
class OpenExceptions:
    """How many exceptions of one class and error code have been open for one age bucket."""

    error_class: str
    code: str
    age: str
    count: int


@dataclass(frozen=True)
class BusinessFigures:
    orders_awaiting_erp_validation: int
    subscriptions_pending_activation: int
    invoices_blocked_by_master_data: int
    renewals_not_in_crm: int
    customers_in_dunning: int
    open_exceptions: tuple[OpenExceptions, ...]

    def as_json(self) -> dict[str, object]:
        return asdict(self)


def business_figures(db: Database, *, now: datetime | None = None) -> BusinessFigures:
    """All business figures at once (one read each)."""
    return BusinessFigures(
        orders_awaiting_erp_validation=orders_awaiting_erp_validation(db),
        subscriptions_pending_activation=subscriptions_pending_activation(db),
        invoices_blocked_by_master_data=invoices_blocked_by_master_data(db),
        renewals_not_in_crm=renewals_not_in_crm(db),
        customers_in_dunning=customers_in_dunning(db),
        open_exceptions=open_exceptions_by_age(db, now=now),
    )


def orders_awaiting_erp_validation(db: Database) -> int:
    waiting = {run_id for run_id, _name, _status in open_runs(db, workflow=ONBOARDING)}
    if not waiting:
        return 0
    validated: set[str] = set()
    ordered = sorted(waiting)
    with db.engine.connect() as conn:
        # In slices: a database binds only so many parameters in one statement.
        for at in range(0, len(ordered), ID_BATCH):
            query = sa.select(ledger.c.workflow_id).where(
                ledger.c.workflow_id.in_(ordered[at : at + ID_BATCH]),
                ledger.c.step == VALIDATION_STEP,
                ledger.c.outcome.in_(DONE),
            )
            validated.update(str(row[0]) for row in conn.execute(query))
    return len(waiting - validated)


def _correlations(conn: sa.Connection, *where: sa.ColumnElement[bool]) -> set[str]:
    return {str(row[0]) for row in conn.execute(sa.select(ledger.c.correlation_id).where(*where))}


def subscriptions_pending_activation(db: Database) -> int:
    onboarding = ledger.c.workflow == ONBOARDING
    created_step = sa.or_(
        ledger.c.step.like("%.create_subscription"),
        ledger.c.step.like("%.create_subscription.probe"),
    )
    running = {run_id for run_id, _name, _status in open_runs(db, workflow=ONBOARDING)}
    with db.engine.connect() as conn:
        created = conn.execute(
            sa.select(ledger.c.workflow_id, ledger.c.correlation_id, ledger.c.global_id).where(
                onboarding,
                created_step,
                ledger.c.outcome.in_(DONE),
                ledger.c.global_id.is_not(None),
            )
        ).all()
        # Active at once: the run went on to show the subscription in the CRM (a branch run
        # shares its parent's correlation id).
        active_at_once = _correlations(
            conn,
            onboarding,
            ledger.c.step.like("%.update_account_billing"),
            ledger.c.outcome.in_(DONE),
        )
        rolled_back = _correlations(
            conn,
            onboarding,
            ledger.c.step.like("%.create_subscription.compensate"),
            ledger.c.outcome == "compensated",
        )
        settled = {
            str(row[0])
            for row in conn.execute(
                sa.select(ledger.c.global_id).where(
                    ledger.c.workflow.in_((ACTIVATION, CANCELLATION)),
                    ledger.c.entity_type == "subscription",
                    ledger.c.outcome.in_(DONE),
                )
            )
        }
    pending = {
        str(global_id)
        for run_id, correlation_id, global_id in created
        if run_id not in running
        and correlation_id not in active_at_once
        and correlation_id not in rolled_back
        and global_id not in settled
    }
    return len(pending)


def invoices_blocked_by_master_data(db: Database) -> int:
    # Parked on the data (its class), not on a connection that kept failing: those park too,
    # after their retries, but fixing data would not help them.
    query = sa.select(sa.func.count(sa.distinct(exceptions.c.workflow_id))).where(
        exceptions.c.status != "resolved",
        exceptions.c.source == "workflow",
        exceptions.c.workflow.like(INVOICE_WORKFLOWS),
        exceptions.c.error_class.in_(MASTER_DATA_CLASSES),
    )
    with db.engine.connect() as conn:
        return int(conn.execute(query).scalar() or 0)


def renewals_not_in_crm(db: Database) -> int:
    return len(open_runs(db, workflow=RENEWAL_TO_CRM))


def _latest_by_entity(conn: sa.Connection, workflow: str, step_suffix: str) -> dict[str, int]:
    query = (
        sa.select(ledger.c.entity_key, sa.func.max(ledger.c.id))
        .where(
            ledger.c.workflow == workflow,
            ledger.c.step.like(f"%.{step_suffix}"),
            ledger.c.outcome.in_(DONE),
            ledger.c.entity_key.is_not(None),
        )
        .group_by(ledger.c.entity_key)
    )
    return {str(key): int(latest) for key, latest in conn.execute(query)}


def customers_in_dunning(db: Database) -> int:
    with db.engine.connect() as conn:
        dunning = _latest_by_entity(conn, DUNNING, "mark_dunning")
        paid = _latest_by_entity(conn, PAYMENT, "apply_payment")
    return sum(1 for key, at in dunning.items() if at > paid.get(key, 0))


def _age_bucket(seconds: float) -> str:
    return next(name for name, upper in AGE_BUCKETS if seconds < upper)


def open_exceptions_by_age(
    db: Database, *, now: datetime | None = None
) -> tuple[OpenExceptions, ...]:
    """Open (not resolved) exceptions by class, error code and age bucket, sorted by class,
    code, then age."""
    now = now or utcnow()
    query = sa.select(exceptions.c.error_class, exceptions.c.code, exceptions.c.created_at).where(
        exceptions.c.status != "resolved"
    )
    with db.engine.connect() as conn:
        counts = Counter(
            (
                str(error_class or UNCLASSIFIED),
                str(code),
                _age_bucket((now - as_utc(created)).total_seconds()),
            )
            for error_class, code, created in conn.execute(query)
        )
    order = {name: index for index, (name, _upper) in enumerate(AGE_BUCKETS)}
    return tuple(
        OpenExceptions(error_class, code, age, count)
        for (error_class, code, age), count in sorted(
            counts.items(), key=lambda kv: (kv[0][0], kv[0][1], order[kv[0][2]])
        )
    )


def queue_depths(db: Database) -> dict[tuple[str, str], int]:
    """Runs not yet finished by (workflow, state): ``queued`` waits for a slot in its queue,
    ``running`` executes, backs off before a retry or waits parked for an operator."""
    states = {"ENQUEUED": "queued", "PENDING": "running"}
    return {(name, states[status]): n for (name, status), n in open_run_counts(db).items()}

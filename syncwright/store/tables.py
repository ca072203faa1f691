"""syncwright's own tables. DBOS keeps its workflow tables beside these; ours are prefixed ``sw_``.

Change a table only together with a new alembic migration in ``migrations/versions``.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL wants BIGINT for long-lived tables.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)

inbox = sa.Table(
    "sw_inbox",
    metadata,
    # The sequence gives workflow ids that sort in arrival order (per-entity order on SQLite).
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("connection", sa.String(100), nullable=False),
    sa.Column("vendor_event_id", sa.String(255), nullable=False),
    sa.Column("event_type", sa.String(255), nullable=False),
    sa.Column("received_at", Timestamp, nullable=False),
    sa.Column("headers", sa.JSON, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("origin", sa.String(20), nullable=False),  # webhook | poll
    sa.Column(
        "status", sa.String(20), nullable=False
    ),  # pending | dispatched | parked | resolved | skipped
    sa.Column("correlation_id", sa.String(64), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text),
    sa.Column("dispatched_at", Timestamp),
    sa.UniqueConstraint("connection", "vendor_event_id", name="uq_sw_inbox_vendor_event"),
)
sa.Index("ix_sw_inbox_status_id", inbox.c.status, inbox.c.id)

security_events = sa.Table(
    "sw_security_events",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("connection", sa.String(100), nullable=False),
    sa.Column("kind", sa.String(50), nullable=False),
    sa.Column("code", sa.String(100), nullable=False),
    sa.Column("remote_addr", sa.String(100)),
    sa.Column("detail", sa.Text),
    # One row per (connection, kind, code, remote_addr) and time window: `at` is the first
    # event of the window, `last_at` the latest, `count` how many (migration 0007_auth).
    sa.Column("window_start", Timestamp),
    sa.Column("last_at", Timestamp),
    sa.Column("count", sa.Integer, nullable=False, server_default="1"),
)
sa.Index(
    "ix_sw_security_events_window",
    security_events.c.connection,
    security_events.c.window_start,
    security_events.c.kind,
    security_events.c.code,
    security_events.c.remote_addr,
)

ledger = sa.Table(
    "sw_ledger",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("correlation_id", sa.String(64), nullable=False),
    sa.Column("workflow_id", sa.String(200)),
    sa.Column("workflow", sa.String(100)),
    # The business entity the run belongs to (e.g. account:<id>): a customer's whole story.
    sa.Column("entity_key", sa.String(120)),
    sa.Column("step", sa.String(100), nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("connection", sa.String(100)),
    sa.Column("entity_type", sa.String(50)),
    sa.Column("global_id", sa.String(64)),
    sa.Column("native_ids", sa.JSON),
    sa.Column("request_digest", sa.String(64)),
    # ok | transient | business | uncertain | probe | compensated | failed | parked | info |
    # skipped (a disabled workflow not started) | timed_out (a run stopped by its time limit)
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("error_code", sa.String(100)),
    sa.Column("message", sa.Text),
    sa.Column("mapping_version", sa.String(50)),
    sa.Column("duration_ms", sa.Float),
    sa.Column("actor", sa.String(150)),  # who acted, for operator actions (migration 0007_auth)
)
sa.Index("ix_sw_ledger_correlation", ledger.c.correlation_id, ledger.c.id)
sa.Index("ix_sw_ledger_workflow", ledger.c.workflow_id)
sa.Index("ix_sw_ledger_entity", ledger.c.entity_key, ledger.c.id)

audit = sa.Table(
    "sw_audit",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("correlation_id", sa.String(64), nullable=False),
    sa.Column("workflow_id", sa.String(200)),
    sa.Column("connection", sa.String(100), nullable=False),
    sa.Column("action", sa.String(100), nullable=False),
    sa.Column("native_id", sa.String(200)),
    sa.Column("amount_minor", sa.BigInteger),
    sa.Column("currency", sa.String(3)),
    sa.Column("payload_digest", sa.String(64), nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False, unique=True),
    # 0005: the chain's own order (1, 2, 3, ...; one entry per number), what kind of entry it is
    # (write | operator), who did it, which step, free detail, and whether the hash is an HMAC.
    sa.Column("seq", sa.BigInteger),
    sa.Column("kind", sa.String(20), nullable=False, server_default="write"),
    sa.Column("actor", sa.String(200)),
    sa.Column("step", sa.String(100)),
    sa.Column("detail", sa.JSON),
    sa.Column("keyed", sa.Boolean, nullable=False, server_default=sa.false()),
)
sa.Index("uq_sw_audit_seq", audit.c.seq, unique=True)
sa.Index("ix_sw_audit_workflow", audit.c.workflow_id, audit.c.action)

# The chain's head, one row (id 1): appending takes its row lock first (UPDATE ... RETURNING),
# so concurrent writers on any host queue and the chain never forks.
audit_head = sa.Table(
    "sw_audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("at", Timestamp),
)

xref = sa.Table(
    "sw_xref",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("entity_type", sa.String(50), nullable=False),
    sa.Column("global_id", sa.String(64), nullable=False),
    sa.Column("system", sa.String(100), nullable=False),
    sa.Column("native_id", sa.String(200), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.UniqueConstraint("system", "entity_type", "native_id", name="uq_sw_xref_native"),
    sa.UniqueConstraint("system", "entity_type", "global_id", name="uq_sw_xref_global"),
)
sa.Index("ix_sw_xref_global", xref.c.entity_type, xref.c.global_id)

exceptions = sa.Table(
    "sw_exceptions",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # open | retrying | resolved
    sa.Column("source", sa.String(20), nullable=False),  # workflow | inbox
    sa.Column("workflow_id", sa.String(200)),
    sa.Column("workflow", sa.String(100)),
    sa.Column("inbox_id", sa.BigInteger),
    sa.Column("correlation_id", sa.String(64), nullable=False),
    sa.Column("connection", sa.String(100)),
    sa.Column("step", sa.String(100)),
    sa.Column("code", sa.String(100), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("remediation", sa.Text, nullable=False),
    sa.Column("details", sa.JSON),
    sa.Column("resolution", sa.Text),
    sa.Column("retries", sa.Integer, nullable=False, server_default="0"),
    # 0005: class (value, missing_reference, ...), the record it is about, who owns it, tags,
    # and what a ``waiting`` record waits for (checked by the worker on a schedule).
    sa.Column("error_class", sa.String(30)),
    sa.Column("record", sa.String(200)),
    sa.Column("assignee", sa.String(200)),
    sa.Column("tags", sa.JSON),
    sa.Column("waiting_on", sa.JSON),
    sa.Column("next_check_at", Timestamp),
)
sa.Index("ix_sw_exceptions_status", exceptions.c.status, exceptions.c.created_at)
sa.Index("ix_sw_exceptions_record", exceptions.c.record)

# What happened to an exception, in order: opened, assigned, tagged, commented, payload edited
# (the previous payload kept here), retried, resolved, waiting, auto-resolved; and by whom.
exception_events = sa.Table(
    "sw_exception_events",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("exception_id", sa.String(40), nullable=False),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(30), nullable=False),
    sa.Column("detail", sa.JSON),
)
sa.Index("ix_sw_exception_events_exception", exception_events.c.exception_id, exception_events.c.id)

cursors = sa.Table(
    "sw_cursors",
    metadata,
    sa.Column("connection", sa.String(100), primary_key=True),
    sa.Column("stream", sa.String(100), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)

canonical_state = sa.Table(
    "sw_canonical_state",
    metadata,
    sa.Column("entity_type", sa.String(50), primary_key=True),
    sa.Column("global_id", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("source_connection", sa.String(100), nullable=False),
    sa.Column("source_time", Timestamp),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    # Per source connection, the source time of the newest event applied from it (staleness),
    # and per event type the digest of the entity it last carried (unchanged re-deliveries).
    sa.Column("versions", sa.JSON),
    sa.Column("applied", sa.JSON),
)

# What syncwright wrote to a system, per entity and canonical field: an inbound change that only
# repeats one of these is our own write coming back (an echo), whatever path it returns by.
write_memory = sa.Table(
    "sw_write_memory",
    metadata,
    sa.Column("connection", sa.String(100), primary_key=True),
    sa.Column("entity_type", sa.String(50), primary_key=True),
    sa.Column("global_id", sa.String(64), primary_key=True),
    sa.Column("field", sa.String(100), primary_key=True),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("workflow_id", sa.String(200)),
    sa.Column("written_at", Timestamp, nullable=False),
)

# Changes the policy held back: ownership violations, echoes, stale and unchanged events.
policy_decisions = sa.Table(
    "sw_policy_decisions",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),  # ownership | echo | stale | unchanged
    sa.Column("connection", sa.String(100), nullable=False),  # the writer
    sa.Column("entity_type", sa.String(50), nullable=False),
    sa.Column("global_id", sa.String(64), nullable=False),
    sa.Column("field", sa.String(100)),
    sa.Column("owner", sa.String(200)),
    sa.Column("event_type", sa.String(255), nullable=False),
    sa.Column("event_id", sa.String(255), nullable=False),
    sa.Column("inbox_id", sa.BigInteger),
    sa.Column("correlation_id", sa.String(64), nullable=False),
    sa.Column("detail", sa.Text),
)
sa.Index("ix_sw_policy_decisions_kind_at", policy_decisions.c.kind, policy_decisions.c.at)

reconciliation_runs = sa.Table(
    "sw_reconciliation_runs",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("rule", sa.String(100), nullable=False),
    sa.Column("started_at", Timestamp, nullable=False),
    sa.Column("finished_at", Timestamp),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("drift_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("report", sa.JSON),
)

# Workers that run workflows, and their heartbeats: a live one takes over the pending runs of
# one whose heartbeat went stale (``taken_over_by`` makes that happen exactly once).
executors = sa.Table(
    "sw_executors",
    metadata,
    sa.Column("executor_id", sa.String(100), primary_key=True),
    sa.Column("application_version", sa.String(100), nullable=False),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("started_at", Timestamp, nullable=False),
    sa.Column("heartbeat_at", Timestamp, nullable=False),
    sa.Column("taken_over_by", sa.String(100)),
    sa.Column("taken_over_at", Timestamp),
    sa.Column("runs_taken_over", sa.Integer, nullable=False, server_default="0"),
)

# Per-connection budgets shared by every process of a deployment (``limits.scope: shared``,
# migration 0013_budgets). Times are seconds since the epoch (float): every process compares
# them with its own clock, so hosts must keep their clocks in step (NTP).
budgets = sa.Table(
    "sw_budgets",
    metadata,
    sa.Column("connection", sa.String(100), primary_key=True),
    # The current rate window: when it began and how many requests started in it.
    sa.Column("window_start", sa.Float, nullable=False, server_default="0"),
    sa.Column("used", sa.Integer, nullable=False, server_default="0"),
    # A vendor's Retry-After: no request to the connection starts before this.
    sa.Column("blocked_until", sa.Float, nullable=False, server_default="0"),
)

# One row per concurrency slot of a connection; a held slot is a lease that expires, so the
# slots of a killed process come back by themselves.
budget_leases = sa.Table(
    "sw_budget_leases",
    metadata,
    sa.Column("connection", sa.String(100), primary_key=True),
    sa.Column("slot", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("holder", sa.String(100)),
    sa.Column("expires_at", sa.Float, nullable=False, server_default="0"),
)

"""Wires one process together from ``Settings``: database, stores, connectors, engine.

Step functions receive this object as ``StepContext.services``.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from syncwright import runtime_limits
from syncwright.config import Settings
from syncwright.connectors import Connector, connector_class
from syncwright.connectors._base.limits import limiter_factory
from syncwright.engine import Engine
from syncwright.errors import ConfigError
from syncwright.exceptions import ExceptionQueue
from syncwright.intake import Inbox
from syncwright.ledger import AuditTrail, Ledger
from syncwright.mapping import load_mapping_set
from syncwright.policy import OwnershipPolicy, PolicyGate, PolicyStore
from syncwright.runtime_budgets import SharedBudgets
from syncwright.runtime_hooks import LedgerHooks
from syncwright.store import Database
from syncwright.telemetry.process import Telemetry, TelemetryHooks
from syncwright.xref import CrossReference

log = logging.getLogger("syncwright.runtime")

# Importing a workflow module registers its workflows with the engine.
WORKFLOW_MODULES = (
    "syncwright.workflows.account_sync",
    "syncwright.workflows.billing_to_erp",
    "syncwright.workflows.onboarding",
    "syncwright.workflows.entitlement_sync",
    "syncwright.workflows.lifecycle",
    "syncwright.workflows.support_cases",
    "syncwright.workflows.erp_source",
    "syncwright.workflows.refunds",
    "syncwright.workflows.renewal",
    "syncwright.workflows.contact_sync",
)


def load_workflow_modules() -> None:
    for module in WORKFLOW_MODULES:
        importlib.import_module(module)


class Runtime:
    def __init__(self, settings: Settings, *, upgrade: bool = True) -> None:
        self.settings = settings
        # The mappings the config names, compiled before anything starts: a bad file stops here.
        self.mappings = load_mapping_set(settings)
        self.db = Database(
            settings.database.url_with_password(), pool_size=max(settings.database.pool_size, 10)
        )
        if upgrade:
            self.db.upgrade()
        self.inbox = Inbox(self.db)
        self.ledger = Ledger(self.db)
        audit_key = settings.audit.key
        self.audit = AuditTrail(self.db, key=audit_key.reveal().encode() if audit_key else None)
        self.xref = CrossReference(self.db)
        self.exceptions = ExceptionQueue(self.db)
        # Connections with ``limits.scope: shared`` get limiters held in this database.
        with limiter_factory(SharedBudgets(self.db.engine).limiters):
            self.connectors: dict[str, Connector] = {
                name: connector_class(conn.vendor)(name, conn)
                for name, conn in settings.connections.items()
                if conn.enabled
            }
        for connector in self.connectors.values():
            connector.bind(self)
        self.policy_store = PolicyStore(self.db)
        self.ownership = OwnershipPolicy(
            settings.ownership,
            {name: c.options.get("role") for name, c in settings.connections.items() if c.enabled},
        )
        self.policy = PolicyGate(self.policy_store, self.ownership, self.ledger)
        self.engine: Engine | None = None
        self.telemetry = Telemetry(settings.telemetry)

    def connection(self, name: str) -> Connector:
        return self.connectors[name]

    def connections_with_role(self, role: str) -> list[Connector]:
        """Connections whose ``options.role`` names them as a target (e.g. ``erp``)."""
        return [
            c
            for name, c in self.connectors.items()
            if self.settings.connections[name].options.get("role") == role
        ]

    def start_engine(self, *, run_workflows: bool = True) -> Engine:
        load_workflow_modules()
        problems = runtime_limits.unknown_workflow_problems(self.settings)
        if problems:
            raise ConfigError("; ".join(problems), problems=problems)
        engine_settings = self.settings.engine
        self.engine = Engine(
            self.db,
            application_version=engine_settings.application_version,
            executor_id=engine_settings.executor_id or "local",
            services=self,
            hooks=TelemetryHooks(
                LedgerHooks(
                    self.ledger, self.exceptions, audit=self.audit, policy=self.policy_store
                ),
                self.telemetry,
                self.connectors,
            ),
            worker_concurrency=engine_settings.workers,
            partition_concurrency=engine_settings.partition_concurrency,
            run_workflows=run_workflows,
            heartbeat_seconds=engine_settings.heartbeat_seconds,
            takeover_after_seconds=engine_settings.takeover_after_seconds,
            connection_retry=runtime_limits.connection_retry(self.settings),
            workflow_limits=runtime_limits.workflow_limits(self.settings),
        ).launch()
        return self.engine

    def close(self) -> None:
        if self.engine is not None:
            self.engine.shutdown()
            self.engine = None
        for connector in self.connectors.values():
            connector.close()
        self.telemetry.close()
        self.db.dispose()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

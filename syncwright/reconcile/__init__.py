"""Reconciliation: rules compare what two systems hold, record by record and as totals per
currency and period; runs are stored with their drift; drift can be healed by re-sending the
record from the system of record through the normal pipeline."""

from syncwright.reconcile.compare import Comparison, Drift, FieldDiff, Total, compare
from syncwright.reconcile.runner import Reconciler, RunResult, UnknownRule
from syncwright.reconcile.runs import RunRecord, RunStore
from syncwright.reconcile.scheduler import ReconcileScheduler
from syncwright.reconcile.snapshot import DATASETS, Dataset, SnapshotRecord, SnapshotSource

__all__ = [
    "DATASETS",
    "Comparison",
    "Dataset",
    "Drift",
    "FieldDiff",
    "ReconcileScheduler",
    "Reconciler",
    "RunRecord",
    "RunResult",
    "RunStore",
    "SnapshotRecord",
    "SnapshotSource",
    "Total",
    "UnknownRule",
    "compare",
]

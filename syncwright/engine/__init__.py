"""The seam over the durable-execution engine (DBOS Transact). No other package imports dbos."""

from syncwright.engine.context import StepContext
from syncwright.engine.engine import Engine, EngineClient, open_run_counts, open_runs
from syncwright.engine.ids import (
    replay_correlation_id,
    replay_fork_id,
    workflow_id_for,
    workflow_prefix_for,
)
from syncwright.engine.policy import RetryPolicy, StepPolicy
from syncwright.engine.workflow import (
    Branch,
    StepHooks,
    WorkflowAborted,
    WorkflowDefinition,
    WorkflowRun,
    registered_workflows,
    workflow,
)

__all__ = [
    "Branch",
    "Engine",
    "EngineClient",
    "RetryPolicy",
    "StepContext",
    "StepHooks",
    "StepPolicy",
    "WorkflowAborted",
    "WorkflowDefinition",
    "WorkflowRun",
    "open_run_counts",
    "open_runs",
    "registered_workflows",
    "replay_correlation_id",
    "replay_fork_id",
    "workflow",
    "workflow_id_for",
    "workflow_prefix_for",
]

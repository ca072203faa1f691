"""The seam over the durable-execution engine (DBOS Transact). No other package imports dbos."""

from syncwright.engine.context import StepContext
from syncwright.engine.engine import Engine, EngineClient
from syncwright.engine.ids import (
    replay_correlation_id,
    replay_fork_id,
    workflow_id_for,
    workflow_prefix_for,
)
from syncwright.engine.policy import RetryPolicy, StepPolicy, policy_for
from syncwright.engine.timeouts import WorkflowLimits
from syncwright.engine.workflow import (
    Branch,
    StepHooks,
    TimedOutRun,
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
    "TimedOutRun",
    "WorkflowAborted",
    "WorkflowDefinition",
    "WorkflowLimits",
    "WorkflowRun",
    "policy_for",
    "registered_workflows",
    "replay_correlation_id",
    "replay_fork_id",
    "workflow",
    "workflow_id_for",
    "workflow_prefix_for",
]

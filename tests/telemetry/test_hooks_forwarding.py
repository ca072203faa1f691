"""The telemetry hooks pass every engine report on to the hooks they wrap (the ledger's), the
ones they measure and every other, including hooks the engine gains later."""

from __future__ import annotations

from typing import Any

from syncwright.config import TelemetrySettings
from syncwright.engine import StepContext, StepHooks, WorkflowRun
from syncwright.errors import BusinessRuleError
from syncwright.telemetry.process import Telemetry, TelemetryHooks

HOOKS = [name for name in vars(StepHooks) if not name.startswith("_")]


class Recording(StepHooks):
    def __init__(self) -> None:
        self.calls: list[str] = []


def _recorder(name: str) -> Any:
    def record(self: Recording, *args: Any, **kwargs: Any) -> str:
        self.calls.append(name)
        return f"{name}-answer"

    return record


for _name in HOOKS:
    setattr(Recording, _name, _recorder(_name))


def test_every_hook_reaches_the_wrapped_hooks() -> None:
    inner = Recording()
    hooks = TelemetryHooks(inner, Telemetry(TelemetrySettings()), ["erp"])
    ctx = StepContext("wf-1", "account.sync_to_erp", "erp.upsert_account", 1, "cor_1", "k", 5, None)
    run = WorkflowRun("wf-1", "account.sync_to_erp", "cor_1", "k", None, hooks)
    error = BusinessRuleError("no", code="x.no", remediation="fix")
    arguments: dict[str, tuple[Any, ...]] = {
        "attempt_finished": (ctx, "ok", None, 1.0),
        "parked": (ctx, error),
        "unparked": (ctx, "retry"),
        "compensated": (ctx, "compensated", None),
        "rolled_back": (ctx, error, []),
        "workflow_started": (run,),
        "workflow_finished": (run, "completed", None),
    }
    for name in HOOKS:
        # A hook added to the engine later is forwarded too (not StepHooks' do-nothing default).
        assert getattr(TelemetryHooks, name) is not getattr(StepHooks, name), name
        if name in arguments:
            getattr(hooks, name)(*arguments[name])
    assert inner.calls == [name for name in HOOKS if name in arguments]
    assert hooks.parked(ctx, error) == "parked-answer"  # answers come back too

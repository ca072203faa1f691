"""Switching a demo emulator's injected faults off while the story reads back what it holds
(the faults are for the sync; a read-back that met one would report the wrong problem)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from syncwright.sandbox import FaultInjector, FaultPlan

__all__ = ["FaultSwitch", "InjectedFaults", "faults_paused"]


class FaultSwitch(Protocol):
    def pause_faults(self) -> FaultPlan:
        """Switch injected faults off; returns the plan to restore."""
        ...

    def restore_faults(self, plan: FaultPlan) -> None: ...

    def faults_injected(self) -> dict[str, int]:
        """Faults the emulator injected so far, by kind."""
        ...


class InjectedFaults:
    """:class:`FaultSwitch` over an emulator's :class:`FaultInjector` (``self.faults``)."""

    faults: FaultInjector

    def pause_faults(self) -> FaultPlan:
        plan = self.faults.plan
        self.faults.configure(FaultPlan())
        return plan

    def restore_faults(self, plan: FaultPlan) -> None:
        self.faults.configure(plan)

    def faults_injected(self) -> dict[str, int]:
        return dict(self.faults.injected)


@contextmanager
def faults_paused(*switches: FaultSwitch) -> Iterator[None]:
    plans = [switch.pause_faults() for switch in switches]
    try:
        yield
    finally:
        for switch, plan in zip(switches, plans, strict=True):
            switch.restore_faults(plan)

"""A pytest plugin: a skipped test fails the run unless its reason names a missing external
service (``pytest.skip(MISSING_SERVICE + "PostgreSQL binaries: apt install postgresql")``).

A skip hides a test that did not run; the only acceptable cause is something outside the
repository that this machine lacks. Everything a test needs that can live in the repository
does (vendor artifacts: ``tests/vendor``), so its absence is a failure, not a skip.
"""

from __future__ import annotations

import pytest

MISSING_SERVICE = "missing external service: "


def _reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


class SkipGuard:
    """Per session: the skips whose reason names no missing external service."""

    def __init__(self) -> None:
        self.unexplained: list[str] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not report.skipped or hasattr(report, "wasxfail"):
            return
        reason = _reason(report)
        if not reason.startswith(MISSING_SERVICE):
            self.unexplained.append(f"{report.nodeid}: {reason}")

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.unexplained:
            return
        terminalreporter.section("skipped without a missing external service", red=True)
        for line in self.unexplained:
            terminalreporter.line(line)
        terminalreporter.line(
            f"A skip must say {MISSING_SERVICE!r}<what is missing>; anything else is a failure."
        )

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.unexplained and exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(SkipGuard(), "syncwright-skip-guard")

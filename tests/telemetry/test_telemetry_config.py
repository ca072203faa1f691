"""The ``telemetry`` keys validate with messages that say what to fix."""

from __future__ import annotations

import pytest

from syncwright.config import parse_settings
from syncwright.errors import ConfigError


def test_defaults() -> None:
    telemetry = parse_settings("{}\n").telemetry
    assert telemetry.log_format == "text" and telemetry.worker_metrics_port is None
    assert telemetry.traces.exporter == "none" and telemetry.traces.endpoint is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "telemetry: {traces: {exporter: console, endpoint: 'http://x:4318/v1/traces'}}\n",
            "endpoint is only used with exporter: otlp",
        ),
        ("telemetry: {log_format: yaml}\n", "telemetry.log_format"),
        ("telemetry: {traces: {exporter: jaeger}}\n", "telemetry.traces.exporter"),
        ("telemetry: {worker_metrics_port: 0}\n", "telemetry.worker_metrics_port"),
    ],
)
def test_bad_values_are_reported(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_settings(text)
    assert any(expected in problem for problem in raised.value.problems), raised.value.problems

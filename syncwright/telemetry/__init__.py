"""Prometheus metrics (technical and business), OpenTelemetry traces and structured logs."""

from syncwright.telemetry.logs import configure_logging
from syncwright.telemetry.metrics import Metrics, serve_worker_metrics

__all__ = ["Metrics", "configure_logging", "serve_worker_metrics"]

"""Prometheus metrics (technical and business) and logging setup."""

from syncwright.telemetry.metrics import Metrics

__all__ = ["Metrics"]

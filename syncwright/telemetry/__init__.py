"""Prometheus metrics (technical and business) and logging setup."""

from syncwright.telemetry.metrics import REGISTRY, render_metrics

__all__ = ["REGISTRY", "render_metrics"]

"""What the templates show, shaped from our records: formatting, exception filters, the trace
timeline, the connections table. No database access here (see ``queries.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from syncwright._time import as_utc, utcnow
from syncwright.config import Settings
from syncwright.console.queries import ConnectionHealth, LimiterUse
from syncwright.exceptions import ExceptionRecord

# --- formatting (Jinja filters) ---------------------------------------------------------------


def when(value: datetime | str | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def clock(value: datetime | str | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime("%H:%M:%S.%f")[:-3]


def ago(value: datetime | None) -> str:
    if value is None:
        return "never"
    seconds = max(0, int((utcnow() - value).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"


def number(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:.2f}"


def since(window: timedelta) -> datetime:
    return utcnow() - window


# --- exceptions -------------------------------------------------------------------------------

STATUSES = ("open", "retrying", "resolved")


@dataclass(frozen=True)
class ExceptionFilters:
    status: str | None = None
    code: str = ""
    workflow: str = ""
    connection: str = ""
    text: str = ""

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> ExceptionFilters:
        status = query.get("status", "open")
        return cls(
            status=status if status in STATUSES else None,
            code=query.get("code", "").strip(),
            workflow=query.get("workflow", "").strip(),
            connection=query.get("connection", "").strip(),
            text=query.get("q", "").strip(),
        )

    def apply(self, records: list[ExceptionRecord]) -> list[ExceptionRecord]:
        def keep(r: ExceptionRecord) -> bool:
            if self.code and self.code not in r.code:
                return False
            if self.workflow and not (r.workflow or "").startswith(self.workflow):
                return False
            if self.connection and r.connection != self.connection:
                return False
            haystack = (r.id, r.correlation_id, r.workflow_id or "", r.message)
            return not self.text or any(self.text in h for h in haystack)

        return [r for r in records if keep(r)]

    def as_query(self) -> str:
        from urllib.parse import urlencode

        return urlencode(
            {
                "status": self.status or "all",
                "code": self.code,
                "workflow": self.workflow,
                "connection": self.connection,
                "q": self.text,
            }
        )


# --- trace timeline ---------------------------------------------------------------------------


@dataclass
class Step:
    started: datetime
    finished: datetime
    kind: str  # delivery | step
    title: str
    workflow: str
    system: str
    outcome: str
    attempt: int
    duration_ms: float | None
    digest: str | None
    detail: str
    native_ids: dict[str, str]
    correlation_id: str
    offset_pct: float = 0.0
    width_pct: float = 0.0


@dataclass
class Timeline:
    key: str
    kind: str
    steps: list[Step]
    systems: dict[str, list[str]]
    exceptions: list[dict[str, Any]]
    correlation_ids: list[str] = field(default_factory=list)

    @property
    def total_ms(self) -> float:
        if not self.steps:
            return 0.0
        first = min(s.started for s in self.steps)
        last = max(s.finished for s in self.steps)
        return (last - first).total_seconds() * 1000.0


def timeline(found: Mapping[str, Any]) -> Timeline:
    """Deliveries and step attempts of a trace on one time axis; each bar starts when the step
    began (its ledger time less its duration) and spans its duration."""
    steps: list[Step] = []
    for d in found["deliveries"]:
        at = as_utc(datetime.fromisoformat(d["received_at"]))
        steps.append(
            Step(
                started=at,
                finished=at,
                kind="delivery",
                title=f"received {d['event_type']}",
                workflow="",
                system=str(d["connection"]),
                outcome=str(d["status"]),
                attempt=1,
                duration_ms=None,
                digest=None,
                detail=str(d["vendor_event_id"]),
                native_ids={},
                correlation_id=str(d["correlation_id"]),
            )
        )
    for e in found["ledger"]:
        finished = as_utc(datetime.fromisoformat(e["at"]))
        duration = e.get("duration_ms")
        started = finished - timedelta(milliseconds=duration or 0.0)
        steps.append(
            Step(
                started=started,
                finished=finished,
                kind="step",
                title=str(e["step"]),
                workflow=str(e.get("workflow") or ""),
                system=str(e.get("connection") or "syncwright"),
                outcome=str(e["outcome"]),
                attempt=int(e["attempt"]),
                duration_ms=duration,
                digest=e.get("request_digest"),
                detail=" ".join(x for x in (e.get("error_code"), e.get("message")) if x),
                native_ids={str(k): str(v) for k, v in (e.get("native_ids") or {}).items()},
                correlation_id=str(e["correlation_id"]),
            )
        )
    steps.sort(key=lambda s: (s.started, s.kind != "delivery"))
    if steps:
        first = steps[0].started
        span = max((max(s.finished for s in steps) - first).total_seconds(), 0.001)
        for s in steps:
            s.offset_pct = 100.0 * (s.started - first).total_seconds() / span
            s.width_pct = max(0.6, 100.0 * (s.finished - s.started).total_seconds() / span)
            s.offset_pct = min(s.offset_pct, 100.0 - s.width_pct)
    return Timeline(
        key=str(found["key"]),
        kind=str(found["kind"]),
        steps=steps,
        systems={k: list(v) for k, v in found["systems"].items()},
        exceptions=list(found["exceptions"]),
        correlation_ids=sorted({s.correlation_id for s in steps}),
    )


# --- connections ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CredentialStatus:
    name: str
    reference: str  # where the value comes from (${ENV} or file:), never the value
    status: str  # configured | ok | failing


@dataclass(frozen=True)
class ConnectionRow:
    name: str
    vendor: str
    base_url: str
    role: str
    enabled: bool
    health: ConnectionHealth | None
    limiter: LimiterUse | None
    limits: dict[str, Any]
    credentials: list[CredentialStatus]
    webhook_secrets: int


def connection_rows(
    settings: Settings,
    health: Mapping[str, ConnectionHealth],
    limiters: Mapping[str, LimiterUse],
) -> list[ConnectionRow]:
    rows: list[ConnectionRow] = []
    for name, conn in sorted(settings.connections.items()):
        seen = health.get(name)
        # Calls that reached the vendor and succeeded prove the credentials work.
        proven = "ok" if seen is not None and seen.last_ok is not None else "configured"
        if seen is not None and seen.state == "failing" and "auth" in (seen.last_error_code or ""):
            proven = "failing"
        rows.append(
            ConnectionRow(
                name=name,
                vendor=conn.vendor,
                base_url=conn.base_url or "-",
                role=str(conn.options.get("role", "-")),
                enabled=conn.enabled,
                health=seen,
                limiter=limiters.get(name),
                limits={
                    "concurrency": conn.limits.concurrency,
                    "requests/s": conn.limits.requests_per_second,
                    "timeout s": conn.limits.timeout_seconds,
                    "max attempts": conn.limits.retry.max_attempts,
                },
                credentials=[
                    CredentialStatus(key, secret.source, proven)
                    for key, secret in sorted(conn.credentials.items())
                ],
                webhook_secrets=len(conn.webhook.secrets),
            )
        )
    return rows

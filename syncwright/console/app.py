"""The console's pages: sign-in, overview, trace, exceptions, connections, reconciliation.

Server-rendered Jinja2 templates; htmx (vendored in ``static/``) refreshes the overview and
swaps filtered tables without a front-end build. Every page needs a session (sign in with an
API token from ``auth.tokens``); every form and htmx request that changes something carries the
session's CSRF token, and operator actions are refused to viewers with a 403 page.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from syncwright.api.auth import Principal, Role, TokenRegistry
from syncwright.console import views
from syncwright.console.charts import bar_chart
from syncwright.console.queries import OverviewQueries
from syncwright.console.session import (
    COOKIE_NAME,
    CSRF_FIELD,
    CSRF_HEADER,
    SIGN_IN_COOKIE_NAME,
    Session,
    SessionStore,
)
from syncwright.exceptions import ExceptionAlreadyResolved, ExceptionService, UnknownException
from syncwright.exceptions.service import NotEditable, ResumeSender
from syncwright.reconcile import RunStore
from syncwright.runtime import Runtime
from syncwright.trace import build_trace

_HERE: Final = Path(__file__).parent
STATIC_PATH: Final = "/static/console"
WINDOWS: Final[dict[str, timedelta]] = {
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "24h": timedelta(days=1),
    "7d": timedelta(days=7),
}
# No inline script or style anywhere: the pages work under a strict policy.
_SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class _SignInRequired(Exception):
    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class _Refused(Exception):
    def __init__(self, status: int, title: str, message: str) -> None:
        self.status, self.title, self.message = status, title, message


@dataclass(frozen=True)
class ConsoleConfig:
    """What the console needs from the process that serves it."""

    runtime: Runtime
    resume: ResumeSender
    tokens: TokenRegistry
    sessions: SessionStore


def _templates() -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(_HERE / "templates"),
        autoescape=select_autoescape(("html",)),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        when=views.when, clock=views.clock, ago=views.ago, ms=views.ms, number=views.number
    )
    env.globals.update(chart=bar_chart, static=STATIC_PATH, csrf_field=CSRF_FIELD)
    return Jinja2Templates(env=env)


def safe_next(value: str | None) -> str:
    """Only a path on this server: never an open redirect to another site. Browsers drop tabs
    and newlines from URLs and read a backslash as a slash, so ``/<tab>/evil`` would become
    ``//evil``: such characters make the path unsafe too."""
    if (
        value
        and value.startswith("/")
        and not value.startswith("//")
        and "\\" not in value
        and all(c.isprintable() and not c.isspace() for c in value)
    ):
        return value
    return "/"


def _is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def mount_console(app: FastAPI, config: ConsoleConfig) -> None:
    """Add the console's pages at ``/`` and its static files under ``/static/console``."""
    templates = _templates()
    runtime, sessions = config.runtime, config.sessions
    queries = OverviewQueries(runtime)
    service = ExceptionService(
        runtime.exceptions, runtime.inbox, config.resume, ledger=runtime.ledger, audit=runtime.audit
    )
    router = APIRouter(include_in_schema=False)

    def render(
        request: Request,
        template: str,
        session: Session | None,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        response = templates.TemplateResponse(
            request,
            template,
            {"session": session, "path": request.url.path, **context},
            status_code=status,
        )
        response.headers.update({**_SECURITY_HEADERS, **(headers or {})})
        return response

    def session_of(request: Request) -> Session | None:
        return sessions.get(request.cookies.get(COOKIE_NAME))

    def signed_in(request: Request) -> Session:
        session = session_of(request)
        if session is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise _SignInRequired(target)
        return session

    async def acting(request: Request, role: Role) -> tuple[Session, Any]:
        """A state-changing request: signed in, CSRF token matches, role suffices."""
        session = signed_in(request)
        form = await request.form()
        presented = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD)
        if not session.csrf_ok(presented if isinstance(presented, str) else None):
            raise _Refused(
                403,
                "Form expired",
                "This form did not carry a valid security token (it may be from an older "
                "session). Reload the page and try again.",
            )
        if not session.principal.can(role):
            raise _Refused(
                403,
                "Not allowed",
                f"{session.principal.name} signs in as a {session.principal.role}; this action "
                f"needs the {role} role. Ask an administrator for an operator token.",
            )
        return session, form

    @app.exception_handler(_SignInRequired)
    async def _to_sign_in(request: Request, exc: _SignInRequired) -> Response:
        target = f"/sign-in?next={quote(exc.next_path, safe='/')}"
        if request.headers.get("HX-Request"):
            # htmx follows redirects inside the swap; send the whole page to the sign-in.
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(_Refused)
    async def _refused(request: Request, exc: _Refused) -> Response:
        return render(
            request,
            "error.html",
            sessions.get(request.cookies.get(COOKIE_NAME)),
            status=exc.status,
            title=exc.title,
            message=exc.message,
        )

    # --- sign-in -----------------------------------------------------------------------------

    @router.get("/sign-in")
    def sign_in_page(request: Request, next: str = "/") -> Response:
        if session_of(request) is not None:
            return RedirectResponse(safe_next(next), status_code=303)
        return _sign_in_form(request, next, error=None, status=200)

    def _sign_in_form(request: Request, next_path: str, error: str | None, status: int) -> Response:
        token = sessions.new_form_token()
        response = render(
            request,
            "sign_in.html",
            None,
            status=status,
            next=safe_next(next_path),
            error=error,
            form_token=token,
            no_tokens=len(config.tokens) == 0,
        )
        response.set_cookie(
            SIGN_IN_COOKIE_NAME,
            token,
            max_age=1800,
            httponly=True,
            samesite="strict",
            secure=_is_https(request),
            path="/sign-in",
        )
        return response

    @router.post("/sign-in")
    async def sign_in(request: Request) -> Response:
        form = await request.form()
        next_path = str(form.get("next") or "/")
        expected = request.cookies.get(SIGN_IN_COOKIE_NAME)
        presented = form.get(CSRF_FIELD)
        if (
            not expected
            or not isinstance(presented, str)
            or not sessions.form_token_ok(expected, presented)
        ):
            return _sign_in_form(
                request, next_path, "The sign-in form expired; please try again.", 400
            )
        secret = form.get("token")
        principal: Principal | None = None
        if isinstance(secret, str) and secret.strip():
            principal = config.tokens.authenticate(secret.strip())
        if principal is None:
            return _sign_in_form(
                request,
                next_path,
                "That token is not one of the configured API tokens (auth.tokens).",
                401,
            )
        cookie, _session = sessions.create(principal)
        response = RedirectResponse(safe_next(next_path), status_code=303)
        response.set_cookie(
            COOKIE_NAME,
            cookie,
            max_age=int(sessions.lifetime_seconds),
            httponly=True,
            samesite="strict",
            secure=_is_https(request),
            path="/",
        )
        response.delete_cookie(SIGN_IN_COOKIE_NAME, path="/sign-in")
        return response

    @router.post("/sign-out")
    async def sign_out(request: Request) -> Response:
        await acting(request, "viewer")
        sessions.end(request.cookies.get(COOKIE_NAME))
        response = RedirectResponse("/sign-in", status_code=303)
        response.delete_cookie(COOKIE_NAME, path="/")
        return response

    # --- pages -------------------------------------------------------------------------------

    @router.get("/")
    def overview(request: Request, window: str = "1h") -> Response:
        session = signed_in(request)
        chosen = window if window in WINDOWS else "1h"
        data = queries.overview(WINDOWS[chosen])
        template = "_overview_body.html" if request.headers.get("HX-Request") else "overview.html"
        return render(
            request, template, session, overview=data, window=chosen, windows=list(WINDOWS)
        )

    @router.get("/trace")
    def trace(request: Request, q: str = "") -> Response:
        session = signed_in(request)
        key = q.strip()
        found = views.timeline(build_trace(runtime, key)) if key else None
        template = "_trace_body.html" if request.headers.get("HX-Request") else "trace.html"
        return render(request, template, session, q=key, found=found)

    @router.get("/exceptions")
    def exceptions_page(request: Request) -> Response:
        session = signed_in(request)
        filters = views.ExceptionFilters.from_query(request.query_params)
        records = filters.apply(runtime.exceptions.list(status=filters.status, limit=1000))
        template = (
            "_exceptions_table.html" if request.headers.get("HX-Request") else "exceptions.html"
        )
        return render(
            request,
            template,
            session,
            records=records,
            filters=filters,
            flash=sessions.pop_flash(session),
        )

    @router.get("/exceptions/{record_id}")
    def exception_page(request: Request, record_id: str) -> Response:
        session = signed_in(request)
        record = runtime.exceptions.get(record_id)
        if record is None:
            raise _Refused(404, "Not found", f"There is no exception with id {record_id}.")
        delivery = runtime.inbox.get(record.inbox_id) if record.inbox_id is not None else None
        return render(
            request,
            "exception.html",
            session,
            record=record,
            payload=_pretty(delivery.body) if delivery is not None else None,
            history=runtime.exceptions.history(record_id),
            flash=sessions.pop_flash(session),
        )

    @router.post("/exceptions/{record_id}/edit")
    async def edit(request: Request, record_id: str) -> Response:
        session, form = await acting(request, "operator")
        back = f"/exceptions/{record_id}"
        body = str(form.get("payload") or "")
        try:
            json.loads(body)
        except ValueError as exc:
            sessions.flash(
                session, "error", f"The payload is not valid JSON ({exc}); nothing saved."
            )
            return RedirectResponse(back, status_code=303)
        try:
            await run_in_threadpool(
                lambda: service.edit_payload(record_id, body, actor=session.principal.name)
            )
        except (UnknownException, ExceptionAlreadyResolved, NotEditable) as exc:
            sessions.flash(session, "error", str(exc))
            return RedirectResponse(back, status_code=303)
        sessions.flash(session, "ok", f"Payload saved and {record_id} retried.")
        return RedirectResponse(back, status_code=303)

    @router.post("/exceptions/act")
    async def act(request: Request) -> Response:
        session, form = await acting(request, "operator")
        action = form.get("action")
        ids = [str(v) for v in form.getlist("ids") if str(v).strip()]
        note = str(form.get("note") or "").strip()
        back = safe_next(str(form.get("back") or "/exceptions"))
        if action not in ("retry", "resolve") or not ids:
            sessions.flash(session, "error", "Choose at least one exception and an action.")
            return RedirectResponse(back, status_code=303)
        done, problems = await run_in_threadpool(
            _apply,
            service,
            action,
            ids,
            note or f"resolved in the console by {session.principal.name}",
            session.principal.name,
        )
        if done:
            verb = "retried" if action == "retry" else "resolved"
            sessions.flash(session, "ok", f"{verb.capitalize()} {len(done)}: {', '.join(done)}")
        for problem in problems:
            sessions.flash(session, "error", problem)
        return RedirectResponse(back, status_code=303)

    @router.get("/connections")
    def connections(request: Request) -> Response:
        session = signed_in(request)
        health = {h.name: h for h in queries.health(views.since(timedelta(hours=1)))}
        limits = {u.connection: u for u in queries.limiters()}
        rows = views.connection_rows(runtime.settings, health, limits)
        return render(request, "connections.html", session, rows=rows)

    @router.get("/reconciliation")
    def reconciliation(request: Request) -> Response:
        session = signed_in(request)
        return render(
            request,
            "reconciliation.html",
            session,
            runs=RunStore(runtime.db).list(limit=100),
            rules=runtime.settings.reconciliation,
        )

    app.include_router(router)
    app.mount(STATIC_PATH, StaticFiles(directory=_HERE / "static"), name="console-static")


def _apply(
    service: ExceptionService, action: str, ids: list[str], note: str, actor: str
) -> tuple[list[str], list[str]]:
    """Each id in turn; one that is unknown or already resolved is reported, not fatal."""
    done: list[str] = []
    problems: list[str] = []
    for record_id in ids:
        try:
            if action == "retry":
                service.retry(record_id, actor=actor)
            else:
                service.resolve(record_id, note, actor=actor)
        except (UnknownException, ExceptionAlreadyResolved) as exc:
            problems.append(str(exc))
            continue
        done.append(record_id)
    return done, problems


def _pretty(body: str) -> str:
    """A stored payload, indented for editing (as stored when it is not JSON)."""
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body

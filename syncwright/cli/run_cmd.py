"""``syncwright serve`` (API + intake) and ``syncwright worker`` (engine + dispatcher)."""

from __future__ import annotations

import gc
import signal
import threading
from typing import Annotated

import typer
import uvicorn

from syncwright.api import create_api
from syncwright.cli._common import (
    ConfigOption,
    JsonOption,
    console,
    emit_json,
    fail,
    load_or_exit,
)
from syncwright.engine import EngineClient
from syncwright.errors import ConfigError
from syncwright.exceptions.watcher import DependencyWatcher
from syncwright.intake.dispatcher import Dispatcher
from syncwright.intake.poller import Poller
from syncwright.reconcile import Reconciler, ReconcileScheduler
from syncwright.runtime import Runtime
from syncwright.telemetry import configure_logging, serve_worker_metrics


def serve(
    config: ConfigOption = None,
    host: Annotated[str | None, typer.Option(help="Bind address (default from config).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default from config).")] = None,
    with_worker: Annotated[
        bool, typer.Option("--with-worker", help="Also run the engine in this process.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Serve the HTTP API, webhook intake and console."""
    settings = load_or_exit(config, as_json=as_json)
    configure_logging(settings)
    runtime = Runtime(settings)
    dispatcher: Dispatcher | None = None
    watcher: DependencyWatcher | None = None
    client: EngineClient | None = None
    if with_worker:
        engine = runtime.start_engine()
        dispatcher = Dispatcher(runtime)
        dispatcher.start()
        watcher = DependencyWatcher(runtime, engine)
        watcher.start()
        app = create_api(runtime, engine)
    else:
        client = EngineClient(runtime.db)
        app = create_api(runtime, client)
    bind_host, bind_port = host or settings.server.host, port or settings.server.port
    # What start-up allocated lives for the whole process: keep it out of every collection,
    # which shortens the pauses that show up as tail latency on the intake.
    gc.freeze()
    if as_json:
        emit_json({"event": "serve.started", "url": f"http://{bind_host}:{bind_port}"})
    else:
        console.print(f"serving on http://{bind_host}:{bind_port} (OpenAPI at /docs)")
    try:
        uvicorn.run(
            app,
            host=bind_host,
            port=bind_port,
            # uvicorn's records go to our handler (level, format, redaction from telemetry).
            log_config=None,
            log_level=settings.telemetry.log_level,
            access_log=False,
        )
    finally:
        if watcher is not None:
            watcher.stop()
        if dispatcher is not None:
            dispatcher.stop()
        if client is not None:
            client.close()
        runtime.close()


def worker(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Run workflows: recover this executor's unfinished runs, then dispatch and execute."""
    settings = load_or_exit(config, as_json=as_json)
    configure_logging(settings)
    runtime = Runtime(settings)
    reconciler = Reconciler(runtime)
    try:
        reconciler.check_rules()  # before any work starts: a rule that cannot run is a config error
    except ConfigError as exc:
        runtime.close()
        fail(f"{exc}: {'; '.join(exc.problems)}", as_json=as_json)
    engine = runtime.start_engine()
    metrics_server = serve_worker_metrics(runtime)
    dispatcher = Dispatcher(runtime)
    dispatcher.start()
    poller = Poller(runtime)
    poller.start()
    watcher = DependencyWatcher(runtime, engine)
    watcher.start()
    scheduler = ReconcileScheduler(reconciler)
    scheduler.start()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    executor = settings.engine.executor_id or "local"
    database = runtime.db.engine.url.render_as_string(hide_password=True)
    if as_json:
        emit_json({"event": "worker.started", "executor_id": executor, "database": database})
    else:
        console.print(f"worker {executor} running (database {database})")
    try:
        stop.wait()
    finally:
        if metrics_server is not None:
            metrics_server.shutdown()
        watcher.stop()
        scheduler.stop()
        poller.stop()
        dispatcher.stop()
        runtime.close()

"""``onboard-sync worker`` (the durable engine's worker) and ``onboard-sync schedules`` (its schedules).

``worker`` serves the reconcile queue of the store's system database until SIGTERM or Ctrl-C
(:mod:`onboard_sync.durable.worker`); run any number of them, on any number of machines sharing
a PostgreSQL store. ``schedules`` lists the DB-stored schedules (next and last run) and pauses or
resumes one, without a worker running.
"""

from __future__ import annotations

import signal
import threading
from typing import TYPE_CHECKING, Annotated

import typer

from onboard_sync.cli import app
from onboard_sync.cli.common import console, print_json, runtime
from onboard_sync.cli.options import ConfigOption, JsonOption

if TYPE_CHECKING:
    from dbos import DBOSClient

    from onboard_sync.durable.system_db import SystemDatabase


@app.command(short_help="Reconcile from the durable queue; stop on SIGTERM.")
def worker(
    config: ConfigOption = None,
    concurrency: Annotated[
        int,
        typer.Option(
            min=1,
            max=256,
            help="Instances each worker reconciles side by side (a setting of the shared queue: the "
            "worker started last sets it for all, so give every worker the same).",
        ),
    ] = 8,
    stale_after: Annotated[
        float,
        typer.Option(min=5, help="Seconds without a heartbeat after which a worker's work is taken over."),
    ] = 30.0,
    grace: Annotated[int, typer.Option(min=0, help="Seconds a stopping worker lets its reconciles finish.")] = 30,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            min=0, max=65535, help="Serve /healthz and /metrics on this port (0: any free one; default: off)."
        ),
    ] = None,
    metrics_host: Annotated[
        str, typer.Option(help="Address for --metrics-port (0.0.0.0 in a container, for probes and scrapes).")
    ] = "127.0.0.1",
) -> None:
    """Reconcile from the durable queue (one instance at a time per cluster); stops on SIGTERM."""
    from onboard_sync.durable.worker import WorkerOptions, run_worker

    rt = runtime(config)
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    options = WorkerOptions(
        concurrency=concurrency,
        stale_after_seconds=stale_after,
        heartbeat_seconds=min(5.0, stale_after / 4),
        grace_seconds=grace,
    )
    if metrics_port is None:
        run_worker(rt, stop, options=options, started=lambda wid: console.print(f"worker {wid} started"))
    else:
        from onboard_sync.durable.health import WorkerMetrics, worker_endpoint
        from onboard_sync.durable.worker import new_worker_id

        metrics, worker_id = WorkerMetrics(), new_worker_id()
        endpoint = worker_endpoint(
            rt.config.store_url, metrics, worker_id, host=metrics_host, port=metrics_port, stale_after=stale_after
        )
        with endpoint as address:
            console.print(f"worker {worker_id}: /healthz and /metrics on {address}", highlight=False)
            run_worker(
                rt,
                stop,
                options=options,
                worker_id=worker_id,
                reconciled=metrics.reconciled,
                started=lambda wid: console.print(f"worker {wid} started"),
            )
    console.print("worker stopped")


@app.command(short_help="List the workers' reconcile schedules; pause or resume one.")
def schedules(
    config: ConfigOption = None,
    json: JsonOption = False,
    pause: Annotated[str | None, typer.Option(metavar="INSTANCE", help="Pause this instance's schedule.")] = None,
    resume: Annotated[str | None, typer.Option(metavar="INSTANCE", help="Resume this instance's schedule.")] = None,
) -> None:
    """List the reconcile schedules workers run (next and last run); pause or resume one."""
    from onboard_sync.durable.schedules import configured, list_views, set_paused
    from onboard_sync.durable.system_db import system_database

    rt = runtime(config)
    system = system_database(rt.config.store_url, rt.config.store_where or None)
    client = open_engine_client(system)
    try:
        for instance, paused in ((pause, True), (resume, False)):
            if instance is not None:
                set_paused(client, instance, paused)
                console.print(f"{instance}: schedule {'paused' if paused else 'resumed'}")
        views = list_views(client)
    finally:
        client.destroy()
    if json:
        print_json({"schedules": [v.as_dict() for v in views], "configured": configured(rt)})
        return
    if not views:
        console.print("no schedules in the database yet: set \\[connectors.NAME] schedule and start a worker")
        return
    console.print(f"{'INSTANCE':<18} {'SCHEDULE':<16} {'STATUS':<7} {'LAST RUN':<17} NEXT RUN")
    for v in views:
        last = f"{v.last_run:%Y-%m-%d %H:%M}" if v.last_run else "-"
        following = f"{v.next_run:%Y-%m-%d %H:%M}" if v.next_run else "-"
        row = f"{v.instance[:18]:<18} {v.schedule[:16]:<16} {v.status[:7]:<7} {last:<17} {following}"
        console.print(row, markup=False)


def open_engine_client(system: SystemDatabase, *, migrate: bool = True) -> DBOSClient:
    """A DBOS client, or a one-line error naming the database (no password) if it cannot connect;
    ``migrate=False`` (``cluster``, which only reads) leaves a database with no engine tables as it is."""
    from onboard_sync.durable.system_db import unreachable
    from onboard_sync.durable.triggers import engine_client
    from onboard_sync.errors import UserError

    try:
        return engine_client(system, migrate=migrate)
    except Exception as exc:
        if system.distributed:
            raise unreachable(system.url, exc) from None
        raise UserError(f"cannot open the engine's database: {exc}", where=system.display) from None

"""``onboard-sync cluster``: the workers, the queue and each instance's reconciles, at a glance.

Reads the store's worker heartbeats and the durable engine's workflow tables
(:mod:`onboard_sync.durable.cluster`); starts no worker and writes nothing. Two tables that fit 80
columns (workers; instances with what waits, what runs and the last success and failure), then
the last failure's message of each instance, one per line. ``--json`` prints the same as one
object. Exit 0 always when the cluster could be read: a dead worker or a failing instance is
what the command reports, not an error of the command.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from onboard_sync.cli import app
from onboard_sync.cli.common import console, open_store, print_json, runtime
from onboard_sync.cli.options import ConfigOption, JsonOption
from onboard_sync.cli.plain_text import escape

if TYPE_CHECKING:
    from onboard_sync.durable.cluster import ClusterView, Finished, InstanceView, Running
    from onboard_sync.durable.system_db import SystemDatabase

StaleOption = Annotated[
    float,
    typer.Option(min=1, help="Seconds without a heartbeat after which a worker counts as dead (the workers' own)."),
]
HistoryOption = Annotated[
    int, typer.Option(min=1, help="Finished reconciles to read back for each instance's last success and failure.")
]


@app.command(short_help="Show live workers, the queue and each instance's reconciles.")
def cluster(
    config: ConfigOption = None,
    json: JsonOption = False,
    stale_after: StaleOption = 30.0,
    history: HistoryOption = 2000,
) -> None:
    """Show the workers alive, the queue, and each instance's running, last good and last failed reconcile."""
    from onboard_sync.cli.worker import open_engine_client as engine_client
    from onboard_sync.durable.cluster import read_cluster
    from onboard_sync.durable.system_db import system_database

    rt = runtime(config)
    with open_store(rt, read_only=True, must_exist=True) as store:
        system = system_database(rt.config.store_url, rt.config.store_where)
        # only reads: never create the engine's SQLite file (its client would, by connecting)
        client = engine_client(system, migrate=False) if _engine_exists(system) else None
        try:
            view = read_cluster(store, client, rt.config.connectors, stale_after=stale_after, history=history)
        finally:
            if client is not None:
                client.destroy()
    if json:
        print_json(view.as_dict())
        return
    show_cluster(view)


def _engine_exists(system: SystemDatabase) -> bool:
    """PostgreSQL: always worth asking; SQLite: only when the engine's file is there."""
    if system.distributed:
        return True
    import sqlalchemy as sa

    database = sa.engine.make_url(system.url).database or ""
    return database not in ("", ":memory:") and Path(database).exists()


def ago(then: datetime | None, now: datetime) -> str:
    """``12 s ago``, ``5 min ago``, ``3 h ago``, ``2 d ago``; ``-`` for never."""
    if then is None:
        return "-"
    seconds = max(0, int((now - then).total_seconds()))
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def _running(running: Running | None, now: datetime) -> str:
    if running is None:
        return "-"
    return f"{running.trigger}, {ago(running.since, now).removesuffix(' ago')}\n{running.worker or '?'}"


def _finished(finished: Finished | None, now: datetime) -> str:
    if finished is None:
        return "-"
    return f"{ago(finished.at, now)}\n{finished.trigger}: {finished.outcome}"


def show_cluster(view: ClusterView) -> None:
    """The two tables and the failures, as ``cluster`` prints them."""
    from rich import box  # loaded when a table is printed: a fast --help
    from rich.table import Table

    now = view.at
    dead = len(view.workers) - view.alive
    console.print(
        f"workers: {view.alive} alive"
        + (f", {dead} without a heartbeat for over {view.stale_after_s:g} s" if dead else ""),
        highlight=False,
    )
    if view.workers:
        workers = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        for header in ("worker", "host", "heartbeat", "up since"):
            workers.add_column(header, overflow="fold")
        for w in view.workers:
            beat = ago(w.last_beat, now) if w.alive else f"[red]{ago(w.last_beat, now)}[/red]"
            workers.add_row(w.id, w.host, beat, f"{w.started_at:%Y-%m-%d %H:%M}")
        console.print(workers)
    else:
        console.print("  none: start one with `onboard-sync worker`", highlight=False)
    delayed = sum(i.delayed for i in view.instances)
    console.print(
        f"queue: {view.queue_depth} waiting"
        + (f" (+{delayed} due later)" if delayed else "")
        + f", {view.running} running",
        highlight=False,
    )
    instances = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    instances.add_column("instance", overflow="fold")
    instances.add_column("queued", justify="right")
    instances.add_column("running", overflow="fold")
    instances.add_column("last success", overflow="fold")
    instances.add_column("last failure", overflow="fold")
    for i in view.instances:
        failure = _finished(i.last_failure, now)
        instances.add_row(
            i.instance,
            str(i.queued + i.delayed),
            _running(i.running, now),
            _finished(i.last_success, now),
            f"[red]{escape(failure)}[/red]" if _failing(i) else escape(failure),
        )
    console.print(instances)
    failures = [i for i in view.instances if i.last_failure is not None and i.last_failure.error]
    for i in failures:
        assert i.last_failure is not None
        console.print(f"{i.instance}: last failure {ago(i.last_failure.at, now)}: {i.last_failure.error}", markup=False)
    for note in view.notes:
        console.print(note, highlight=False)
    if not view.history_complete:
        console.print(
            f"(read the newest {view.history_read} finished reconciles; '-' may mean longer ago: --history)",
            highlight=False,
        )


def _failing(view: InstanceView) -> bool:
    """The instance's latest finished reconcile failed."""
    if view.last_failure is None or view.last_failure.at is None:
        return False
    return view.last_success is None or view.last_success.at is None or view.last_failure.at > view.last_success.at

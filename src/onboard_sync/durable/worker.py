"""One ``onboard-sync worker`` process: launch DBOS on the store's system database and serve the queue.

:func:`run_worker` opens the store (migrating it), binds the runtime for the workflows, launches
DBOS (executor id = worker id, fixed application version), registers the partitioned queue
(partition concurrency 1: one reconcile per instance across the cluster; ``concurrency``
reconciles of different instances side by side per worker: DBOS keeps this per-worker limit in
the queue's row, so the worker started last sets it for every worker), applies the config's schedules,
starts the heartbeat (and the recovery of stale workers), and runs until ``stop`` is set
(SIGTERM/SIGINT in the CLI). Stopping lets running reconciles finish for up to ``grace``
seconds; the worker removes its heartbeat row only if none of its workflows is left pending, so
anything unfinished is recovered by another worker once the row goes stale.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from onboard_sync.durable.system_db import APP_NAME, SystemDatabase, system_database, unreachable
from onboard_sync.durable.triggers import ENGINE_VERSION, QUEUE
from onboard_sync.errors import UserError
from onboard_sync.store import Store

if TYPE_CHECKING:
    from onboard_sync.runtime import Runtime

log = logging.getLogger("onboard_sync.durable")


@dataclass(frozen=True)
class WorkerOptions:
    """How a worker runs; the CLI's options."""

    concurrency: int = 8
    heartbeat_seconds: float = 5.0
    stale_after_seconds: float = 30.0
    grace_seconds: int = 30
    poll_seconds: float = 1.0


def new_worker_id(host: str | None = None) -> str:
    """``HOST-PID-RANDOM``: unique per process, readable in ``cluster`` and the logs."""
    return f"{host or socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def check_one_machine(store: Store, system: SystemDatabase, host: str, stale_after: float) -> None:
    """A SQLite store serves one machine: refuse a worker when a live one runs on another host."""
    if system.distributed:
        return
    cutoff = datetime.now(UTC) - timedelta(seconds=stale_after)
    others = sorted({w.host for w in store.workers() if w.host != host and w.last_beat >= cutoff})
    if others:
        raise UserError(
            f"a SQLite store serves one machine, and a worker on {', '.join(others)} uses it; "
            "move the store to PostgreSQL to run workers on several machines",
            where=store.url_for_display,
        )


def run_worker(
    runtime: Runtime,
    stop: threading.Event,
    *,
    options: WorkerOptions | None = None,
    worker_id: str | None = None,
    reconciled: Callable[[str, str, str, float], None] | None = None,
    started: Callable[[str], None] | None = None,
) -> None:
    """Serve the queue until ``stop`` is set (see the module docstring)."""
    from dbos import DBOS

    from onboard_sync.durable import workflows
    from onboard_sync.durable.heartbeat import Heartbeat
    from onboard_sync.durable.schedules import apply_configured

    options = options or WorkerOptions()
    host = socket.gethostname()
    worker_id = worker_id or new_worker_id(host)
    system = system_database(runtime.config.store_url, runtime.config.store_where or None)
    # each running reconcile holds its instance's lock connection and briefly a second for its writes;
    # SQLAlchemy's default pool (5 + 10 overflow) made reconciles beyond about a dozen wait, then fail
    with Store.open(runtime.config.store_url, connections=max(5, 2 * options.concurrency)) as store:
        check_one_machine(store, system, host, options.stale_after_seconds)
        workflows.bind(workflows.Bound(runtime, store, reconciled or (lambda *args: None)))
        DBOS(
            config={
                "name": APP_NAME,
                "system_database_url": system.url,
                "dbos_system_schema": system.schema,
                "executor_id": worker_id,
                "application_version": ENGINE_VERSION,
                "log_level": "WARNING",
                "scheduler_polling_interval_sec": 5.0,
                "max_executor_threads": max(8, options.concurrency * 2 + 4),
            }
        )
        heartbeat = Heartbeat(
            store,
            worker_id,
            host,
            os.getpid(),
            every=options.heartbeat_seconds,
            stale_after=options.stale_after_seconds,
        )
        try:
            try:
                DBOS.launch()
                DBOS.register_queue(
                    QUEUE,
                    partition_concurrency=1,
                    worker_concurrency=options.concurrency,
                    polling_interval_sec=options.poll_seconds,
                    on_conflict="always_update",
                )
                apply_configured(runtime)
            except Exception as exc:
                if system.distributed and "connect" in str(exc).lower():
                    raise unreachable(system.url, exc, runtime.config.store_where or None) from None
                raise
            heartbeat.start()
            heartbeat.recover_stale()
            log.info("worker %s serving queue %s on %s", worker_id, QUEUE, system.display)
            if started is not None:
                started(worker_id)
            stop.wait()
        finally:
            heartbeat.stop()
            DBOS.destroy(workflow_completion_timeout_sec=options.grace_seconds)
            workflows.bind(None)
            _leave(store, system, worker_id)


def _leave(store: Store, system: SystemDatabase, worker_id: str) -> None:
    """Remove this worker's heartbeat row unless workflows of it are still pending."""
    from onboard_sync.durable.triggers import engine_client

    try:
        client = engine_client(system)
        try:
            pending = client.list_workflows(
                status="PENDING", executor_id=worker_id, load_input=False, load_output=False
            )
        finally:
            client.destroy()
    except Exception:  # the database is gone: the row goes stale and another worker recovers
        log.warning("could not check pending workflows of %s; leaving its heartbeat row to go stale", worker_id)
        return
    if pending:
        log.warning(
            "%d reconcile(s) of %s did not finish within the grace period; another worker resumes them",
            len(pending),
            worker_id,
        )
    else:
        store.remove_workers([worker_id])

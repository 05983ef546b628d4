"""The reconcile worker in a process of its own: how ``onboard-sync serve`` runs it by default.

Why a process: the receiver must persist and acknowledge a delivery in milliseconds while a
reconcile evaluates hundreds of deals in Python. In one process the two share the GIL and the
ack waits behind evaluation (webhook benchmark, 100-event batches: p99 134-230 ms with the
worker as a thread, 43-97 ms with it in its own process). ``[serve] worker = "thread"`` keeps
the old layout (one process, e.g. where spawning is not allowed).

Parent side, :class:`WorkerProcess` (the same ``start``/``notify``/``stop``/``alive``/``health``
as :class:`~onboard_sync.webhooks.worker.Worker`): spawns the child with the path of
config.toml, a wake and a stop event, and the sending end of a pipe; a pump thread applies
what the child reports (events processed, reconcile outcomes, its status) to ``ServeMetrics``.

Child side, :func:`worker_main`: lowers its CPU priority below serve's (:func:`lower_priority`),
loads the runtime and opens the store itself, ignores SIGINT
(a Ctrl-C reaches the whole process group; serve decides), treats SIGTERM as a stop, and runs
``Worker.run()``. A stop lets the current reconcile finish (after ``STOP_GRACE`` seconds more
the child exits anyway). If serve dies (``kill -9``, OOM) the child exits at once: it watches
the parent's sentinel, and a worker without its receiver is a crashed service. Exiting mid-run
is safe: every write is crash-safe (write-ahead intents) and the events stay in the inbox until
their reconcile finished; the next serve's worker picks them up.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from onboard_sync.webhooks.metrics import ServeMetrics
from onboard_sync.webhooks.worker import Flag, MetricsReport

log = logging.getLogger("onboard_sync.webhooks.worker")
STOP_GRACE = 30.0
"""Seconds a stopped (or orphaned) worker may take to finish its reconcile before it exits anyway."""
NICENESS = 10
"""How much lower than serve's the worker's CPU priority is (``os.nice``): see :func:`lower_priority`."""


class PipeReport:
    """The child's ``WorkerReport``: each report is one message on the pipe to serve."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._lock = threading.Lock()

    def _send(self, message: tuple[Any, ...]) -> None:
        # a closed pipe means serve is gone: the parent watch stops this process
        with self._lock, contextlib.suppress(BrokenPipeError, EOFError, OSError):
            self._conn.send(message)

    def processed(self, source: str, lag_seconds: float) -> None:
        self._send(("processed", source, lag_seconds))

    def reconciled(self, kind: str, outcome: str) -> None:
        self._send(("reconciled", kind, outcome))

    def status(self, health: dict[str, object]) -> None:
        self._send(("status", health))


class WorkerProcess:
    """Serve's handle on the worker process."""

    def __init__(self, config_path: Path, metrics: ServeMetrics, *, coalesce_seconds: float | None = None) -> None:
        self.config_path = config_path
        self.coalesce_seconds = coalesce_seconds
        self._context = multiprocessing.get_context("spawn")
        self._wake = self._context.Event()
        self._stop = self._context.Event()
        self._report = MetricsReport(metrics)
        self._process: multiprocessing.process.BaseProcess | None = None
        self._pump: threading.Thread | None = None

    def start(self) -> None:
        receive, send = self._context.Pipe(duplex=False)
        self._process = self._context.Process(
            target=worker_main,
            args=(str(self.config_path), self._wake, self._stop, send, self.coalesce_seconds),
            name="onboard-sync-worker",
            daemon=False,  # it has a process of its own to stop gracefully; daemonic ones cannot
        )
        self._process.start()
        send.close()  # the child holds the only sending end: EOF here means it is gone
        self._pump = threading.Thread(target=self._pump_reports, args=(receive,), name="worker-reports", daemon=True)
        self._pump.start()

    def notify(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = STOP_GRACE + 5) -> None:
        """Ask the child to stop, wait for it (it finishes its reconcile), kill it if it hangs."""
        self._stop.set()
        self._wake.set()
        if self._process is None:
            return
        self._process.join(timeout)
        if self._process.is_alive():
            log.error("the worker process did not stop within %.0f s: killing it", timeout)
            self._process.kill()
            self._process.join(5)
        if self._pump is not None:
            self._pump.join(5)

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def health(self) -> dict[str, object]:
        """``worker``: "starting" until the process has loaded its config and store, then "running"."""
        state = "stopped" if not self.alive else "running" if self._report.health else "starting"
        return {"worker": state, **self._report.health}

    def _pump_reports(self, conn: Connection) -> None:
        with conn:
            while True:
                try:
                    message = conn.recv()
                except (EOFError, OSError):
                    return
                kind, *args = message
                if kind == "processed":
                    self._report.processed(*args)
                elif kind == "reconciled":
                    self._report.reconciled(*args)
                elif kind == "status":
                    self._report.status(*args)


def worker_main(config_path: str, wake: Flag, stop: Flag, reports: Connection, coalesce: float | None) -> None:
    """The worker process: load what serve loaded, then drain the inbox until told to stop."""
    from onboard_sync.logs import setup_logging

    setup_logging()  # the format and level serve was given travel in the environment
    lower_priority()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: _request_stop(wake, stop))
    _watch_parent(wake, stop)

    from onboard_sync.errors import UserError
    from onboard_sync.runtime import load_runtime
    from onboard_sync.store import Store
    from onboard_sync.webhooks.queue import StoreQueue
    from onboard_sync.webhooks.worker import Worker

    try:
        runtime = load_runtime(Path(config_path))
        serve = runtime.config.serve
        with Store.open(runtime.config.store_url) as store:
            worker = Worker(
                runtime,
                store,
                StoreQueue(store),
                PipeReport(reports),
                full_every_seconds=serve.full_sync_every_minutes * 60 or None,
                coalesce_seconds=serve.coalesce_seconds if coalesce is None else coalesce,
                wake=wake,
                stop=stop,
            )
            worker.run()
    except UserError as exc:  # e.g. config.toml changed since serve started: say so and end
        print(f"onboard-sync serve: worker: error: {exc}", file=sys.stderr, flush=True)
        sys.exit(2)
    finally:
        reports.close()


def lower_priority() -> None:
    """Give the worker a lower CPU priority than the receiver (``NICENESS``, where the OS has nice).

    The worker used about as much CPU per 100-event delivery as the receiver (6-14 ms in the webhook
    benchmark), and a delivery's 2xx waits for the receiver's CPU: when both want a core, the
    receiver gets it first. A reconcile is paced by the CRM's rate limit, not by this process's
    CPU, so it loses little; on an idle machine nothing changes."""
    if hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(NICENESS)


def _request_stop(wake: Flag, stop: Flag) -> None:
    stop.set()
    wake.set()
    timer = threading.Timer(STOP_GRACE, lambda: os._exit(1))  # a reconcile that hangs must not keep us
    timer.daemon = True
    timer.start()


def _watch_parent(wake: Flag, stop: Flag) -> None:
    parent = multiprocessing.parent_process()
    if parent is None or parent.sentinel is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        stop.set()
        log.warning("serve is gone: the worker process exits")
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()

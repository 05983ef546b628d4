"""A worker's ``/healthz`` and ``/metrics`` (``onboard-sync worker --metrics-port PORT``).

``/healthz`` answers 200 while this worker's heartbeat reaches the store (its row's last beat is
younger than ``stale_after``: what other workers use to decide it is dead), else 503; Kubernetes
probes it. ``/metrics`` is Prometheus text: reconciles by instance, trigger and outcome, their
durations, the time of each instance's last success and failure in this worker, this worker's
heartbeat age, and the queue depth per instance (the same for every worker: the cluster's, read
on each scrape, for alerts and autoscaling). The app is Starlette on uvicorn in a daemon thread
(``sandbox.server.ServerThread``, the same server the simulators and ``serve`` run on).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from onboard_sync.durable.cluster import SKIPPED_OUTCOMES, is_success

if TYPE_CHECKING:
    from dbos import DBOSClient

log = logging.getLogger("onboard_sync.durable")

NEUTRAL_OUTCOMES = SKIPPED_OUTCOMES | {"lock-held"}
"""Neither a success nor a failure of this attempt: covered by an earlier run, or the instance's run
lock was held (the workflow tries again)."""
RECONCILE_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)


class WorkerMetrics:
    """What a worker exports, on its own registry (several workers can live in one test process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.reconciles = Counter(
            "onboard_sync_worker_reconciles",
            "Reconciles this worker finished, by instance, trigger and outcome.",
            ["instance", "trigger", "outcome"],
            registry=r,
        )
        self.reconcile_seconds = Histogram(
            "onboard_sync_worker_reconcile_seconds",
            "Duration of this worker's reconciles.",
            ["instance"],
            buckets=RECONCILE_BUCKETS,
            registry=r,
        )
        self.last_success = Gauge(
            "onboard_sync_worker_last_success_timestamp_seconds",
            "When a reconcile of the instance last succeeded in this worker (Unix time).",
            ["instance"],
            registry=r,
        )
        self.last_failure = Gauge(
            "onboard_sync_worker_last_failure_timestamp_seconds",
            "When a reconcile of the instance last failed in this worker (Unix time).",
            ["instance"],
            registry=r,
        )
        self.heartbeat_age = Gauge(
            "onboard_sync_worker_heartbeat_age_seconds",
            "Seconds since this worker's last heartbeat reached the store.",
            registry=r,
        )
        self.queue_depth = Gauge(
            "onboard_sync_queue_depth",
            "Reconciles waiting in the cluster's queue, by instance (the same from every worker).",
            ["instance"],
            registry=r,
        )

    def reconciled(self, instance: str, trigger: str, outcome: str, seconds: float) -> None:
        """The worker's per-reconcile callback (``run_worker(reconciled=...)``)."""
        self.reconciles.labels(instance, trigger, outcome).inc()
        self.reconcile_seconds.labels(instance).observe(seconds)
        if outcome in NEUTRAL_OUTCOMES:
            return
        gauge = self.last_success if is_success(outcome) else self.last_failure
        gauge.labels(instance).set(datetime.now(UTC).timestamp())

    def set_queue_depth(self, depth: Mapping[str, int]) -> None:
        self.queue_depth.clear()
        for instance, waiting in depth.items():
            self.queue_depth.labels(instance).set(waiting)

    def render(self) -> bytes:
        return generate_latest(self.registry)


@dataclass(frozen=True)
class Probe:
    """How ``/healthz`` and ``/metrics`` learn the worker's state (each call may read the store)."""

    last_beat: Callable[[], datetime | None]
    """This worker's last heartbeat as the store has it (None: no row)."""
    queue_depth: Callable[[], Mapping[str, int]]
    stale_after: float
    worker_id: str


def health_app(metrics: WorkerMetrics, probe: Probe) -> Starlette:
    """``GET /healthz`` and ``GET /metrics``; anything else is 404."""

    def heartbeat_age() -> float | None:
        beat = probe.last_beat()
        return None if beat is None else max(0.0, (datetime.now(UTC) - beat).total_seconds())

    async def healthz(request: Request) -> Response:
        try:
            age = await run_in_threadpool(heartbeat_age)
        except Exception as exc:  # the store is unreachable: the worker cannot work either
            detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
            return JSONResponse({"status": "down", "worker": probe.worker_id, "error": detail}, status_code=503)
        body: dict[str, Any] = {"worker": probe.worker_id, "heartbeat_age_s": None if age is None else round(age, 1)}
        if age is None or age > probe.stale_after:
            return JSONResponse({"status": "stale", **body}, status_code=503)
        return JSONResponse({"status": "ok", **body})

    async def metrics_endpoint(request: Request) -> Response:
        try:
            age = await run_in_threadpool(heartbeat_age)
            metrics.heartbeat_age.set(age if age is not None else float("nan"))
            metrics.set_queue_depth(await run_in_threadpool(probe.queue_depth))
        except Exception:  # still serve the counters; the failed reads show as missing values
            log.warning("metrics: reading the store or the queue failed", exc_info=True)
            metrics.heartbeat_age.set(float("nan"))
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    return Starlette(
        routes=[Route("/healthz", healthz, methods=["GET"]), Route("/metrics", metrics_endpoint, methods=["GET"])]
    )


@contextmanager
def worker_endpoint(
    store_url: str, metrics: WorkerMetrics, worker_id: str, *, host: str, port: int, stale_after: float
) -> Iterator[str]:
    """Serve ``/healthz`` and ``/metrics`` of worker ``worker_id`` on ``host:port`` (0: any free
    port) for the block; yields ``http://HOST:PORT``. A busy port is a UserError naming it."""
    from onboard_sync.durable.cluster import queue_depth
    from onboard_sync.durable.system_db import system_database
    from onboard_sync.durable.triggers import engine_client
    from onboard_sync.server_thread import ServerThread
    from onboard_sync.store import Store

    system = system_database(store_url)
    clients: list[DBOSClient] = []
    with Store.open(store_url) as store:

        def last_beat() -> datetime | None:
            return next((w.last_beat for w in store.workers() if w.id == worker_id), None)

        def depth() -> Mapping[str, int]:
            if not clients:
                clients.append(engine_client(system))
            return queue_depth(clients[0])

        probe = Probe(last_beat=last_beat, queue_depth=depth, stale_after=stale_after, worker_id=worker_id)
        server = ServerThread(
            health_app(metrics, probe),
            host,
            port,
            name="worker-metrics",
            port_hint="choose another with --metrics-port (0 picks a free one)",
        )
        server.start()
        try:
            shown = f"[{host}]" if ":" in host else host
            yield f"http://{shown}:{server.port}"
        finally:
            server.stop()
            for client in clients:
                client.destroy()

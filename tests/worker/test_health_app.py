"""The worker's ``/healthz`` says 503 when the worker would be taken for dead (its heartbeat older
than ``stale_after``, no heartbeat row, or the store unreachable), and ``/metrics`` still answers
when the store does not; ``reconciled`` counts every outcome and dates successes and failures
(``lock-held`` and ``nothing-new`` are neither)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import httpx

from onboard_sync.durable.health import Probe, WorkerMetrics, health_app
from onboard_sync.server_thread import ServerThread


@contextmanager
def served(
    last_beat: Callable[[], datetime | None], depth: Callable[[], Mapping[str, int]] = dict
) -> Iterator[httpx.Client]:
    """The app over real HTTP on loopback, as the worker serves it."""
    probe = Probe(last_beat=last_beat, queue_depth=depth, stale_after=30.0, worker_id="host-a-1-abc")
    server = ServerThread(health_app(WorkerMetrics(), probe), name="test-health")
    server.start()
    try:
        with httpx.Client(base_url=server.base_url, timeout=10) as http:
            yield http
    finally:
        server.stop()


def get(last_beat: Callable[[], datetime | None], path: str = "/healthz") -> httpx.Response:
    with served(last_beat) as http:
        return http.get(path)


def test_a_recent_heartbeat_is_healthy_an_old_one_or_none_is_not() -> None:
    now = datetime.now(UTC)

    fresh = get(lambda: now - timedelta(seconds=3))
    stale = get(lambda: now - timedelta(seconds=31))
    missing = get(lambda: None)

    assert (fresh.status_code, fresh.json()["status"], fresh.json()["worker"]) == (200, "ok", "host-a-1-abc")
    assert 2.5 <= fresh.json()["heartbeat_age_s"] < 10
    assert (stale.status_code, stale.json()["status"]) == (503, "stale")
    assert (missing.status_code, missing.json()["status"], missing.json()["heartbeat_age_s"]) == (503, "stale", None)


def test_an_unreachable_store_is_unhealthy_and_metrics_still_answer() -> None:
    def down() -> datetime:
        raise ConnectionError("connection refused")

    with served(down, depth=lambda: {"hubspot": 3}) as http:
        health = http.get("/healthz")
        metrics = http.get("/metrics")

    assert health.status_code == 503
    assert health.json()["status"] == "down"
    assert "connection refused" in health.json()["error"]
    assert metrics.status_code == 200
    assert "onboard_sync_worker_heartbeat_age_seconds NaN" in metrics.text


def test_reconciles_are_counted_by_outcome_and_dated_by_success_or_failure() -> None:
    metrics = WorkerMetrics()
    metrics.reconciled("hubspot", "schedule", "ok", 1.5)
    metrics.reconciled("hubspot", "webhook", "nothing-new", 0.01)
    metrics.reconciled("sf", "schedule", "error", 2.0)
    metrics.reconciled("zd", "schedule", "lock-held", 0.1)
    metrics.reconciled("zd", "webhook", "nothing-new", 0.01)
    metrics.set_queue_depth({"hubspot": 2})

    text = metrics.render().decode()

    assert 'onboard_sync_worker_reconciles_total{instance="hubspot",outcome="ok",trigger="schedule"} 1.0' in text
    assert 'onboard_sync_worker_reconciles_total{instance="zd",outcome="lock-held",trigger="schedule"} 1.0' in text
    assert 'onboard_sync_worker_reconcile_seconds_count{instance="hubspot"} 2.0' in text
    assert 'onboard_sync_worker_last_success_timestamp_seconds{instance="hubspot"}' in text
    assert 'onboard_sync_worker_last_failure_timestamp_seconds{instance="sf"}' in text
    for when in ("last_success", "last_failure"):  # lock-held: tries again; nothing-new: no CRM call
        assert (
            metrics.registry.get_sample_value(f"onboard_sync_worker_{when}_timestamp_seconds", {"instance": "zd"})
            is None
        )
    assert 'onboard_sync_queue_depth{instance="hubspot"} 2.0' in text

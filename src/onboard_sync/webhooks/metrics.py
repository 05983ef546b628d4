"""Prometheus metrics of ``serve`` (``GET /metrics``): received, rejected by reason, processed, lag.

One ``ServeMetrics`` per app, on its own registry (several apps can live in one test process).
Labels are connector instance names and short reason labels; never secrets or bodies.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)


class ServeMetrics:
    """The counters, gauges and histograms ``serve`` exports."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "onboard_sync_webhook_requests",
            "Webhook requests answered, by status.",
            ["instance", "status"],
            registry=r,
        )
        self.received = Counter(
            "onboard_sync_webhook_events_received", "Verified events persisted (new).", ["instance"], registry=r
        )
        self.duplicates = Counter(
            "onboard_sync_webhook_events_duplicate",
            "Verified events already in the inbox.",
            ["instance"],
            registry=r,
        )
        self.rejected = Counter(
            "onboard_sync_webhook_rejected", "Requests rejected, by reason.", ["instance", "reason"], registry=r
        )
        self.processed = Counter(
            "onboard_sync_webhook_events_processed", "Events whose reconcile finished.", ["instance"], registry=r
        )
        self.reconciles = Counter(
            "onboard_sync_reconciles",
            "Reconcile runs by kind (webhook, incremental, follow-up, full) and outcome.",
            ["kind", "outcome"],
            registry=r,
        )
        self.ack_seconds = Histogram(
            "onboard_sync_webhook_ack_seconds",
            "Time from request start to answer.",
            ["instance"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.lag_seconds = Histogram(
            "onboard_sync_webhook_lag_seconds",
            "Time from receipt to processed.",
            ["instance"],
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.pending = Gauge("onboard_sync_webhook_inbox_pending", "Events waiting in the inbox.", registry=r)

    def render(self) -> bytes:
        return generate_latest(self.registry)

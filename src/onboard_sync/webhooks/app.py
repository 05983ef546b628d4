"""The receiving ASGI app (Starlette): ``POST /webhooks/{instance}``, ``GET /healthz``, ``GET /metrics``.

Built by ``webhooks.server`` for ``onboard-sync serve`` (and by tests). Each delivery is
handled in this order, and answered fast:

1. route by instance (404 unknown); body size from Content-Length, then as streamed (413);
2. verify with the instance's scheme (401 bad or missing signature, stale timestamp, wrong org);
3. parse into events (400 malformed);
4. persist every event in the queue with its dedup key, in one transaction (503 if the store
   fails, so the sender retries); only then answer 2xx (the scheme's Ack);
5. after the answer is sent, wake the worker (crash point ``after-inbox-ack`` sits here).

Every outcome is counted (``ServeMetrics``) and rejections are logged with the instance,
status and reason only: no secret, header value or body ever reaches a log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Lifespan

from onboard_sync.crash import crash_point
from onboard_sync.inbound import Rejected, WebhookRequest
from onboard_sync.webhooks.metrics import ServeMetrics
from onboard_sync.webhooks.queue import EventQueue
from onboard_sync.webhooks.schemes import Scheme, SchemeOptions
from onboard_sync.webhooks.signatures import public_url

log = logging.getLogger("onboard_sync.webhooks")


@dataclass(frozen=True)
class RouteConfig:
    """One instance's route: its scheme and options (with the secret, never logged)."""

    instance: str
    scheme: Scheme
    options: SchemeOptions

    def __repr__(self) -> str:
        return f"RouteConfig({self.instance!r}, {self.scheme.name!r})"


@dataclass
class ReceiverSettings:
    max_body_bytes: int = 1_048_576
    public_url: str | None = None
    trust_forwarded_headers: bool = False


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise Rejected(400, "malformed", "Content-Length is not a number") from None
        if size > limit:
            raise Rejected(413, "too-large", f"body of {size} bytes exceeds the {limit}-byte limit")
    chunks: list[bytes] = []
    total = 0
    try:
        async for chunk in request.stream():
            total += len(chunk)
            if total > limit:
                raise Rejected(413, "too-large", f"body exceeds the {limit}-byte limit")
            chunks.append(chunk)
    except ClientDisconnect:
        raise Rejected(400, "malformed", "client disconnected before the body ended") from None
    return b"".join(chunks)


def build_app(
    routes: Mapping[str, RouteConfig],
    queue: EventQueue,
    metrics: ServeMetrics,
    *,
    settings: ReceiverSettings | None = None,
    notify: Callable[[], None] = lambda: None,
    health: Callable[[], dict[str, object]] = lambda: {},
    lifespan: Lifespan[Starlette] | None = None,
) -> Starlette:
    """The ASGI app. ``notify`` wakes the worker (called on the event loop: it must not block);
    ``health`` adds fields to ``/healthz``;
    ``lifespan`` (serve's) starts the worker when the server starts and stops it on shutdown."""
    cfg = settings or ReceiverSettings()

    def reject(instance: str, exc: Rejected, started: float) -> Response:
        metrics.rejected.labels(instance, exc.reason).inc()
        metrics.requests.labels(instance, str(exc.status)).inc()
        metrics.ack_seconds.labels(instance).observe(time.perf_counter() - started)
        log.warning("webhook rejected: instance=%s status=%d reason=%s: %s", instance, exc.status, exc.reason, exc)
        return JSONResponse({"error": exc.reason, "message": str(exc)}, status_code=exc.status)

    async def after_ack() -> None:  # on the event loop: a thread of the pool per delivery cost more than this
        crash_point("after-inbox-ack")
        notify()

    async def receive(request: Request) -> Response:
        started = time.perf_counter()
        instance = request.path_params["instance"]
        route = routes.get(instance)
        label = instance if route is not None else "-"
        try:
            if route is None:
                raise Rejected(404, "unknown-route", "no webhook route for this instance")
            body = await _read_body(request, cfg.max_body_bytes)
            url = public_url(
                request.url.scheme,
                request.headers.get("host", request.url.netloc),
                request.url.path,
                request.url.query,
                request.headers,
                trust_forwarded=cfg.trust_forwarded_headers,
                base_url=cfg.public_url,
            )
            req = WebhookRequest(request.method, url, body, request.headers, time.time())
            route.scheme.verify(req, route.options)
            events = route.scheme.parse(req, route.options)
        except Rejected as exc:
            return reject(label, exc, started)
        received_at = datetime.now(UTC)
        try:
            new = await run_in_threadpool(
                queue.enqueue, instance, [(e.key, e.to_payload()) for e in events], received_at
            )
        except Exception as exc:  # the store is down or locked: ask the sender to retry
            log.error("webhook not persisted: instance=%s: %s", instance, type(exc).__name__)
            metrics.requests.labels(instance, "503").inc()
            return JSONResponse({"error": "unavailable"}, status_code=503, headers={"Retry-After": "5"})
        metrics.received.labels(instance).inc(new)
        metrics.duplicates.labels(instance).inc(len(events) - new)
        ack = route.scheme.ack(events)
        metrics.requests.labels(instance, str(ack.status)).inc()
        metrics.ack_seconds.labels(instance).observe(time.perf_counter() - started)
        return Response(
            ack.body, status_code=ack.status, media_type=ack.content_type, background=BackgroundTask(after_ack)
        )

    async def not_found(request: Request) -> Response:
        return reject("-", Rejected(404, "unknown-route", "no such route"), time.perf_counter())

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "routes": sorted(routes), **health()})

    async def metrics_endpoint(request: Request) -> Response:
        try:
            metrics.pending.set(await run_in_threadpool(queue.pending))
        except Exception:  # a scrape must not fail because the store is busy
            log.debug("pending gauge not refreshed", exc_info=True)
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    return Starlette(
        routes=[
            Route("/webhooks/{instance}", receive, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            Route("/{path:path}", not_found, methods=methods),
        ],
        lifespan=lifespan,
    )

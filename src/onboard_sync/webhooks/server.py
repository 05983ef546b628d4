"""Assemble and run ``onboard-sync serve``: routes from config, the store queue, the worker, uvicorn.

``build_service(runtime, store)`` resolves each connector instance's route (scheme declared
by the connector or ``[serve.webhooks.NAME]``, secret from the environment variable the
settings name, the Salesforce org id from ``[serve.webhooks.NAME]`` or else the connector's
settings) and returns the app, worker and metrics; ``serve(runtime)`` runs it on uvicorn
until SIGINT/SIGTERM, the worker in its own process (``[serve] worker``, see
:mod:`onboard_sync.webhooks.worker_process`) started and stopped by the app's lifespan, so a
SIGTERM stops it gracefully before uvicorn ends the process. Called by ``cli/serve.py`` and
the tests.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool

from onboard_sync.checks import raise_first, webhook_problems
from onboard_sync.errors import ConfigError
from onboard_sync.listening import listening_socket
from onboard_sync.plugins import connector_type, webhook_schemes
from onboard_sync.runtime import Runtime
from onboard_sync.serve_config import WebhookRoute
from onboard_sync.store import Store
from onboard_sync.webhooks.app import ReceiverSettings, RouteConfig, build_app
from onboard_sync.webhooks.metrics import ServeMetrics
from onboard_sync.webhooks.queue import StoreQueue
from onboard_sync.webhooks.schemes import SchemeOptions
from onboard_sync.webhooks.worker import Worker
from onboard_sync.webhooks.worker_process import WorkerProcess

if TYPE_CHECKING:
    from onboard_sync.webhooks.engine_queue import EngineHandoff


@dataclass
class Service:
    app: Starlette
    worker: Worker | WorkerProcess | EngineHandoff
    metrics: ServeMetrics
    queue: StoreQueue
    routes: dict[str, RouteConfig]


def resolve_routes(runtime: Runtime) -> dict[str, RouteConfig]:
    """One route per connector instance with a webhook scheme; errors name the config key."""
    config = runtime.config
    serve = config.serve
    raise_first(list(webhook_problems(config)))
    routes: dict[str, RouteConfig] = {}
    schemes = webhook_schemes()
    for name, settings in config.connectors.items():
        override = serve.webhooks.get(name, WebhookRoute())
        if not override.enabled:
            continue
        cls = connector_type(settings.type).cls
        scheme_name = override.scheme or cls.webhook_scheme
        if scheme_name is None:
            continue
        scheme = schemes.get(scheme_name)
        if scheme is None:
            raise ConfigError(
                f"unknown webhook scheme {scheme_name!r} (known: {', '.join(sorted(schemes))})",
                where=config.where("serve", "webhooks", name, "scheme"),
            )
        where = config.where("serve", "webhooks", name) if name in serve.webhooks else config.where("connectors", name)
        secret, organization_id = "", None
        if scheme.needs_secret:
            env = override.secret_env or cls.webhook_secret_env(settings)
            secret = config.secrets.get(env, "") if env else ""
            if not secret:
                raise ConfigError(
                    f"the webhook signing secret of {name!r} is not set: export {env or 'its secret_env'} "
                    f"(or set [serve.webhooks.{name}] enabled = false)",
                    where=where,
                )
        if scheme.needs_organization_id:
            organization_id = override.organization_id or cls.webhook_organization_id(settings)
            if not organization_id:
                raise ConfigError(
                    f"{scheme_name} needs the org id messages must carry: set [connectors.{name}] "
                    f"organization_id (or [serve.webhooks.{name}] organization_id; or enabled = false there)",
                    where=where,
                )
        options = SchemeOptions(secret, override.max_age_seconds, organization_id)
        routes[name] = RouteConfig(name, scheme, options)
    return routes


def serve_readiness(runtime: Runtime) -> str:
    """One line for ``validate``: the webhook routes ``serve`` would open, or why it would not start
    (a signing secret missing from this environment is a note, not an error: cron needs none)."""
    try:
        routes = resolve_routes(runtime)
    except ConfigError as exc:
        return f"note: `onboard-sync serve` would not start here: {exc}"
    if not routes:
        return "serve: no webhook routes (no connector instance receives webhooks)"
    return "serve: webhook routes " + ", ".join(f"/webhooks/{n} ({r.scheme.name})" for n, r in routes.items())


def build_service(
    runtime: Runtime,
    store: Store,
    *,
    coalesce_seconds: float | None = None,
    managed: bool = False,
    worker_mode: str | None = None,
    receiver_only: bool | None = None,
) -> Service:
    """The app, its queue, metrics and worker (a process when ``[serve] worker = "process"``, or
    ``worker_mode`` says so, and config.toml has a path to give it; else a thread). With
    ``managed`` the app's lifespan starts and stops the worker; otherwise the caller does (tests).
    ``receiver_only`` (or ``[serve] receiver_only``): no worker; each delivery is persisted and a
    reconcile enqueued for ``onboard-sync worker`` processes (:mod:`onboard_sync.webhooks.engine_queue`)."""
    serve = runtime.config.serve
    routes = resolve_routes(runtime)
    metrics = ServeMetrics()
    queue: StoreQueue
    worker: Worker | WorkerProcess | EngineHandoff
    if serve.receiver_only if receiver_only is None else receiver_only:
        from onboard_sync.durable.system_db import system_database
        from onboard_sync.webhooks.engine_queue import EngineHandoff, EngineQueue

        queue = EngineQueue(store, system_database(runtime.config.store_url, runtime.config.store_where or None))
        worker = EngineHandoff(queue)
    elif (worker_mode or serve.worker) == "process" and runtime.config.path is not None:
        queue = StoreQueue(store)
        worker = WorkerProcess(runtime.config.path, metrics, coalesce_seconds=coalesce_seconds)
    else:
        queue = StoreQueue(store)
        worker = Worker(
            runtime,
            store,
            queue,
            metrics,
            full_every_seconds=serve.full_sync_every_minutes * 60 or None,
            coalesce_seconds=serve.coalesce_seconds if coalesce_seconds is None else coalesce_seconds,
        )
    app = build_app(
        routes,
        queue,
        metrics,
        settings=ReceiverSettings(serve.max_body_bytes, serve.public_url, serve.trust_forwarded_headers),
        notify=worker.notify,
        health=worker.health,
        lifespan=_worker_lifespan(worker) if managed else None,
    )
    return Service(app, worker, metrics, queue, routes)


def _worker_lifespan(worker: Worker | WorkerProcess | EngineHandoff) -> Any:
    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        worker.start()
        try:
            yield
        finally:  # uvicorn's shutdown (SIGINT/SIGTERM) runs this before it re-raises the signal
            await run_in_threadpool(worker.stop)

    return lifespan


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: any free one) with TCP_NODELAY on accepted connections; a busy
    port is a UserError naming ``host:port``."""
    return listening_socket(host, port, backlog=512, hint="choose another with --port or [serve] port in config.toml")


def serve(
    runtime: Runtime, *, host: str | None = None, port: int | None = None, receiver_only: bool | None = None
) -> None:
    """Run until SIGINT/SIGTERM. Prints ``listening on http://HOST:PORT`` once accepting."""
    settings = runtime.config.serve
    host = host or settings.host
    port = settings.port if port is None else port
    with Store.open(runtime.config.store_url) as store:
        service = build_service(runtime, store, managed=True, receiver_only=receiver_only)
        sock = bind(host, port)
        actual = sock.getsockname()[1]
        config = uvicorn.Config(
            service.app, lifespan="on", log_level="warning", access_log=False, timeout_graceful_shutdown=5
        )
        server = uvicorn.Server(config)
        shown = f"[{host}]" if ":" in host else host
        routes = ", ".join(f"/webhooks/{n} ({r.scheme.name})" for n, r in service.routes.items()) or "none"
        print(
            f"onboard-sync serve: listening on http://{shown}:{actual}  routes: {routes}", file=sys.stderr, flush=True
        )
        try:
            server.run(sockets=[sock])
        finally:
            service.worker.stop()  # already stopped by the lifespan unless startup failed; idempotent
            sock.close()

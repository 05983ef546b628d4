"""Fixtures of the webhook tests: a sandbox project with `serve` running in-process over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from webhook_support import SECRET, SECRET_ENV, Served, add_serve_config

from onboard_sync.server_thread import ServerThread


@pytest.fixture
def webhook_project(sandbox_project: Any) -> Any:
    sandbox_project.monkeypatch.setenv(SECRET_ENV, SECRET)
    add_serve_config(sandbox_project)
    sandbox_project.setup_crm()
    return sandbox_project


@pytest.fixture
def served(webhook_project: Any, request: pytest.FixtureRequest) -> Iterator[Served]:
    """The receiver in a server thread; the worker a thread too (its state is inspectable), or, with
    ``@pytest.mark.parametrize("served", ["process"], indirect=True)``, a process as ``serve`` runs it."""
    from onboard_sync.webhooks.server import build_service

    store = webhook_project.store()
    service = build_service(webhook_project.runtime(), store, worker_mode=getattr(request, "param", "thread"))
    server = ServerThread(service.app, name="serve")
    server.start()
    service.worker.start()
    _wait_until_running(server.base_url)
    try:
        yield Served(webhook_project, service, server, store)
    finally:
        webhook_project.sandbox.webhooks.close()
        service.worker.stop()
        server.stop()
        store.close()


def _wait_until_running(base_url: str, timeout: float = 60.0) -> None:
    """As in production, events come to a worker that has started (a process takes seconds to spawn and
    warm up on a busy machine; the latency tests measure reconciles, not that)."""
    import time

    import httpx

    deadline = time.monotonic() + timeout
    while httpx.get(f"{base_url}/healthz", timeout=5).json().get("worker") != "running":
        if time.monotonic() > deadline:
            raise AssertionError(f"the worker did not start within {timeout:g} s")
        time.sleep(0.05)

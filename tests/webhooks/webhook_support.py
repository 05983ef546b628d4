"""Helpers of the webhook tests (imported by name: a `conftest` module name is shared by every folder)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from onboard_sync.server_thread import ServerThread

SECRET_ENV = "HUBSPOT_CLIENT_SECRET"
SECRET = "test-app-client-secret-0000"


def add_serve_config(project: Any, extra: str = "") -> None:
    """Append a [serve] table (no periodic full sync: only webhooks can cause a reconcile)."""
    with project.config_path.open("a", encoding="utf-8") as fh:
        fh.write(f"\n[serve]\nfull_sync_every_minutes = 0\ncoalesce_seconds = 0.05\n{extra}\n")


def wait_for(check: Callable[[], Any], timeout: float = 15.0, every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(every)


@dataclass
class Served:
    project: Any
    service: Any
    server: ServerThread
    store: Any

    @property
    def url(self) -> str:
        return f"{self.server.base_url}/webhooks/hubspot"


def open_deal(sandbox: Any) -> str:
    """An open deal with an owner and a company (closing it must start an onboarding)."""
    backend = sandbox.backend
    for deal_id, deal in sorted(backend.deals.items()):
        props = deal.properties
        if (
            props.get("dealstage") not in ("closedwon", "closedlost")
            and props.get("hubspot_owner_id")
            and backend.associations("deals", deal_id, "companies")
        ):
            return deal_id
    raise AssertionError("the seeded sandbox has no open deal with an owner and a company")


def deal_task_keys(sandbox: Any, deal_id: str) -> list[str]:
    return [
        t.properties["onboard_sync_key"]
        for t in sandbox.backend.tasks.values()
        if t.properties.get("onboard_sync_key", "").startswith(f"hubspot:{deal_id}:")
    ]

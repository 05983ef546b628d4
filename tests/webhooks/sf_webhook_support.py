"""Helpers of the Salesforce webhook tests: `serve` on a Salesforce sandbox project, and the deliveries
Salesforce would make (an Outbound Message as the Outbound Message WSDL defines it, a signed callout)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpx
from webhook_support import Served, add_serve_config

from onboard_sync.sandbox.salesforce.errors import sf_id
from onboard_sync.sandbox.salesforce.outbound import OPPORTUNITY_FIELDS, SOAP_HEADERS, notifications_body
from onboard_sync.server_thread import ServerThread
from onboard_sync.webhooks.signatures import callout_signature

KEY_FIELD = "OnboardSync_Key__c"
FLOW_SECRET_ENV = "SALESFORCE_WEBHOOK_SECRET"
FLOW_SECRET = "test-flow-shared-secret-0000"


@contextmanager
def serving(project: Any, extra: str = "") -> Iterator[Served]:
    """`serve` in-process over real HTTP on a Salesforce sandbox project (fields set up, no periodic sync)."""
    from onboard_sync.webhooks.server import build_service

    add_serve_config(project, extra)
    project.setup_crm()
    store = project.store()
    service = build_service(project.runtime(), store, worker_mode="thread")
    server = ServerThread(service.app, name="serve")
    server.start()
    service.worker.start()
    try:
        yield Served(project, service, server, store)
    finally:
        service.worker.stop()
        server.stop()
        store.close()


def route_url(served: Served, instance: str = "salesforce") -> str:
    return f"{served.server.base_url}/webhooks/{instance}"


def open_opportunity(sandbox: Any) -> str:
    """An open Opportunity with an owner and an Account (winning it must start an onboarding)."""
    for opp_id, opp in sorted(sandbox.backend.opportunities.items()):
        if not opp["IsClosed"] and opp.get("OwnerId") and opp.get("AccountId"):
            return str(opp_id)
    raise AssertionError("the seeded sandbox has no open Opportunity with an owner and an Account")


def opportunity_task_keys(sandbox: Any, opp_id: str) -> list[str]:
    """Keys of the onboard-sync Tasks on that Opportunity's onboarding (one entry per Task)."""
    return [
        str(t[KEY_FIELD])
        for t in sandbox.backend.tasks.values()
        if str(t.get(KEY_FIELD) or "").startswith(f"salesforce:{opp_id}:")
    ]


def outbound_message(
    sandbox: Any,
    opp_ids: Sequence[str],
    *,
    organization_id: str | None = None,
    first_notification: int = 1,
    fields: Sequence[str] = OPPORTUNITY_FIELDS,
) -> bytes:
    """The SOAP ``notifications`` request Salesforce posts for these Opportunities, with their current values
    (built by the sandbox's Outbound Message sender; one Notification, its Id the dedup key, per record)."""
    records = [
        (sf_id("04l", first_notification + offset), sandbox.backend.opportunities[opp_id])
        for offset, opp_id in enumerate(opp_ids)
    ]
    return notifications_body(sandbox, records, organization_id=organization_id, fields=fields)


def post_outbound(url: str, body: bytes) -> httpx.Response:
    return httpx.post(url, content=body, headers=SOAP_HEADERS, timeout=10)


def post_callout(url: str, items: list[dict[str, Any]], secret: str = FLOW_SECRET) -> httpx.Response:
    """A Flow HTTP Callout / Apex callout signed as docs/webhooks.md says."""
    body = json.dumps(items).encode()
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Onboard-Sync-Timestamp": stamp,
        "X-Onboard-Sync-Signature": callout_signature(secret, stamp, body),
    }
    return httpx.post(url, content=body, headers=headers, timeout=10)

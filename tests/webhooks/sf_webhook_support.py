"""Helpers of the Salesforce webhook tests: `serve` on a Salesforce sandbox project, and the deliveries
Salesforce would make (an Outbound Message as the Outbound Message WSDL defines it, a signed callout)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any
from xml.sax.saxutils import escape

import httpx
from webhook_support import Served, add_serve_config

from onboard_sync.sandbox.salesforce.errors import sf_id
from onboard_sync.server_thread import ServerThread
from onboard_sync.webhooks.signatures import callout_signature

KEY_FIELD = "OnboardSync_Key__c"
FLOW_SECRET_ENV = "SALESFORCE_WEBHOOK_SECRET"
FLOW_SECRET = "test-flow-shared-secret-0000"
SOAP_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
OPPORTUNITY_FIELDS = ("Id", "AccountId", "Amount", "CloseDate", "IsWon", "OwnerId", "StageName")
"""The fields the Outbound Message action sends (docs/webhooks.md asks for at least Id and StageName)."""


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


def _soap_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if isinstance(value, date):
        return value.isoformat()
    return escape(str(value))


def outbound_message(
    sandbox: Any,
    opp_ids: Sequence[str],
    *,
    organization_id: str | None = None,
    first_notification: int = 1,
    fields: Sequence[str] = OPPORTUNITY_FIELDS,
) -> bytes:
    """The SOAP ``notifications`` request Salesforce posts for these Opportunities, with their current values.

    Shaped as the Outbound Message WSDL (namespace ``http://soap.sforce.com/2005/09/outbound``):
    OrganizationId, ActionId, SessionId (nil: "send session id" unticked), EnterpriseUrl, PartnerUrl,
    then one Notification (its own Id, the dedup key) per record with an ``sf:Opportunity`` sObject.
    """
    org = organization_id or sandbox.organization_id
    version = sandbox.api_version
    notes = []
    for offset, opp_id in enumerate(opp_ids):
        record = sandbox.backend.opportunities[opp_id]
        values = "".join(
            f"<sf:{name}>{_soap_value(record.get(name))}</sf:{name}>"
            if record.get(name) is not None
            else f'<sf:{name} xsi:nil="true"/>'
            for name in fields
        )
        notes.append(
            f"<Notification><Id>{sf_id('04l', first_notification + offset)}</Id>"
            f'<sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">{values}</sObject>'
            "</Notification>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<soapenv:Body>"
        '<notifications xmlns="http://soap.sforce.com/2005/09/outbound">'
        f"<OrganizationId>{org}</OrganizationId>"
        f"<ActionId>{sf_id('04k', 1)}</ActionId>"
        '<SessionId xsi:nil="true"/>'
        f"<EnterpriseUrl>{sandbox.base_url}/services/Soap/c/{version}/{org[:15]}</EnterpriseUrl>"
        f"<PartnerUrl>{sandbox.base_url}/services/Soap/u/{version}/{org[:15]}</PartnerUrl>"
        f"{''.join(notes)}"
        "</notifications></soapenv:Body></soapenv:Envelope>"
    ).encode()


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

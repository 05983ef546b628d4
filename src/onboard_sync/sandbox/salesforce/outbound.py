"""Outbound Messages from the Salesforce sandbox, sent as Salesforce sends them.

An Outbound Message action (triggered by a flow or workflow rule on an object) POSTs a SOAP
``notifications`` request (namespace ``http://soap.sforce.com/2005/09/outbound``: OrganizationId,
ActionId, SessionId, EnterpriseUrl, PartnerUrl, then up to 100 ``Notification`` elements, each its
own ``Id`` and the record's chosen fields as an ``sObject``) to the endpoint URL. The receiver must
answer HTTP 200 with ``<notificationsResponse><Ack>true</Ack></notificationsResponse>``; anything
else (another status, no Ack, a timeout) is retried with a growing delay (about 30 s, 1, 2, 4 …
minutes in an org, capped at 2 hours). Salesforce queues one notification per record and sends the
record's values at delivery time, so a record changed twice before delivery is sent once, with its
latest values.

``sb.outbound.subscribe(url)`` is such an action on Opportunity, fired when ``StageName`` changes
(the record-triggered flow of docs/webhooks.md); it hooks ``backend.listeners``. ``retry_delay``
(default Salesforce's 30 s) lets tests retry sooner; ``deliveries`` records every attempt.
:func:`notifications_body` builds the request body (the webhook tests post it themselves too).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from xml.sax.saxutils import escape

import httpx

from onboard_sync.sandbox.salesforce.errors import sf_id

SOAP_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
OPPORTUNITY_FIELDS = ("Id", "AccountId", "Amount", "CloseDate", "IsWon", "OwnerId", "StageName")
"""The fields the Outbound Message action sends (docs/webhooks.md asks for at least Id and StageName)."""
MAX_NOTIFICATIONS = 100
MAX_RETRY_DELAY = 7200.0
ACK = b"<Ack>true</Ack>"


def soap_value(value: Any) -> str:
    """A field value as the enterprise WSDL writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if isinstance(value, date):
        return value.isoformat()
    return escape(str(value))


def notifications_body(
    sandbox: Any,
    records: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    organization_id: str | None = None,
    sobject: str = "Opportunity",
    fields: Sequence[str] = OPPORTUNITY_FIELDS,
    action: int = 1,
) -> bytes:
    """The SOAP request for ``records`` (``(notification id, record)`` pairs) of ``sandbox``'s org."""
    org = organization_id or sandbox.organization_id
    version = sandbox.api_version
    notes = []
    for note_id, record in records:
        values = "".join(
            f"<sf:{name}>{soap_value(record.get(name))}</sf:{name}>"
            if record.get(name) is not None
            else f'<sf:{name} xsi:nil="true"/>'
            for name in fields
        )
        notes.append(
            f"<Notification><Id>{note_id}</Id>"
            f'<sObject xsi:type="sf:{sobject}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">{values}</sObject>'
            "</Notification>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<soapenv:Body>"
        '<notifications xmlns="http://soap.sforce.com/2005/09/outbound">'
        f"<OrganizationId>{org}</OrganizationId>"
        f"<ActionId>{sf_id('04k', action)}</ActionId>"
        '<SessionId xsi:nil="true"/>'
        f"<EnterpriseUrl>{sandbox.base_url}/services/Soap/c/{version}/{org[:15]}</EnterpriseUrl>"
        f"<PartnerUrl>{sandbox.base_url}/services/Soap/u/{version}/{org[:15]}</PartnerUrl>"
        f"{''.join(notes)}"
        "</notifications></soapenv:Body></soapenv:Envelope>"
    ).encode()


def stage_changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> bool:
    """The flow's entry condition: an Opportunity's StageName changed (or it was created)."""
    return not before or before.get("StageName") != after.get("StageName")


@dataclass
class Delivery:
    """One POST: notifications sent, attempt number, the answer (``None``: timeout or no connection)."""

    notifications: int
    attempt: int
    status: int | None
    acked: bool
    seconds: float
    body: bytes = field(repr=False, default=b"")


@dataclass
class Action:
    """One Outbound Message action and its queue (record id → notification id, oldest first)."""

    url: str
    sobject: str
    fields: tuple[str, ...]
    when: Callable[[Mapping[str, Any], Mapping[str, Any]], bool]
    retry_delay: float
    timeout: float
    linger: float
    queued: dict[str, str] = field(default_factory=dict)


class OutboundMessages:
    """The org's Outbound Message actions and the thread that delivers them."""

    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox
        self.actions: list[Action] = []
        self.deliveries: list[Delivery] = []
        self._cond = threading.Condition()
        self._closed = False
        self._busy = 0
        self._thread: threading.Thread | None = None
        self._notes = 0

    def subscribe(
        self,
        url: str,
        *,
        sobject: str = "Opportunity",
        fields: Sequence[str] = OPPORTUNITY_FIELDS,
        when: Callable[[Mapping[str, Any], Mapping[str, Any]], bool] = stage_changed,
        retry_delay: float = 30.0,
        timeout: float = 10.0,
        linger: float = 0.05,
    ) -> Action:
        """Send ``fields`` of each ``sobject`` record to ``url`` whenever ``when(before, after)`` holds."""
        with self._cond:
            action = Action(url, sobject, tuple(fields), when, retry_delay, timeout, linger)
            self.actions.append(action)
            if self._on_change not in self.sandbox.backend.listeners:
                self.sandbox.backend.listeners.append(self._on_change)
            if self._thread is None:
                self._closed = False
                self._thread = threading.Thread(target=self._run, name="salesforce-outbound", daemon=True)
                self._thread.start()
            return action

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is queued or being sent; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._busy and not any(a.queued for a in self.actions), timeout)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(5)
        backend = self.sandbox.backend
        if self._on_change in backend.listeners:
            backend.listeners.remove(self._on_change)
        with self._cond:
            self._thread = None
            self.actions.clear()

    # -- queueing (called under the backend's lock) ---------------------------------------------
    def _on_change(self, sobject: str, record_id: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> None:
        with self._cond:
            for action in self.actions:
                if action.sobject == sobject and record_id not in action.queued and action.when(before, after):
                    self._notes += 1
                    action.queued[record_id] = sf_id("04l", self._notes)
            self._cond.notify_all()

    # -- sending --------------------------------------------------------------------------------
    def _next(self) -> tuple[Action, list[tuple[str, str]]] | None:
        with self._cond:
            while not self._closed and not any(a.queued for a in self.actions):
                self._cond.wait(0.5)
            if self._closed:
                return None
            action = next(a for a in self.actions if a.queued)
            lingered = time.monotonic() + action.linger
            while len(action.queued) < MAX_NOTIFICATIONS and time.monotonic() < lingered and not self._closed:
                self._cond.wait(max(0.0, lingered - time.monotonic()))
            taken = list(action.queued.items())[:MAX_NOTIFICATIONS]
            for record_id, _ in taken:
                del action.queued[record_id]
            self._busy += 1
            return action, taken

    def _run(self) -> None:
        client = httpx.Client()
        try:
            while (item := self._next()) is not None:
                try:
                    self._deliver(client, *item)
                finally:
                    with self._cond:
                        self._busy -= 1
                        self._cond.notify_all()
        finally:
            client.close()

    def _deliver(self, client: httpx.Client, action: Action, notes: list[tuple[str, str]]) -> bool:
        attempt = 0
        while True:
            backend = self.sandbox.backend
            with backend.lock:  # the values at delivery time, as Salesforce sends them
                records = [(note_id, dict(backend.records[action.sobject].get(rid) or {})) for rid, note_id in notes]
            body = notifications_body(self.sandbox, records, sobject=action.sobject, fields=action.fields)
            started = time.perf_counter()
            status, acked = None, False
            try:
                answer = client.post(action.url, content=body, headers=SOAP_HEADERS, timeout=action.timeout)
                status, acked = answer.status_code, answer.status_code == 200 and ACK in answer.content
            except httpx.HTTPError:
                pass
            self.deliveries.append(Delivery(len(notes), attempt, status, acked, time.perf_counter() - started, body))
            if acked:
                return True
            delay = min(action.retry_delay * (2**attempt), MAX_RETRY_DELAY)
            with self._cond:
                if self._cond.wait_for(lambda: self._closed, timeout=delay):
                    return False
            attempt += 1


__all__ = ["OPPORTUNITY_FIELDS", "SOAP_HEADERS", "OutboundMessages", "notifications_body", "stage_changed"]

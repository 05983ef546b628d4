"""Verification schemes: how each vendor's deliveries are verified, parsed into events and answered.

A connector names its scheme with ``Connector.webhook_scheme`` (or config.toml's
``[serve.webhooks.NAME] scheme = ...`` overrides it); the receiving app (``webhooks.app``) looks
it up here with ``get_scheme``. Schemes live in the core so that no connector has to be
imported, and each is a thin layer over the pure functions of ``signatures`` and ``salesforce``:

* ``hubspot``: v3 signature (v1/v2 for older apps) over the public URL; a JSON array of events.
* ``zendesk``: HMAC over timestamp + body; an event-subscription envelope or a trigger body.
* ``salesforce-outbound``: SOAP Outbound Message, OrganizationId check, SOAP Ack.
* ``salesforce-flow``: a JSON callout (Flow / Apex) signed with the shared-secret HMAC.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

from onboard_sync.webhooks import salesforce as sf
from onboard_sync.webhooks.events import InboundEvent, Rejected, WebhookRequest, content_key, malformed
from onboard_sync.webhooks.signatures import SignatureError, verify_callout, verify_hubspot, verify_zendesk

MAX_EVENTS_PER_REQUEST = 1000


@dataclass(frozen=True, slots=True)
class SchemeOptions:
    """Per-instance options: the secret (from the environment), the clock window, the Salesforce org."""

    secret: str
    max_age_seconds: float = 300.0
    organization_id: str | None = None


@dataclass(frozen=True, slots=True)
class Ack:
    status: int
    body: bytes
    content_type: str


JSON_OK = Ack(200, b'{"status":"ok"}', "application/json")


class Scheme:
    """Base of the schemes: ``verify`` raises ``Rejected``; ``parse`` returns events or raises 400."""

    name: ClassVar[str]

    def verify(self, req: WebhookRequest, options: SchemeOptions) -> None:
        raise NotImplementedError

    def parse(self, req: WebhookRequest, options: SchemeOptions) -> list[InboundEvent]:
        raise NotImplementedError

    def ack(self, events: list[InboundEvent]) -> Ack:
        return JSON_OK


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise malformed(f"body is not JSON ({type(exc).__name__})") from None


def _unauthorised(exc: SignatureError) -> Rejected:
    return Rejected(401, exc.reason, str(exc))


class HubSpotScheme(Scheme):
    name = "hubspot"
    KINDS: ClassVar[dict[str, str]] = {
        "deal": "deal",
        "company": "account",
        "contact": "contact",
        "ticket": "ticket",
    }

    def verify(self, req: WebhookRequest, options: SchemeOptions) -> None:
        try:
            verify_hubspot(
                options.secret,
                method=req.method,
                uri=req.url,
                body=req.body,
                headers=req.headers,
                now=req.now,
                max_age=options.max_age_seconds,
            )
        except SignatureError as exc:
            raise _unauthorised(exc) from None

    def parse(self, req: WebhookRequest, options: SchemeOptions) -> list[InboundEvent]:
        data = _json(req.body)
        if not isinstance(data, list):
            raise malformed("HubSpot sends a JSON array of events")
        if len(data) > MAX_EVENTS_PER_REQUEST:
            raise malformed(f"more than {MAX_EVENTS_PER_REQUEST} events in one request")
        events: list[InboundEvent] = []
        for index, item in enumerate(data):
            if not isinstance(item, dict):
                raise malformed(f"event [{index}] is not an object")
            kind_type = item.get("subscriptionType") or item.get("eventType")
            object_id = item.get("objectId")
            if not isinstance(kind_type, str) or object_id is None or isinstance(object_id, dict | list):
                raise malformed(f"event [{index}] lacks subscriptionType or objectId")
            occurred = item.get("occurredAt")
            # eventId is not unique across subscriptions or portals: the key is the whole event
            # (minus attemptNumber, which changes on every retry).
            key = content_key(
                f"hubspot:{item.get('portalId', '')}:{item.get('eventId', '')}", item, ignore=("attemptNumber",)
            )
            events.append(
                InboundEvent(
                    key=key,
                    kind=self.KINDS.get(kind_type.split(".")[0], "other"),
                    object_id=str(object_id),
                    type=kind_type,
                    occurred_at_ms=occurred if isinstance(occurred, int) else None,
                    raw=item,
                )
            )
        return events


class ZendeskScheme(Scheme):
    name = "zendesk"
    KINDS: ClassVar[dict[str, str]] = {"ticket": "ticket", "organization": "account", "user": "contact"}

    def verify(self, req: WebhookRequest, options: SchemeOptions) -> None:
        try:
            verify_zendesk(
                options.secret, body=req.body, headers=req.headers, now=req.now, max_age=options.max_age_seconds
            )
        except SignatureError as exc:
            raise _unauthorised(exc) from None

    def parse(self, req: WebhookRequest, options: SchemeOptions) -> list[InboundEvent]:
        data = _json(req.body)
        if not isinstance(data, dict):
            raise malformed("a Zendesk webhook body is a JSON object")
        invocation = {k.lower(): v for k, v in req.headers.items()}.get("x-zendesk-webhook-invocation-id")
        subject = data.get("subject")
        if isinstance(subject, str) and subject.startswith("zen:"):  # event-subscription envelope
            parts = subject.split(":")
            if len(parts) != 3 or not isinstance(data.get("type"), str):
                raise malformed("subject must be zen:<type>:<id> with a type")
            kind, object_id, event_type = self.KINDS.get(parts[1], "other"), parts[2], data["type"]
            key = f"zendesk:{data['id']}" if isinstance(data.get("id"), str) else content_key("zendesk", data)
        elif data.get("ticket_id") is not None:  # a trigger/automation body (docs/webhooks.md template)
            kind, object_id = "ticket", str(data["ticket_id"])
            event_type = str(data.get("event", "trigger"))
            key = f"zendesk:{invocation}" if invocation else content_key("zendesk", data)
        else:
            raise malformed("neither an event envelope (subject) nor a trigger body (ticket_id)")
        return [InboundEvent(key=key[:255], kind=kind, object_id=object_id, type=event_type, raw=data)]


class SalesforceOutboundScheme(Scheme):
    name = "salesforce-outbound"

    def verify(self, req: WebhookRequest, options: SchemeOptions) -> None:
        # no signature exists: parsing checks the OrganizationId (see ``parse``)
        if not options.organization_id:
            raise Rejected(401, "wrong-organization", "no organization_id configured for this route")

    def parse(self, req: WebhookRequest, options: SchemeOptions) -> list[InboundEvent]:
        message = sf.parse_outbound_message(req.body)
        sf.check_organization(message, options.organization_id or "")
        return [
            InboundEvent(
                key=f"salesforce:{message.organization_id[:15]}:{n.id}",
                kind=sf.KINDS.get(n.object_type, "other"),
                object_id=n.record_id,
                type=f"{n.object_type}.outbound",
                raw={"Id": n.id, "ActionId": message.action_id, "type": n.object_type, "fields": n.fields},
            )
            for n in message.notifications
        ]

    def ack(self, events: list[InboundEvent]) -> Ack:
        return Ack(200, sf.ACK, "text/xml; charset=utf-8")


class SalesforceFlowScheme(Scheme):
    """A Flow HTTP Callout or Apex callout we define: ``{"id", "object", "recordId"}`` (or a list)."""

    name = "salesforce-flow"

    def verify(self, req: WebhookRequest, options: SchemeOptions) -> None:
        try:
            verify_callout(
                options.secret, body=req.body, headers=req.headers, now=req.now, max_age=options.max_age_seconds
            )
        except SignatureError as exc:
            raise _unauthorised(exc) from None

    def parse(self, req: WebhookRequest, options: SchemeOptions) -> list[InboundEvent]:
        data = _json(req.body)
        items = data if isinstance(data, list) else [data]
        events: list[InboundEvent] = []
        for index, item in enumerate(items[:MAX_EVENTS_PER_REQUEST]):
            if not isinstance(item, dict) or not item.get("recordId") or not isinstance(item.get("object"), str):
                raise malformed(f"callout item [{index}] needs 'object' and 'recordId'")
            key = f"salesforce-flow:{item['id']}" if item.get("id") else content_key("salesforce-flow", item)
            events.append(
                InboundEvent(
                    key=key[:255],
                    kind=sf.KINDS.get(item["object"], "other"),
                    object_id=str(item["recordId"]),
                    type=f"{item['object']}.{item.get('event', 'callout')}",
                    raw=item,
                )
            )
        return events


SCHEMES: dict[str, Scheme] = {
    s.name: s for s in (HubSpotScheme(), ZendeskScheme(), SalesforceOutboundScheme(), SalesforceFlowScheme())
}


def get_scheme(name: str) -> Scheme | None:
    return SCHEMES.get(name)


def scheme_names() -> list[str]:
    return sorted(SCHEMES)


__all__ = ["Ack", "Scheme", "SchemeOptions", "get_scheme", "scheme_names"]

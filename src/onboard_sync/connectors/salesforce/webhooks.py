"""Salesforce's two webhook schemes: registered by :mod:`.plugin`, used by ``onboard-sync serve``.

* ``salesforce-outbound``: a SOAP Outbound Message (:mod:`.outbound_messages` parses it); no
  signature exists, so the OrganizationId is checked against the configured org; answered with
  the SOAP Ack Salesforce retries until it gets.
* ``salesforce-flow``: a JSON callout (Flow HTTP Callout or Apex) signed with the shared-secret
  HMAC of ``webhooks.signatures.verify_callout``.
"""

from __future__ import annotations

from onboard_sync.connectors.salesforce import outbound_messages as om
from onboard_sync.inbound import InboundEvent, Rejected, WebhookRequest, content_key, malformed
from onboard_sync.webhooks.schemes import (
    MAX_EVENTS_PER_REQUEST,
    Ack,
    Scheme,
    SchemeOptions,
    parse_json,
    signature_check,
)
from onboard_sync.webhooks.signatures import verify_callout


class SalesforceOutboundScheme(Scheme):
    name = "salesforce-outbound"
    needs_secret = False
    needs_organization_id = True

    def verify(self, req: WebhookRequest, options: SchemeOptions) -> None:
        # no signature exists: parsing checks the OrganizationId (see ``parse``)
        if not options.organization_id:
            raise Rejected(401, "wrong-organization", "no organization_id configured for this route")

    def parse(self, req: WebhookRequest, options: SchemeOptions) -> list[InboundEvent]:
        message = om.parse_outbound_message(req.body)
        om.check_organization(message, options.organization_id or "")
        return [
            InboundEvent(
                key=f"salesforce:{message.organization_id[:15]}:{n.id}",
                kind=om.KINDS.get(n.object_type, "other"),
                object_id=n.record_id,
                type=f"{n.object_type}.outbound",
                raw={"Id": n.id, "ActionId": message.action_id, "type": n.object_type, "fields": n.fields},
            )
            for n in message.notifications
        ]

    def ack(self, events: list[InboundEvent]) -> Ack:
        return Ack(200, om.ACK, "text/xml; charset=utf-8")


class SalesforceFlowScheme(Scheme):
    """A Flow HTTP Callout or Apex callout we define: ``{"id", "object", "recordId"}`` (or a list)."""

    name = "salesforce-flow"

    def verify(self, req: WebhookRequest, options: SchemeOptions) -> None:
        with signature_check():
            verify_callout(
                options.secret, body=req.body, headers=req.headers, now=req.now, max_age=options.max_age_seconds
            )

    def parse(self, req: WebhookRequest, options: SchemeOptions) -> list[InboundEvent]:
        data = parse_json(req.body)
        items = data if isinstance(data, list) else [data]
        events: list[InboundEvent] = []
        for index, item in enumerate(items[:MAX_EVENTS_PER_REQUEST]):
            if not isinstance(item, dict) or not item.get("recordId") or not isinstance(item.get("object"), str):
                raise malformed(f"callout item [{index}] needs 'object' and 'recordId'")
            key = f"salesforce-flow:{item['id']}" if item.get("id") else content_key("salesforce-flow", item)
            events.append(
                InboundEvent(
                    key=key[:255],
                    kind=om.KINDS.get(item["object"], "other"),
                    object_id=str(item["recordId"]),
                    type=f"{item['object']}.{item.get('event', 'callout')}",
                    raw=item,
                )
            )
        return events

"""HubSpot's webhook scheme (``hubspot``): registered by :mod:`.plugin`, used by ``onboard-sync serve``.

Verifies the v3 signature (v1/v2 for older apps) over the public URL with the app's client
secret (``webhooks.signatures.verify_hubspot``) and parses the JSON array of events HubSpot
sends, one ``InboundEvent`` per item.
"""

from __future__ import annotations

from typing import ClassVar

from onboard_sync.inbound import InboundEvent, WebhookRequest, content_key, malformed
from onboard_sync.webhooks.schemes import MAX_EVENTS_PER_REQUEST, Scheme, SchemeOptions, parse_json, signature_check
from onboard_sync.webhooks.signatures import verify_hubspot


class HubSpotScheme(Scheme):
    name = "hubspot"
    KINDS: ClassVar[dict[str, str]] = {
        "deal": "deal",
        "company": "account",
        "contact": "contact",
        "ticket": "ticket",
    }

    def verify(self, req: WebhookRequest, options: SchemeOptions) -> None:
        with signature_check():
            verify_hubspot(
                options.secret,
                method=req.method,
                uri=req.url,
                body=req.body,
                headers=req.headers,
                now=req.now,
                max_age=options.max_age_seconds,
            )

    def parse(self, req: WebhookRequest, options: SchemeOptions) -> list[InboundEvent]:
        data = parse_json(req.body)
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

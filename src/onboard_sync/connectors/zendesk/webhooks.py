"""Zendesk's webhook scheme (``zendesk``): registered by :mod:`.plugin`, used by ``onboard-sync serve``.

Verifies the webhook's HMAC over timestamp + body (``webhooks.signatures.verify_zendesk``) and
parses either an event-subscription envelope (``subject = "zen:<type>:<id>"``) or the body of a
trigger/automation (``ticket_id``, the template in docs/webhooks.md).
"""

from __future__ import annotations

from typing import ClassVar

from onboard_sync.inbound import InboundEvent, WebhookRequest, content_key, malformed
from onboard_sync.webhooks.schemes import Scheme, SchemeOptions, parse_json, signature_check
from onboard_sync.webhooks.signatures import verify_zendesk


class ZendeskScheme(Scheme):
    name = "zendesk"
    KINDS: ClassVar[dict[str, str]] = {"ticket": "ticket", "organization": "account", "user": "contact"}

    def verify(self, req: WebhookRequest, options: SchemeOptions) -> None:
        with signature_check():
            verify_zendesk(
                options.secret, body=req.body, headers=req.headers, now=req.now, max_age=options.max_age_seconds
            )

    def parse(self, req: WebhookRequest, options: SchemeOptions) -> list[InboundEvent]:
        data = parse_json(req.body)
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

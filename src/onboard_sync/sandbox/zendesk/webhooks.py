"""Signed webhook deliveries from the Zendesk sandbox (for the webhooks issue's receiver).

Zendesk signs each delivery: ``X-Zendesk-Webhook-Signature`` = base64(HMAC-SHA256(secret,
timestamp + raw body)) with ``X-Zendesk-Webhook-Signature-Timestamp`` an ISO-8601 UTC string;
the key is the secret string's bytes as-is. :func:`sign` computes it, :class:`WebhookEmitter`
posts event envelopes (``zen:event-type:ticket.status_changed`` …) to a URL, and can
deliver a duplicate (Zendesk delivers at least once).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from onboard_sync.sandbox.clock import Clock
from onboard_sync.sandbox.zendesk.backend import iso

TEST_SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
"""The fixed secret Zendesk signs "test webhook" deliveries with."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Zendesk's signature: base64(HMAC-SHA256(secret, timestamp + body))."""
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@dataclass
class Delivery:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookEmitter:
    """Posts signed events; ``deliveries`` records every attempt."""

    clock: Clock
    account_id: int = 10973248
    secret: str = TEST_SECRET
    webhook_id: str = "01HSANDBOXWEBHOOK0000000000"
    deliveries: list[Delivery] = field(default_factory=list)

    def envelope(self, kind: str, subject: str, detail: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": f"zen:event-type:{kind}",
            "account_id": self.account_id,
            "id": str(uuid.uuid4()),
            "time": iso(self.clock.now()),
            "zendesk_event_version": "2022-11-06",
            "subject": subject,
            "detail": detail,
            "event": event,
        }

    def ticket_event(self, ticket: dict[str, Any], kind: str = "ticket.status_changed") -> dict[str, Any]:
        detail = {k: (str(v) if k.endswith("id") and v is not None else v) for k, v in ticket.items()}
        return self.envelope(kind, f"zen:ticket:{ticket['id']}", detail, {"current": {"status": ticket["status"]}})

    def deliver(self, url: str, payload: dict[str, Any], *, duplicate: bool = False, timeout: float = 10.0) -> int:
        """POST ``payload`` signed; returns the receiver's status. ``duplicate`` sends it twice."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        timestamp = iso(self.clock.now())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Zendesk Webhook",
            "X-Zendesk-Webhook-Signature": sign(self.secret, timestamp, body),
            "X-Zendesk-Webhook-Signature-Timestamp": timestamp,
            "X-Zendesk-Webhook-Id": self.webhook_id,
            "X-Zendesk-Webhook-Invocation-Id": str(uuid.uuid4()),
            "X-Zendesk-Account-Id": str(self.account_id),
        }
        status = 0
        for _ in range(2 if duplicate else 1):
            try:
                status = httpx.post(url, content=body, headers=headers, timeout=timeout).status_code
            except httpx.HTTPError:
                status = 0
            self.deliveries.append(Delivery(url, status, headers, body))
        return status


__all__ = ["TEST_SECRET", "Delivery", "WebhookEmitter", "sign"]

"""Verification schemes: the base a webhook scheme derives from, and the lookup ``serve`` uses.

A scheme says how one sender's deliveries are verified, parsed into events and answered.
No scheme lives in the core: each connector package registers its own through the
``register_webhook_schemes`` hook (the built-in ones in ``connectors/<vendor>/webhooks.py``:
``hubspot``, ``zendesk``, ``salesforce-outbound``, ``salesforce-flow``), and ``get_scheme``
finds them through the plugin manager. A connector names its scheme with
``Connector.webhook_scheme``; config.toml's ``[serve.webhooks.NAME] scheme = ...`` overrides it.

The shared pieces a scheme is built from live here and in ``onboard_sync.inbound`` (``InboundEvent``,
``Rejected``, ``malformed``, ``content_key``) and ``webhooks.signatures`` (HMAC checks, the
signed-callout format): ``parse_json`` for JSON bodies and ``signature_check`` around a check.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

from onboard_sync.inbound import InboundEvent, Rejected, WebhookRequest, malformed
from onboard_sync.webhooks.signatures import SignatureError

MAX_EVENTS_PER_REQUEST = 1000
"""The most events one delivery may carry (a larger one is refused as malformed)."""


@dataclass(frozen=True, slots=True)
class SchemeOptions:
    """Per-instance options: the secret (from the environment), the clock window, the sender's account."""

    secret: str
    max_age_seconds: float = 300.0
    organization_id: str | None = None


@dataclass(frozen=True, slots=True)
class Ack:
    """What the receiver answers once a delivery's events are persisted."""

    status: int
    body: bytes
    content_type: str


JSON_OK = Ack(200, b'{"status":"ok"}', "application/json")


class Scheme:
    """Base of the schemes: ``verify`` raises ``Rejected``; ``parse`` returns events or raises 400.

    ``name`` is what ``Connector.webhook_scheme`` and ``[serve.webhooks.NAME] scheme`` refer to.
    ``needs_secret``: ``serve`` refuses to start a route without a signing secret (from the env
    variable ``Connector.webhook_secret_env`` or ``secret_env`` names). ``needs_organization_id``:
    deliveries carry no signature but the sender's account id, which ``serve`` takes from
    ``Connector.webhook_organization_id`` or ``organization_id`` and passes in ``SchemeOptions``.
    """

    name: ClassVar[str]
    needs_secret: ClassVar[bool] = True
    needs_organization_id: ClassVar[bool] = False

    def verify(self, req: WebhookRequest, options: SchemeOptions) -> None:
        raise NotImplementedError

    def parse(self, req: WebhookRequest, options: SchemeOptions) -> list[InboundEvent]:
        raise NotImplementedError

    def ack(self, events: list[InboundEvent]) -> Ack:
        return JSON_OK


def parse_json(body: bytes) -> Any:
    """The body as JSON, or ``Rejected`` (400) saying it is not JSON."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise malformed(f"body is not JSON ({type(exc).__name__})") from None


@contextmanager
def signature_check() -> Iterator[None]:
    """Turn a ``SignatureError`` raised in the block into the receiver's 401 (its reason labels
    the metric and the log line)."""
    try:
        yield
    except SignatureError as exc:
        raise Rejected(401, exc.reason, str(exc)) from None


def get_scheme(name: str) -> Scheme | None:
    """The registered scheme called ``name``, or None."""
    from onboard_sync.plugins import webhook_schemes  # the plugin manager loads connectors: not at import

    return webhook_schemes().get(name)


def scheme_names() -> list[str]:
    """The names of every registered scheme, sorted."""
    from onboard_sync.plugins import webhook_schemes

    return sorted(webhook_schemes())


__all__ = [
    "JSON_OK",
    "MAX_EVENTS_PER_REQUEST",
    "Ack",
    "Scheme",
    "SchemeOptions",
    "get_scheme",
    "parse_json",
    "scheme_names",
    "signature_check",
]

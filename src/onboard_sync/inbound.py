"""What a verified webhook becomes: ``InboundEvent`` (one change of one CRM object) and the request
shape the verification schemes see (``WebhookRequest``). Pure data, shared by the schemes (in
the connector packages), the receiving app, the queue and the workers.

**Events that cannot start an onboarding.** A HubSpot ``deal.propertyChange`` names the one property
that changed (``propertyName``). When that is not a property that decides whether a deal is won (the
stage, the close date, the pipeline) and the deal has no onboarding, reconciling it cannot change
anything: :func:`cannot_start_onboarding` says so, and the workers (``serve``'s and ``onboard-sync
worker``, through :func:`onboard_sync.reconcile.deals_to_reconcile`) complete such events without
reading the deal. (If the deal was won unseen, say its stage event was lost, the periodic reconcile
finds it, as it finds any lost event.)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

_json_encode = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode


def canonical_json(value: Any) -> bytes:
    """``json.dumps(value, sort_keys=True, separators=(",", ":"))`` as bytes, written by orjson.

    The receiver encodes every event twice (its dedup key and its inbox payload) on its event loop,
    which at ten concurrent senders was a third of its CPU; orjson does it about five times faster.
    Its output is the standard library's for text, integers, booleans and null (what webhook
    bodies hold): text beyond ASCII, which the standard library escapes and orjson does not, and
    integers beyond 64 bits, which orjson refuses, are written by the standard library. (Floats
    may be written differently, 1e16 for 1e+16: a redelivery that straddles an upgrade would then
    be reconciled once more, which changes nothing.)"""
    try:
        out = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # orjson.JSONEncodeError is a TypeError: e.g. an integer beyond 64 bits
        return _json_encode(value).encode()
    return out if out.isascii() else _json_encode(value).encode()


class Rejected(Exception):
    """A request that must be refused: ``status`` (401/400/413/404) and a short ``reason`` label
    for metrics. The message names what was wrong, never a secret or the body."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


WON_DECIDING_PROPERTIES = frozenset({"dealstage", "closedate", "pipeline", "hs_is_closed_won"})
"""HubSpot deal properties whose change can make a deal won (or start counting it won)."""


def malformed(message: str) -> Rejected:
    return Rejected(400, "malformed", message)


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """A received request as the schemes need it: the public URL the sender signed, raw body, headers."""

    method: str
    url: str
    body: bytes
    headers: Mapping[str, str]
    now: float
    """Receipt time, epoch seconds."""


@dataclass(frozen=True, slots=True)
class InboundEvent:
    """One change the sender told us about. ``key`` deduplicates redeliveries of the same event.

    ``kind`` is ``deal``, ``account``, ``contact``, ``task``, ``ticket`` or ``other``; the worker
    reconciles a ``deal`` by id and anything else with an incremental run of the deal sources.
    """

    key: str
    kind: str
    object_id: str
    type: str
    occurred_at_ms: int | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)

    def to_payload(self) -> bytes:
        """What the inbox stores: the vendor's raw event plus what the worker needs from it."""
        return canonical_json(
            {
                "type": self.type,
                "kind": self.kind,
                "object_id": self.object_id,
                "occurred_at_ms": self.occurred_at_ms,
                "event": dict(self.raw),
            }
        )

    @staticmethod
    def from_payload(key: str, payload: bytes) -> InboundEvent:
        data = json.loads(payload)
        return InboundEvent(
            key=key,
            kind=data["kind"],
            object_id=data["object_id"],
            type=data["type"],
            occurred_at_ms=data.get("occurred_at_ms"),
            raw=data.get("event", {}),
        )


def content_key(prefix: str, data: Mapping[str, Any], *, ignore: tuple[str, ...] = ()) -> str:
    """``prefix:`` + a digest of ``data`` without the ``ignore`` fields (e.g. HubSpot's attemptNumber),
    so a redelivery maps to the same key and two different events never do."""
    kept = {k: v for k, v in data.items() if k not in ignore}
    digest = hashlib.sha256(canonical_json(kept)).hexdigest()
    return f"{prefix}:{digest[:40]}"[:255]


def cannot_start_onboarding(event: InboundEvent) -> bool:
    """True for a change of one named deal property that cannot make the deal won (see the module)."""
    name = event.raw.get("propertyName")
    return event.type.endswith(".propertyChange") and isinstance(name, str) and name not in WON_DECIDING_PROPERTIES

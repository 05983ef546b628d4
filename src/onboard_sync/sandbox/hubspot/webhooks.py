"""Webhook delivery of the HubSpot sandbox: signed JSON-array batches POSTed to subscribers.

``sb.webhooks.subscribe(url, client_secret, app_id=...)`` hooks into ``backend.listeners``:
every change event of a subscribed type (``deal.creation``, ``deal.propertyChange`` ... as
HubSpot names them) is turned into HubSpot's payload shape and delivered by a background
thread in batches of at most 100, signed with v1 (``X-HubSpot-Signature``) and v3
(``X-HubSpot-Signature-v3`` + ``X-HubSpot-Request-Timestamp``) headers. Non-2xx answers and
timeouts are retried (``attemptNumber`` counts up, the request is re-signed). Test knobs:
``duplicates=N`` sends every batch N times; ``hold()`` queues events until
``release(order="reverse"|"shuffle")`` delivers them out of order. Used by the webhook tests
and benchmarks; the signing functions come from the core's ``webhooks.signatures``.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from onboard_sync.sandbox.hubspot.models import ChangeEvent
from onboard_sync.webhooks.signatures import hubspot_v1, hubspot_v3

DEFAULT_TYPES = ("deal.creation", "deal.propertyChange", "deal.deletion")
NOT_SUBSCRIBABLE = {"hs_lastmodifieddate", "lastmodifieddate"}
MAX_BATCH = 100


@dataclass
class Delivery:
    """One POST: how many events, which attempt, the answer (``None`` on timeout/connection error)."""

    subscription_id: int
    events: int
    attempt: int
    status: int | None
    seconds: float


@dataclass
class Subscription:
    id: int
    url: str
    client_secret: str = field(repr=False)
    app_id: int
    types: frozenset[str]
    properties: frozenset[str] | None
    batch_size: int
    max_retries: int
    retry_delay: float
    timeout: float
    duplicates: int
    linger: float


class WebhookDelivery:
    """Subscriptions of one sandbox portal and the thread that delivers to them."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.subscriptions: list[Subscription] = []
        self.deliveries: list[Delivery] = []
        self._pending: list[tuple[Subscription, dict[str, Any]]] = []
        self._cond = threading.Condition()
        self._held = False
        self._busy = 0
        self._closed = False
        self._thread: threading.Thread | None = None
        self._client: httpx.Client | None = None
        self._next_id = 1

    # -- public ---------------------------------------------------------------------------------
    def subscribe(
        self,
        url: str,
        client_secret: str,
        *,
        app_id: int = 54321,
        types: Iterable[str] = DEFAULT_TYPES,
        properties: Iterable[str] | None = None,
        batch_size: int = MAX_BATCH,
        max_retries: int = 10,
        retry_delay: float = 0.2,
        timeout: float = 5.0,
        duplicates: int = 1,
        linger: float = 0.05,
    ) -> Subscription:
        """Deliver events of ``types`` (``properties``: only those for propertyChange) to ``url``."""
        with self._cond:
            sub = Subscription(
                self._next_id,
                url,
                client_secret,
                app_id,
                frozenset(types),
                frozenset(properties) if properties is not None else None,
                max(1, min(batch_size, MAX_BATCH)),
                max_retries,
                retry_delay,
                timeout,
                max(1, duplicates),
                linger,
            )
            self._next_id += 1
            self.subscriptions.append(sub)
            if self._on_event not in self.backend.listeners:
                self.backend.listeners.append(self._on_event)
            if self._thread is None:
                self._client = httpx.Client()
                self._thread = threading.Thread(target=self._run, name="hubspot-webhooks", daemon=True)
                self._thread.start()
            return sub

    def hold(self) -> None:
        """Queue events without delivering them until ``release``."""
        with self._cond:
            self._held = True

    def release(self, order: str = "asc", seed: int = 0) -> None:
        """Deliver what was held, in ``order``: ``asc`` (as emitted), ``reverse`` or ``shuffle``."""
        with self._cond:
            if order == "reverse":
                self._pending.reverse()
            elif order == "shuffle":
                random.Random(seed).shuffle(self._pending)
            self._held = False
            self._cond.notify_all()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued event was delivered (or given up on); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(5)
        if self._client is not None:
            self._client.close()
        if self._on_event in self.backend.listeners:
            self.backend.listeners.remove(self._on_event)
        with self._cond:  # a restarted sandbox can subscribe again
            self._thread, self._client, self._closed = None, None, False
            self.subscriptions.clear()

    # -- event → payload ------------------------------------------------------------------------
    def payload(self, sub: Subscription, event: ChangeEvent) -> dict[str, Any] | None:
        """HubSpot's JSON for ``event`` under ``sub``, or None when ``sub`` does not cover it."""
        if event.subscription_type not in sub.types:
            return None
        if event.subscription_type.endswith(".propertyChange"):
            name = event.property_name or ""
            if name in NOT_SUBSCRIBABLE or (sub.properties is not None and name not in sub.properties):
                return None
        data: dict[str, Any] = {
            "eventId": event.event_id,
            "subscriptionId": sub.id,
            "portalId": self.backend.portal_id,
            "appId": sub.app_id,
            "occurredAt": event.occurred_at_ms,
            "subscriptionType": event.subscription_type,
            "attemptNumber": 0,
            "objectId": int(event.object_id),
            "changeSource": event.change_source,
        }
        if event.subscription_type.endswith(".creation"):
            data["changeFlag"] = "NEW"
        if event.subscription_type.endswith(".propertyChange"):
            data["propertyName"] = event.property_name
            data["propertyValue"] = event.property_value
        return data

    def _on_event(self, event: ChangeEvent) -> None:  # called under backend.lock: only queue
        with self._cond:
            for sub in self.subscriptions:
                data = self.payload(sub, event)
                if data is not None:
                    self._pending.append((sub, data))
            self._cond.notify_all()

    # -- sending --------------------------------------------------------------------------------
    def _next_batch(self) -> tuple[Subscription, list[dict[str, Any]]] | None:
        with self._cond:
            while not self._closed and (self._held or not self._pending):
                self._cond.wait(0.5)
            if self._closed:
                return None
            sub = self._pending[0][0]
            lingered = time.monotonic() + sub.linger
            while len(self._pending) < sub.batch_size and time.monotonic() < lingered and not self._closed:
                self._cond.wait(max(0.0, lingered - time.monotonic()))
            batch = [data for s, data in self._pending if s is sub][: sub.batch_size]
            taken = {id(d) for d in batch}
            self._pending = [(s, d) for s, d in self._pending if id(d) not in taken]
            self._busy += 1
            return sub, batch

    def _run(self) -> None:
        while True:
            item = self._next_batch()
            if item is None:
                return
            sub, batch = item
            try:
                for _ in range(sub.duplicates):
                    self._deliver(sub, batch)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _deliver(self, sub: Subscription, batch: list[dict[str, Any]]) -> bool:
        assert self._client is not None
        for attempt in range(sub.max_retries + 1):
            events = [{**e, "attemptNumber": attempt} for e in batch]
            body = json.dumps(events, separators=(",", ":")).encode()
            stamp = str(int(time.time() * 1000))
            headers = {
                "Content-Type": "application/json",
                "X-HubSpot-Signature": hubspot_v1(sub.client_secret, body),
                "X-HubSpot-Signature-Version": "v1",
                "X-HubSpot-Signature-v3": hubspot_v3(sub.client_secret, "POST", sub.url, body, stamp),
                "X-HubSpot-Request-Timestamp": stamp,
            }
            started = time.perf_counter()
            status: int | None = None
            try:
                status = self._client.post(sub.url, content=body, headers=headers, timeout=sub.timeout).status_code
            except httpx.HTTPError:
                status = None
            self.deliveries.append(Delivery(sub.id, len(batch), attempt, status, time.perf_counter() - started))
            if status is not None and 200 <= status < 300:
                return True
            if self._closed:
                return False
            time.sleep(min(sub.retry_delay * (2**attempt), 30.0))
        return False


__all__ = ["DEFAULT_TYPES", "Delivery", "Subscription", "WebhookDelivery"]

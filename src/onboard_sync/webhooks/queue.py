"""The durable event queue behind ``serve``: ``enqueue`` before the 2xx, ``claim`` and ``complete`` by the worker.

``EventQueue`` is the small interface the receiver (``webhooks.app``) and the worker
(``webhooks.worker``) use; ``StoreQueue`` implements it on the store's ``webhook_inbox``
table (unique ``(source, event_id)``, so a redelivered event is a no-op) for one worker in
the serving process. A distributed engine (DBOS, DESIGN §12) can replace it behind the same
three calls: enqueue with a dedup id, claim a batch, mark it done.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from onboard_sync.store import Store


@dataclass(frozen=True, slots=True)
class QueuedEvent:
    id: int
    source: str
    key: str
    payload: bytes
    received_at: datetime


class EventQueue(Protocol):
    """Durable, deduplicating queue of verified webhook events."""

    def enqueue(self, source: str, events: Sequence[tuple[str, bytes]], received_at: datetime) -> int:
        """Persist ``(dedup key, payload)`` pairs atomically; return how many were new."""
        ...

    def claim(self, limit: int) -> list[QueuedEvent]:
        """Up to ``limit`` unprocessed events not already claimed, oldest first."""
        ...

    def complete(self, ids: Collection[int]) -> None:
        """Mark claimed events processed."""
        ...

    def release(self, ids: Collection[int]) -> None:
        """Give claimed events back (processing failed; they are claimed again later)."""
        ...

    def pending(self) -> int:
        """How many events wait (for the depth gauge and /healthz)."""
        ...


class StoreQueue:
    """``EventQueue`` on the store's inbox table; claims are held in memory (one worker process)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._claimed: set[int] = set()
        self._lock = threading.Lock()
        # Concurrent deliveries (HubSpot sends up to 10 at once) take turns here rather than in
        # SQLite's busy handler, whose sleeps made 10 concurrent writers time out in the benchmark.
        self._write_lock = threading.Lock()

    def enqueue(self, source: str, events: Sequence[tuple[str, bytes]], received_at: datetime) -> int:
        with self._write_lock:  # one statement and one commit per delivery
            return self.store.inbox_add_many(source, events, received_at)

    def claim(self, limit: int) -> list[QueuedEvent]:
        with self._lock:
            rows = self.store.inbox_pending(limit + len(self._claimed))
            fresh = [r for r in rows if r.id not in self._claimed][:limit]
            self._claimed.update(r.id for r in fresh)
        return [QueuedEvent(r.id, r.source, r.event_id, r.payload, r.received_at) for r in fresh]

    def complete(self, ids: Collection[int]) -> None:
        self.store.inbox_mark_processed(list(ids))
        with self._lock:
            self._claimed.difference_update(ids)

    def release(self, ids: Collection[int]) -> None:
        with self._lock:
            self._claimed.difference_update(ids)

    def pending(self) -> int:
        return len(self.store.inbox_pending(100_000))

"""The durable event queue behind ``serve``: ``enqueue`` before the 2xx, ``claim`` and ``complete`` by the worker.

``EventQueue`` is the small interface the receiver (``webhooks.app``) and the worker
(``webhooks.worker``) use; ``StoreQueue`` implements it on the store's ``webhook_inbox``
table (unique ``(source, event_id)``, so a redelivered event is a no-op) for one worker in
the serving process. A distributed engine (DBOS, DESIGN §12) can replace it behind the same
three calls: enqueue with a dedup id, claim a batch, mark it done.

``StoreQueue.enqueue`` commits in groups: deliveries that arrive while a commit is under way wait
for it, and the next commit writes all of them in one transaction (one journal sync instead of
one per delivery), so ten concurrent senders wait for one or two commits, not for nine others'.
Each delivery is still answered only after the commit that holds its events.
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


@dataclass(eq=False, slots=True)
class _Delivery:
    """One ``enqueue`` call waiting for the commit that holds its events."""

    source: str
    events: Sequence[tuple[str, bytes]]
    received_at: datetime
    new: int = 0
    error: BaseException | None = None
    done: bool = False


class StoreQueue:
    """``EventQueue`` on the store's inbox table; claims are held in memory (one worker process)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        if not store.read_only:
            store.open_inbox()  # now rather than in the first delivery (moves an older store's events)
        self._claimed: set[int] = set()
        self._lock = threading.Lock()
        # Concurrent deliveries (HubSpot sends up to 10 at once) queue here rather than in SQLite's
        # busy handler, whose sleeps made 10 concurrent writers time out in the benchmark; one of
        # them at a time commits everything queued (the group commit of the module docstring).
        self._group = threading.Condition()
        self._queued: list[_Delivery] = []
        self._committing = False

    def enqueue(self, source: str, events: Sequence[tuple[str, bytes]], received_at: datetime) -> int:
        delivery = _Delivery(source, events, received_at)
        with self._group:
            self._queued.append(delivery)
            while self._committing and not delivery.done:
                self._group.wait()
            group: list[_Delivery] = []
            if not delivery.done:  # no commit under way: this caller commits the whole queue
                group, self._queued, self._committing = self._queued, [], True
        if group:
            self._commit(group)
        if delivery.error is not None:
            raise delivery.error
        return delivery.new

    def _commit(self, group: list[_Delivery]) -> None:
        try:
            counts = self.store.inbox_add_deliveries([(d.source, d.events, d.received_at) for d in group])
        except BaseException as exc:  # every delivery of the group failed: each sender gets a 503
            for d in group:
                d.error = exc
        else:
            for d, new in zip(group, counts, strict=True):
                d.new = new
        with self._group:
            for d in group:
                d.done = True
            self._committing = False
            self._group.notify_all()

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

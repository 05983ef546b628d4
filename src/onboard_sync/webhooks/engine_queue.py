"""``serve --receiver-only``: verify, persist to the inbox and enqueue a reconcile; no worker here.

Receivers scale apart from workers: any number of replicas behind a load balancer, every one
writing to the shared store. For each accepted delivery :class:`EngineQueue` persists the events
to the inbox and enqueues a ``webhook`` reconcile of the instance on the engine's queue:

* PostgreSQL: in one transaction (DBOS ``enqueue_in_transaction`` on the store's own connection;
  the engine's tables live in the same database), so an event is never persisted without its
  reconcile being queued, nor the other way round;
* SQLite (one machine): the enqueue follows the inbox commit. If it fails, the delivery is
  answered 503 and retried by the sender; the events already persisted are then duplicates, so
  the reconcile is enqueued for every delivery, new events or not (one with nothing new returns
  at once). The inbox is the source of truth: every reconcile of an instance drains it, the
  scheduled one included.

:class:`EngineHandoff` stands where ``serve``'s embedded worker would: the app's ``notify`` and
``/healthz`` talk to it; the reconciles run in ``onboard-sync worker`` processes.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime

from onboard_sync.durable.system_db import SystemDatabase
from onboard_sync.durable.triggers import engine_client, enqueue_options, trigger_args
from onboard_sync.store import Store
from onboard_sync.webhooks.queue import StoreQueue


class EngineQueue(StoreQueue):
    """The inbox (``StoreQueue``) whose every delivery also enqueues a reconcile on the engine."""

    def __init__(self, store: Store, system: SystemDatabase) -> None:
        super().__init__(store)
        self.system = system
        self.client = engine_client(system, migrate=True)
        self._closed = False
        self._writing = threading.Lock()
        """One delivery's inbox rows and enqueue at a time (each commits with its own enqueue, so the
        inbox's group commit does not apply here)."""

    def enqueue(self, source: str, events: Sequence[tuple[str, bytes]], received_at: datetime) -> int:
        if not events:
            return 0
        args = trigger_args(source, "webhook", received_at)
        with self._writing:
            if self.system.distributed:
                with self.store.transaction_connection() as conn:
                    new = self.store.inbox_add_many(source, events, received_at)
                    self.client.enqueue_in_transaction(conn, enqueue_options(source), *args)
                return new
            new = self.store.inbox_add_many(source, events, received_at)
        self.client.enqueue(enqueue_options(source), *args)
        return new

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.client.destroy()


class EngineHandoff:
    """The stand-in for serve's worker when the engine's workers reconcile (``--receiver-only``)."""

    def __init__(self, queue: EngineQueue) -> None:
        self.queue = queue

    def start(self) -> None:
        """Nothing to start: workers run elsewhere."""

    def notify(self) -> None:
        """Nothing to wake: the reconcile was enqueued with the delivery."""

    def stop(self, timeout: float = 0.0) -> None:
        self.queue.close()

    @property
    def alive(self) -> bool:
        return True

    def health(self) -> dict[str, object]:
        return {"worker": "engine", "engine": self.queue.system.display}

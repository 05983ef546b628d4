"""Worker heartbeats, and recovery of the workflows of workers that died.

DBOS recovers, at launch, only the pending workflows of its own executor id. A worker killed
for good (SIGKILL, host lost) would leave its workflows PENDING, holding their instance's
partition. So every worker beats (``workers`` table of the store, every ``every`` seconds) and
looks for workers whose last beat is older than ``stale_after``: it re-enqueues their pending
workflows (:func:`recover_executors`) and then removes their rows. Two live workers recovering
the same dead one is harmless: DBOS 3.4.0 re-enqueues only rows still PENDING under the dead
executor id, and a dequeue is atomic, so a workflow runs once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from onboard_sync.store import Store
from onboard_sync.store.workers import WorkerRecord

log = logging.getLogger("onboard_sync.durable")


def recover_executors(executor_ids: Sequence[str]) -> int:
    """Re-enqueue the pending workflows of dead executors; return how many.

    Uses DBOS's private ``DBOS._recover_pending_workflows(executor_ids)`` (checked on DBOS
    Transact 3.4.0, ``dbos/_recovery.py``: it re-enqueues each PENDING workflow of those
    executors with this application version, guarded so a duplicate request matches nothing).
    DBOS has no public call for another executor's workflows; this is the one place that uses it.
    """
    from dbos import DBOS

    return len(DBOS._recover_pending_workflows(list(executor_ids)))


class Heartbeat:
    """Beats for one worker and recovers stale ones, in a daemon thread, until ``stop()``."""

    def __init__(
        self,
        store: Store,
        worker_id: str,
        host: str,
        pid: int,
        *,
        every: float = 5.0,
        stale_after: float = 30.0,
        recover: Callable[[Sequence[str]], int] = recover_executors,
    ) -> None:
        self.store = store
        self.worker_id = worker_id
        self.host = host
        self.pid = pid
        self.every = every
        self.stale_after = stale_after
        self.recover = recover
        self.started_at = datetime.now(UTC)
        self.recovered = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def beat(self) -> None:
        """Record this worker alive now."""
        self.store.beat_worker(self.worker_id, self.host, self.pid, self.started_at, datetime.now(UTC))

    def recover_stale(self) -> list[WorkerRecord]:
        """Recover the workflows of every stale worker, then forget those workers; return them."""
        cutoff = datetime.now(UTC) - timedelta(seconds=self.stale_after)
        stale = [w for w in self.store.stale_workers(cutoff) if w.id != self.worker_id]
        if stale:
            count = self.recover([w.id for w in stale])
            self.recovered += count
            names = ", ".join(f"{w.id} (host {w.host}, last beat {w.last_beat:%H:%M:%S})" for w in stale)
            log.warning("recovered %d workflow(s) of stale worker(s): %s", count, names)
            self.store.remove_workers([w.id for w in stale])
        return stale

    def start(self) -> None:
        self.beat()
        self._thread = threading.Thread(target=self._loop, name="onboard-sync-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.beat()
                self.recover_stale()
            except Exception:  # a database hiccup: try again at the next beat
                log.exception("heartbeat failed")

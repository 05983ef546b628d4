"""Store part: heartbeats of ``onboard-sync worker`` processes (the durable engine, revision 0004).

Each worker upserts its row every few seconds (``beat_worker``); ``workers()`` lists them for
``onboard-sync cluster`` and for the engine itself; ``stale_workers(cutoff)`` names those whose
last beat is older than ``cutoff`` (killed, or their host lost), whose workflows a live worker
then recovers before it removes their rows (``remove_workers``). A worker that stops cleanly
removes its own row. Mixed into ``Store``; called by :mod:`onboard_sync.durable.heartbeat`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from onboard_sync.store import schema as t
from onboard_sync.store.base import StoreBase


@dataclass(frozen=True, slots=True)
class WorkerRecord:
    """One worker process as its heartbeat row tells it (datetimes aware UTC)."""

    id: str
    host: str
    pid: int
    started_at: datetime
    last_beat: datetime


class WorkersMixin(StoreBase):
    """Worker heartbeat rows."""

    def beat_worker(self, worker_id: str, host: str, pid: int, started_at: datetime, at: datetime) -> None:
        """Record that ``worker_id`` is alive at ``at`` (insert its row the first time)."""
        row = {"id": worker_id, "host": host, "pid": pid, "started_at": started_at, "last_beat": at}
        with self._write() as conn:
            self._upsert(conn, t.workers, [row], keys=["id"])

    def workers(self) -> list[WorkerRecord]:
        """Every worker row, oldest first."""
        query = sa.select(t.workers).order_by(t.workers.c.started_at, t.workers.c.id)
        with self._read() as conn:
            return [WorkerRecord(r.id, r.host, r.pid, r.started_at, r.last_beat) for r in conn.execute(query)]

    def stale_workers(self, cutoff: datetime) -> list[WorkerRecord]:
        """Workers whose last heartbeat is older than ``cutoff``."""
        return [w for w in self.workers() if w.last_beat < cutoff]

    def remove_workers(self, worker_ids: Collection[str]) -> None:
        """Forget these workers (stopped cleanly, or recovered after they died)."""
        if worker_ids:
            with self._write() as conn:
                conn.execute(sa.delete(t.workers).where(t.workers.c.id.in_(list(worker_ids))))

"""Store part: the write audit log, run history and the webhook inbox.

The audit log records every applied write (who/what/when/before/after) for ``status`` and
``report``. Runs record each sync with its report. The inbox persists verified webhook
events under a unique (source, event id), so a replayed delivery is recognised and
dropped (reliability §1.2, idempotent consumer). Mixed into ``Store``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from onboard_sync.store import schema as t
from onboard_sync.store.base import IN_CHUNK, ROW_CHUNK, StoreBase, chunks
from onboard_sync.store.rows import AuditEntry, InboxEvent, RunRecord
from onboard_sync.store.tasks import stored_kind


def _run(r: Any) -> RunRecord:
    return RunRecord(
        id=r.id,
        kind=r.kind,
        started_at=r.started_at,
        finished_at=r.finished_at,
        ok=None if r.ok is None else bool(r.ok),
        report=r.report or {},
    )


def _inbox(r: Any) -> InboxEvent:
    return InboxEvent(
        id=r.id,
        source=r.source,
        event_id=r.event_id,
        received_at=r.received_at,
        payload=bytes(r.payload),
        processed_at=r.processed_at,
    )


class JournalMixin(StoreBase):
    """Audit log, runs and webhook inbox."""

    # -- audit --------------------------------------------------------------------------

    def record_audit(self, entries: Sequence[AuditEntry]) -> None:
        """Append audit entries (their ``id`` is ignored; the store assigns one)."""
        self._check_writable()
        rows = [
            {
                "run_id": e.run_id,
                "at": e.at,
                "source": e.source,
                "action": e.action,
                "object_kind": str(e.object_kind),
                "remote_id": e.remote_id,
                "key": e.key,
                "before": None if e.before is None else dict(e.before),
                "after": None if e.after is None else dict(e.after),
                "outcome": e.outcome,
                "detail": e.detail,
            }
            for e in entries
        ]
        if not rows:
            return
        with self._write() as conn:
            conn.execute(sa.insert(t.audit), rows)

    def audit(self, *, run_id: int | None = None, limit: int = 100) -> list[AuditEntry]:
        """The newest ``limit`` audit entries (of one run), newest first."""
        c = t.audit.c
        query = sa.select(t.audit).order_by(c.id.desc()).limit(limit)
        if run_id is not None:
            query = query.where(c.run_id == run_id)
        with self._read() as conn:
            rows = conn.execute(query).all()
        return _audit_entries(rows)

    def run_audit(self, run_id: int, *, page: int = 1000) -> Iterator[AuditEntry]:
        """Every audit entry of run ``run_id``, oldest first, read ``page`` rows at a time."""
        c = t.audit.c
        after = 0
        while True:
            query = sa.select(t.audit).where(c.run_id == run_id, c.id > after).order_by(c.id).limit(page)
            with self._read() as conn:
                rows = conn.execute(query).all()
            yield from _audit_entries(rows)
            if len(rows) < page:
                return
            after = rows[-1].id

    # -- runs ---------------------------------------------------------------------------

    def start_run(self, kind: str, started_at: datetime) -> int:
        """Record the start of a run; return its id."""
        with self._write() as conn:
            result = conn.execute(sa.insert(t.runs).values(kind=kind, started_at=started_at).returning(t.runs.c.id))
            return int(result.scalar_one())

    def finish_run(self, run_id: int, finished_at: datetime, ok: bool, report: Mapping[str, Any]) -> None:
        """Record the end of a run with its report (JSON-serialisable; datetimes become strings)."""
        with self._write() as conn:
            result = conn.execute(
                sa.update(t.runs)
                .where(t.runs.c.id == run_id)
                .values(finished_at=finished_at, ok=ok, report=dict(report))
            )
            if result.rowcount == 0:
                raise KeyError(f"no run with id {run_id}")

    def runs(self, limit: int = 20) -> list[RunRecord]:
        """The newest ``limit`` runs, newest first."""
        query = sa.select(t.runs).order_by(t.runs.c.id.desc()).limit(limit)
        with self._read() as conn:
            return [_run(r) for r in conn.execute(query)]

    # -- webhook inbox ------------------------------------------------------------------

    def inbox_add(self, source: str, event_id: str, payload: bytes | str, received_at: datetime) -> bool:
        """Persist a verified webhook event; False (and nothing written) if it is a duplicate."""
        body = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
        stmt = (
            self._insert(t.webhook_inbox)
            .values(source=source, event_id=event_id, payload=body, received_at=received_at)
            .on_conflict_do_nothing(index_elements=["source", "event_id"])
            .returning(t.webhook_inbox.c.id)
        )
        with self._write() as conn:
            return conn.execute(stmt).scalar_one_or_none() is not None

    def inbox_add_many(self, source: str, events: Sequence[tuple[str, bytes | str]], received_at: datetime) -> int:
        """Persist many verified events in one statement; return how many were new.

        Duplicates (by ``(source, event_id)``, also within ``events``) are skipped by the unique
        constraint, so the count is exact for one writer; with several processes writing the same
        events at once it may over-count, never over-store.
        """
        return self.inbox_add_deliveries([(source, events, received_at)])[0]

    def inbox_add_deliveries(
        self, deliveries: Sequence[tuple[str, Sequence[tuple[str, bytes | str]], datetime]]
    ) -> list[int]:
        """Persist several deliveries (``(source, events, received_at)`` each, as :meth:`inbox_add_many`)
        in one transaction: one commit for all of them (the receiver's group commit). Returns how many
        events of each delivery were new, in order; an event repeated in a later delivery of the same
        call counts for the first one only."""
        self._check_writable()
        if not any(events for _, events, _ in deliveries):
            return [0] * len(deliveries)
        c = t.webhook_inbox.c
        counts: list[int] = []
        with self._write(urgent=True) as conn:
            seen: dict[str, set[str]] = {}
            for source, events, received_at in deliveries:
                rows: dict[str, bytes] = {}
                for event_id, payload in events:
                    rows.setdefault(event_id, payload.encode("utf-8") if isinstance(payload, str) else bytes(payload))
                known = seen.setdefault(source, set())
                unseen = [key for key in rows if key not in known]
                stored: set[str] = set()
                for batch in chunks(unseen, IN_CHUNK):
                    query = sa.select(c.event_id).where(c.source == source, c.event_id.in_(batch))
                    stored.update(conn.execute(query).scalars())
                fresh = [
                    {"source": source, "event_id": key, "payload": rows[key], "received_at": received_at}
                    for key in unseen
                    if key not in stored
                ]
                known.update(rows)
                if fresh:
                    stmt = self._insert(t.webhook_inbox).on_conflict_do_nothing(index_elements=["source", "event_id"])
                    for batch in chunks(fresh, ROW_CHUNK):
                        conn.execute(stmt, batch)
                counts.append(len(fresh))
        return counts

    def inbox_pending(self, limit: int = 100, *, source: str | None = None) -> list[InboxEvent]:
        """Unprocessed events (of ``source`` only, if given), oldest first."""
        c = t.webhook_inbox.c
        query = sa.select(t.webhook_inbox).where(c.processed_at.is_(None)).order_by(c.id).limit(limit)
        if source is not None:
            query = query.where(c.source == source)
        with self._read() as conn:
            return [_inbox(r) for r in conn.execute(query)]

    def inbox_mark_processed(self, ids: Collection[int], at: datetime | None = None) -> None:
        """Mark events processed (at ``at``, default now)."""
        self._check_writable()
        if not ids:
            return
        when = at or self._now()
        c = t.webhook_inbox.c
        with self._write() as conn:
            for batch in chunks(list(ids), IN_CHUNK):
                conn.execute(sa.update(t.webhook_inbox).where(c.id.in_(batch)).values(processed_at=when))


def _audit_entries(rows: Sequence[Any]) -> list[AuditEntry]:
    return [
        AuditEntry(
            run_id=r.run_id,
            at=r.at,
            source=r.source,
            action=r.action,
            object_kind=stored_kind(r.object_kind),
            remote_id=r.remote_id,
            key=r.key,
            before=r.before,
            after=r.after,
            outcome=r.outcome,
            detail=r.detail,
            id=r.id,
        )
        for r in rows
    ]

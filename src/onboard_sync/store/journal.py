"""Store part: the write audit log and run history.

The audit log records every applied write (who/what/when/before/after) for ``status`` and
``report``. Runs record each sync with its report. Mixed into ``Store``; the webhook inbox
is ``inbox.py``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from onboard_sync.store import schema as t
from onboard_sync.store.base import StoreBase
from onboard_sync.store.rows import AuditEntry, RunRecord
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


class JournalMixin(StoreBase):
    """Audit log and runs."""

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

"""Applying a write plan: batches, write-ahead intents, per-record results, audit.

Task creates follow a write-ahead protocol so that no crash can duplicate a task:
the task's key is recorded as PENDING before the create call; the results are recorded
right after the call returns. A PENDING key found at the start of a later run means the
outcome is unknown: ``resolve_pending`` looks the key up in the CRM (the connector's
``find_tasks``) and records the task if it exists, or marks it for creation if not.
Field writes are idempotent (they set values), so they are simply recorded after the call.

Batch calls are pipelined: up to the connector's ``write_concurrency`` calls are in flight at
once, task creates, task closes and each kind's field writes together (the gate still paces them),
while this thread records each batch's results in order.
All intents are PENDING before the first call, so a crash with calls in flight leaves only
PENDING keys, which the next run resolves.

A chunked run calls ``apply`` once per chunk with ``final=False``: each chunk's intents are
recorded before its first call, full batches are sent, and a partial last batch is carried over
to the next chunk (its intents are already PENDING), so the number of write calls is the same as
for one plan of everything; the last call (``final=True``) flushes what is left.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from onboard_sync.connector import Connector, TaskPatch, WriteResult
from onboard_sync.crash import crash_point
from onboard_sync.mappings import MappingSet
from onboard_sync.records import ObjectKind, TaskStatus
from onboard_sync.store import AuditEntry, OwnedTask, Store, TaskState
from onboard_sync.sync import fieldwrites
from onboard_sync.sync.overlap import pipelined
from onboard_sync.sync.plan import PlannedClose, PlannedFields, PlannedSkip, PlannedTask, WritePlan
from onboard_sync.sync.report import InstanceReport

B = TypeVar("B")


@dataclasses.dataclass(frozen=True)
class _WriteCall:
    """One batch write: its crash-point name, the call, and how its answer is recorded."""

    point: str
    send: Callable[[], Any]
    record: Callable[[Any], None]


class Applier:
    """Applies one instance's ``WritePlan`` and records every outcome."""

    def __init__(
        self,
        store: Store,
        connector: Connector,
        source: str,
        run_id: int | None,
        clock: Callable[[], datetime],
        report: InstanceReport,
    ) -> None:
        self.store = store
        self.connector = connector
        self.source = source
        self.run_id = run_id
        self.clock = clock
        self.report = report
        self._tasks: list[PlannedTask] = []
        self._fields: dict[ObjectKind, list[PlannedFields]] = defaultdict(list)
        self._closes: list[PlannedClose] = []
        self._gone: dict[ObjectKind, set[str]] = defaultdict(set)
        """Properties the CRM said it does not have during this run (deleted after the run-start check)."""

    # --- crash recovery --------------------------------------------------------------
    def resolve_pending(self, tasks: Iterable[OwnedTask]) -> None:
        """Settle writes whose outcome is unknown before anything else can create them again."""
        for keys, found in self._look_up(tasks):
            crash_point("before-recover-record")
            missing = {
                k: "outcome unknown after an interrupted run; not in the CRM, will create"
                for k in keys
                if k not in found
            }
            with self.store.transaction():
                if found:
                    self.store.mark_tasks_created(self.source, found)
                if missing:
                    self.store.mark_tasks_failed(self.source, missing)
                self.store.record_audit(
                    [
                        self._audit("recover_task", ObjectKind.TASK, remote_id, key, None, None, "found")
                        for key, remote_id in found.items()
                    ]
                )
            crash_point("after-recover-record")
            self.report.recovered += len(found)

    def look_up_pending(self, tasks: Iterable[OwnedTask]) -> tuple[dict[str, str], list[str]]:
        """Plan: what ``resolve_pending`` would find (key → remote id) and not find, recording nothing."""
        found: dict[str, str] = {}
        missing: list[str] = []
        for keys, batch in self._look_up(tasks):
            found.update(batch)
            missing += [k for k in keys if k not in batch]
        return found, missing

    def _look_up(self, tasks: Iterable[OwnedTask]) -> Iterator[tuple[Sequence[str], dict[str, str]]]:
        """Per read batch of the ``PENDING`` keys: the keys, and those the CRM holds (→ remote id)."""
        pending = [t.key for t in tasks if t.state is TaskState.PENDING]
        if not pending:
            return
        size = self.connector.max_read_batch
        deals = self.store.deals_of_tasks(pending)  # CRMs without a searchable task field look keys up by deal
        for start in range(0, len(pending), size):
            keys = pending[start : start + size]
            yield keys, {t.key: t.id for t in self.connector.find_tasks(keys, deal_ids=deals) if t.key}

    # --- applying --------------------------------------------------------------------
    def apply(self, plan: WritePlan, mapping: MappingSet, *, final: bool = True) -> list[PlannedFields]:
        """Apply ``plan`` (one chunk's); return the field writes that succeeded in this call.

        With ``final=False`` a partial last batch of each kind is kept for the next call.
        """
        self._record_skips(plan.skips)
        self._record_intents(plan.tasks)
        self._tasks.extend(plan.tasks)
        for planned in plan.fields:
            self._fields[planned.write.kind].append(planned)
        self._closes.extend(plan.closes)
        written: list[PlannedFields] = []
        calls = [
            *self._task_creates(self._take(self._tasks, final)),
            *self._task_closes(self._take(self._closes, final)),
        ]
        for kind, items in self._fields.items():
            calls.extend(self._field_writes(kind, self._take(items, final), written))
        self._send(calls)
        return written

    def _take(self, items: list[B], final: bool) -> list[B]:
        size = self.connector.max_write_batch
        count = len(items) if final else len(items) // size * size
        taken = items[:count]
        del items[:count]
        return taken

    def _record_skips(self, skips: Sequence[PlannedSkip]) -> None:
        """Tasks never to create: recorded as ``SKIPPED`` with the reason, audited, no CRM call."""
        if not skips:
            return
        rows = [
            OwnedTask(
                key=s.skipped.spec.key,
                onboarding_id=s.onboarding_id,
                source=self.source,
                template_key=s.skipped.spec.template_key,
                phase=s.skipped.spec.phase,
                episode=s.skipped.spec.episode,
                state=TaskState.SKIPPED,
                subject=s.skipped.spec.title,
                due_at=s.skipped.spec.due_at,
                note=s.skipped.reason,
            )
            for s in skips
        ]
        with self.store.transaction():
            self.store.record_skipped_tasks(rows)
            self.store.record_audit(
                [
                    self._audit(
                        "skip_task",
                        ObjectKind.TASK,
                        None,
                        row.key,
                        None,
                        {"subject": row.subject, "planned_due_at": row.due_at.isoformat() if row.due_at else None},
                        "skipped",
                        row.note or "",
                    )
                    for row in rows
                ]
            )

    def _record_intents(self, tasks: Sequence[PlannedTask]) -> None:
        if not tasks:
            return
        now = self.clock()
        intents = [
            OwnedTask(
                key=p.write.key,
                onboarding_id=p.onboarding_id,
                source=self.source,
                template_key=p.spec.template_key,
                phase=p.spec.phase,
                episode=p.spec.episode,
                state=TaskState.PENDING,
                remote_id=None,
                status=TaskStatus.OPEN,
                subject=p.write.subject,
                owner_id=p.write.owner_id,
                due_at=p.write.due_at,
                completed_at=None,
                error=None,
                updated_at=now,
                note=p.spec.note or None,
            )
            for p in tasks
        ]
        crash_point("before-intents")
        self.store.record_task_intents(intents)
        self.store.mark_tasks_pending(self.source, [i.key for i in intents])
        crash_point("after-intents")

    def _task_creates(self, tasks: Sequence[PlannedTask]) -> list[_WriteCall]:
        size = self.connector.max_write_batch
        return [
            _WriteCall(
                "task-create",
                partial(self.connector.create_tasks, [p.write for p in batch]),
                partial(self._record_creates, batch),
            )
            for batch in (tasks[start : start + size] for start in range(0, len(tasks), size))
        ]

    def _record_creates(self, batch: Sequence[PlannedTask], results: list[WriteResult]) -> None:
        created = {r.key: r.remote_id for r in results if r.ok and r.remote_id}
        failed = {r.key: r.error or "failed" for r in results if not r.ok}
        by_key = {p.write.key: p for p in batch}
        entries = [
            self._audit(
                "create_task",
                ObjectKind.TASK,
                r.remote_id,
                r.key,
                None,
                _task_after(by_key[r.key].write) if r.key in by_key else None,
                "ok" if r.ok else "failed",
                r.error or "",
            )
            for r in results
        ]
        with self.store.transaction():  # built first: the write lock is held for the statements only
            if created:
                self.store.mark_tasks_created(self.source, created)
            if failed:
                self.store.mark_tasks_failed(self.source, failed)
            self.store.record_audit(entries)
        crash_point("after-task-record")
        self._count(results, created=True)

    def _task_closes(self, closes: Sequence[PlannedClose]) -> list[_WriteCall]:
        """Complete the tasks of cleared alert episodes. Level-triggered and idempotent: a close
        whose outcome was lost is planned again while the store still holds the task open."""
        size = self.connector.max_write_batch
        completed = {"status": TaskStatus.COMPLETED}
        return [
            _WriteCall(
                "task-update",
                partial(self.connector.update_tasks, [TaskPatch(c.key, c.remote_id, completed) for c in batch]),
                partial(self._record_closes, batch),
            )
            for batch in (closes[start : start + size] for start in range(0, len(closes), size))
        ]

    def _record_closes(self, batch: Sequence[PlannedClose], results: list[WriteResult]) -> None:
        ok = {r.key for r in results if r.ok}
        errors = {r.key: r.error or "failed" for r in results if not r.ok}
        entries = [
            self._audit(
                "close_task",
                ObjectKind.TASK,
                c.remote_id,
                c.key,
                {"status": TaskStatus.OPEN.value},
                {"status": TaskStatus.COMPLETED.value},
                "ok" if c.key in ok else "failed",
                errors.get(c.key, "") if c.key not in ok else "alert cleared",
            )
            for c in batch
        ]
        with self.store.transaction():
            self.store.close_open_tasks(self.source, ok, TaskStatus.COMPLETED, self.clock())
            self.store.record_audit(entries)
        self._count(results, created=False)

    def _field_writes(
        self, kind: ObjectKind, items: Sequence[PlannedFields], written: list[PlannedFields]
    ) -> list[_WriteCall]:
        """Field batches of one kind; each answer's records go to ``written``. A property the CRM no
        longer has is left out of its records (``sync.fieldwrites``), which are written and recorded
        without it."""
        size = self.connector.max_write_batch
        return [
            _WriteCall(
                "field-write",
                partial(fieldwrites.write_fields, self.connector, kind, [p.write for p in batch], self._gone[kind]),
                partial(self._record_fields, kind, batch, written),
            )
            for batch in (items[start : start + size] for start in range(0, len(items), size))
        ]

    def _record_fields(
        self,
        kind: ObjectKind,
        batch: Sequence[PlannedFields],
        written: list[PlannedFields],
        outcomes: list[fieldwrites.FieldOutcome],
    ) -> None:
        done = [
            dataclasses.replace(p, write=dataclasses.replace(p.write, values=o.written))
            for p, o in zip(batch, outcomes, strict=True)
            if o.result.ok
        ]
        entries = [
            self._audit(
                "update_fields",
                kind,
                p.write.remote_id,
                p.write.key,
                dict(p.before),
                dict(o.written if o.result.ok else p.write.values),
                "ok" if o.result.ok else "failed",
                (o.dropped_error() if o.result.ok else o.result.error) or "",
            )
            for p, o in zip(batch, outcomes, strict=True)
        ]
        fields = [(p.onboarding_id, kind, p.write.remote_id, p.write.values) for p in done]
        with self.store.transaction():
            self.store.record_written_fields_many(fields)
            self.store.record_audit(entries)
        crash_point("after-field-record")
        written.extend(done)
        self._count([o.result for o in outcomes], created=False)
        for o in outcomes:
            if o.result.ok and o.dropped:  # written, but not whole: the dropped fields failed
                self.report.writes_failed += 1
                self.report.failures.append({"key": o.result.key, "error": o.dropped_error()})

    # --- helpers ---------------------------------------------------------------------
    def _send(self, calls: Sequence[_WriteCall]) -> None:
        """Every write call of one apply, of every kind at once, with up to ``write_concurrency`` in
        flight (the gate still paces them); each answer is recorded in order, right after it is taken.

        Task creates, task closes and field writes of different kinds are independent (their plan is
        made; no call needs another's answer), so the last batches of a run, one per kind, go out
        together instead of each waiting for the one before. Crash points ``before-{point}`` (as each
        call is issued) and ``after-{point}`` (as its answer is taken, before it is recorded) keep
        their meaning with calls in flight; every task intent is PENDING before the first call.
        """
        for call, answer in pipelined(
            calls,
            lambda call: call.send(),
            self.connector.write_concurrency,
            issued=lambda call: crash_point(f"before-{call.point}"),
            answered=lambda call: crash_point(f"after-{call.point}"),
            name="onboard-sync-write",
        ):
            call.record(answer)

    def _count(self, results: list[WriteResult], *, created: bool) -> None:
        for result in results:
            if result.ok:
                if created:
                    self.report.writes_created += 1
                else:
                    self.report.writes_updated += 1
            else:
                self.report.writes_failed += 1
                self.report.failures.append({"key": result.key, "error": result.error or "failed"})

    def _audit(
        self,
        action: str,
        kind: ObjectKind,
        remote_id: str | None,
        key: str,
        before: dict[str, object] | None,
        after: dict[str, object] | None,
        outcome: str,
        detail: str = "",
    ) -> AuditEntry:
        return AuditEntry(
            run_id=self.run_id,
            at=self.clock(),
            source=self.source,
            action=action,
            object_kind=kind,
            remote_id=remote_id,
            key=key,
            before=before,
            after=after,
            outcome=outcome,
            detail=detail,
        )


def _task_after(write: object) -> dict[str, object]:
    from onboard_sync.connector import TaskWrite

    assert isinstance(write, TaskWrite)
    return {
        "subject": write.subject,
        "due_at": write.due_at.isoformat(),
        **({"due_date": write.due_date.isoformat()} if write.due_date else {}),
        "owner_id": write.owner_id,
        "deal_id": write.deal_id,
        "account_id": write.account_id,
    }

"""Store part: the idempotency ledger of owned tasks and the record of fields written to the CRM.

The ledger maps each task's deterministic key to its CRM id (DESIGN §7, reliability
§1.3): the engine records the *intent* (``PENDING``) before the CRM create, and marks it
``CREATED`` with the returned id (or ``FAILED``) after. A crash in between leaves
``PENDING`` rows whose outcome is unknown; the engine resolves them by looking the key up
in the CRM before any retry creates the task again. ``written_fields`` remembers the last
value onboard-sync wrote to each CRM property, to spot manual edits and to make a no-change
rerun write nothing. Mixed into ``Store``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from onboard_sync.onboarding.state import OPEN_STATUSES
from onboard_sync.records import ObjectKind, Task, TaskStatus
from onboard_sync.store import schema as t
from onboard_sync.store.base import IN_CHUNK, StoreBase, chunks
from onboard_sync.store.rows import OwnedTask, TaskState
from onboard_sync.store.rows import owned_task as _owned

FieldKey = tuple[ObjectKind, str, str]  # (object kind, remote id, CRM property)
WrittenFields = dict[FieldKey, str | None]


def stored_kind(value: str) -> ObjectKind:
    """The ``ObjectKind`` a store row names (a kind a plugin introduced stays a plain string)."""
    try:
        return ObjectKind(value)
    except ValueError:  # a kind a plugin introduced: keep the plain string
        return value  # type: ignore[return-value]


def same_to_the_ms(recorded: datetime | None, read: datetime | None) -> datetime | None:
    """``read``, or ``recorded`` when the two differ only below a millisecond: a CRM keeps task times
    to the millisecond (HubSpot), so a due time recorded with microseconds comes back truncated and
    is no change (otherwise the first run after the creates rewrites every row it reads)."""
    if recorded is None or read is None:
        return read
    return recorded if abs(recorded - read) < timedelta(milliseconds=1) else read


class TasksMixin(StoreBase):
    """Owned tasks (the idempotency ledger) and written CRM fields."""

    # -- reading the ledger -------------------------------------------------------------

    def owned_tasks(self, onboarding_id: str) -> dict[str, OwnedTask]:
        """The tasks one onboarding owns, by key."""
        query = sa.select(t.owned_tasks).where(t.owned_tasks.c.onboarding_id == onboarding_id)
        with self._read() as conn:
            return {r.key: _owned(r) for r in conn.execute(query)}

    def owned_tasks_for(self, source: str) -> dict[str, OwnedTask]:
        """Every task owned by onboardings of connector instance ``source``, by key (one query)."""
        query = sa.select(t.owned_tasks).where(t.owned_tasks.c.source == source)
        with self._read() as conn:
            return {r.key: _owned(r) for r in conn.execute(query)}

    def owned_tasks_of(self, onboarding_ids: Collection[str]) -> dict[str, OwnedTask]:
        """The tasks owned by onboardings ``onboarding_ids``, by key (batched ``IN`` queries)."""
        with self._read() as conn:
            rows = self._select_in(conn, sa.select(t.owned_tasks), t.owned_tasks.c.onboarding_id, onboarding_ids)
        return {r.key: _owned(r) for r in rows}

    def owned_task_keys(self, source: str, keys: Collection[str]) -> set[str]:
        """Which of ``keys`` are owned tasks of ``source`` (batched ``IN`` queries)."""
        with self._read() as conn:
            return self._keys_of(conn, source, keys)

    def _keys_of(self, conn: sa.Connection, source: str, keys: Iterable[str]) -> set[str]:
        """Which of ``keys`` are owned tasks of ``source``: looked up by key alone (the primary key),
        the source compared here. With ``source = ?`` in the query SQLite searches the (source, state)
        index instead, a scan of every task of the source per batch, which made the task records of a
        million-deal backfill (and an incremental run's task pull) quadratic."""
        c = t.owned_tasks.c
        return {r.key for r in self._select_in(conn, sa.select(c.key, c.source), c.key, keys) if r.source == source}

    def has_owned_tasks(self, source: str) -> bool:
        """Whether ``source`` owns any task at all."""
        c = t.owned_tasks.c
        with self._read() as conn:
            return conn.execute(sa.select(c.key).where(c.source == source).limit(1)).first() is not None

    def open_task_keys(self, source: str) -> list[str]:
        """Keys of the ``CREATED`` tasks still open in the CRM whose onboarding is under way (for
        the daily check of deleted tasks, ``sync.deletions``), in key order."""
        c, o = t.owned_tasks.c, t.onboardings.c
        query = (
            sa.select(c.key)
            .join(t.onboardings, o.id == c.onboarding_id)
            .where(
                c.source == source,
                c.state == TaskState.CREATED.value,
                c.status == TaskStatus.OPEN.value,
                o.status.in_([s.value for s in OPEN_STATUSES]),
            )
            .order_by(c.key)
        )
        with self._read() as conn:
            return list(conn.execute(query).scalars())

    def pending_tasks(self, source: str) -> list[OwnedTask]:
        """``PENDING`` tasks of ``source`` (outcome unknown: look each key up before retrying)."""
        c = t.owned_tasks.c
        query = sa.select(t.owned_tasks).where(c.source == source, c.state == TaskState.PENDING.value)
        with self._read() as conn:
            return [_owned(r) for r in conn.execute(query.order_by(c.key))]

    # -- writing the ledger -------------------------------------------------------------

    def record_task_intents(self, tasks: Sequence[OwnedTask]) -> None:
        """Record the intent to create ``tasks``, as ``PENDING``, before calling the CRM.

        A key that already exists is never duplicated and is left exactly as it is (a
        ``FAILED`` row stays ``FAILED``: call ``mark_tasks_pending`` when retrying it). The
        ``state`` and ``updated_at`` of the given objects are ignored.
        """
        self._check_writable()
        now = self._now()
        rows: dict[str, dict[str, Any]] = {}
        for task in tasks:
            rows.setdefault(
                task.key,
                {
                    "key": task.key,
                    "onboarding_id": task.onboarding_id,
                    "source": task.source,
                    "template_key": task.template_key,
                    "phase": task.phase,
                    "episode": task.episode,
                    "state": TaskState.PENDING.value,
                    "remote_id": task.remote_id,
                    "status": TaskStatus(task.status).value,
                    "subject": task.subject,
                    "owner_id": task.owner_id,
                    "due_at": task.due_at,
                    "completed_at": task.completed_at,
                    "error": task.error,
                    "updated_at": now,
                    "note": task.note,
                },
            )
        if not rows:
            return
        with self._write() as conn:
            self._insert_ignore(conn, t.owned_tasks, list(rows.values()))

    def record_skipped_tasks(self, tasks: Sequence[OwnedTask]) -> None:
        """Record tasks onboard-sync will never create, as ``SKIPPED`` with their ``note`` (the
        reason). A key already recorded is left as it is, so a skip is recorded once."""
        self._check_writable()
        now = self._now()
        rows = {
            task.key: {
                "key": task.key,
                "onboarding_id": task.onboarding_id,
                "source": task.source,
                "template_key": task.template_key,
                "phase": task.phase,
                "episode": task.episode,
                "state": TaskState.SKIPPED.value,
                "remote_id": None,
                "status": TaskStatus.OPEN.value,
                "subject": task.subject,
                "owner_id": None,
                "due_at": task.due_at,
                "completed_at": None,
                "error": None,
                "updated_at": now,
                "note": task.note,
            }
            for task in tasks
        }
        if rows:
            with self._write() as conn:
                self._insert_ignore(conn, t.owned_tasks, list(rows.values()))

    def mark_tasks_pending(self, source: str, keys: Collection[str]) -> None:
        """A retry of these tasks is starting: ``FAILED`` rows go back to ``PENDING``.

        Their outcome is unknown until ``mark_tasks_created``/``mark_tasks_failed``, so a
        crash during the retry leaves them ``PENDING`` (looked up before any re-create).
        ``CREATED`` rows never change; keys without a recorded intent are ignored. The last
        error is kept for the record.
        """
        self._check_writable()
        c = t.owned_tasks.c
        now = self._now()
        with self._write() as conn:
            for batch in chunks(list(dict.fromkeys(keys)), IN_CHUNK):
                conn.execute(
                    sa.update(t.owned_tasks)
                    .where(c.source == source, c.key.in_(batch), c.state == TaskState.FAILED.value)
                    .values(state=TaskState.PENDING.value, updated_at=now)
                )

    def _require_keys(self, conn: sa.Connection, source: str, keys: Iterable[str]) -> None:
        wanted = set(keys)
        found = self._keys_of(conn, source, wanted)
        missing = sorted(wanted - found)
        if missing:
            raise KeyError(
                f"no recorded intent for task keys of source {source!r} (record_task_intents first): "
                + ", ".join(missing[:10])
                + (" …" if len(missing) > 10 else "")
            )

    def mark_tasks_created(self, source: str, created: Mapping[str, str]) -> None:
        """The CRM created these tasks: key -> remote id, state ``CREATED``, error cleared.

        Raises KeyError (writing nothing) if a key has no recorded intent.
        """
        self._check_writable()
        if not created:
            return
        now = self._now()
        c = t.owned_tasks.c

        def build(v: Any) -> sa.Update:
            return (
                sa.update(t.owned_tasks)
                .where(c.source == source, c.key == v.c.k)
                .values(state=TaskState.CREATED.value, remote_id=v.c.rid, error=None, updated_at=now)
            )

        with self._write() as conn:
            self._require_keys(conn, source, created)
            self._update_many(conn, [("k", sa.String()), ("rid", sa.String())], list(created.items()), build)

    def close_open_tasks(self, source: str, keys: Collection[str], status: TaskStatus, at: datetime) -> int:
        """Open tasks that are no longer open: ``COMPLETED`` by onboard-sync (an alert cleared) or
        ``DELETED`` by a person in the CRM, at ``at``. Tasks not open are left as they are.
        Returns how many rows changed."""
        self._check_writable()
        c = t.owned_tasks.c
        changed = 0
        with self._write() as conn:
            for part in chunks(sorted(keys), IN_CHUNK):
                result = conn.execute(
                    sa.update(t.owned_tasks)
                    .where(c.source == source, c.key.in_(part), c.status == TaskStatus.OPEN.value)
                    .values(status=TaskStatus(status).value, completed_at=at, updated_at=self._now())
                )
                changed += result.rowcount
        return changed

    def mark_tasks_failed(self, source: str, failed: Mapping[str, str]) -> None:
        """The CRM refused these creates: key -> error, state ``FAILED`` (retried next run).

        A task already ``CREATED`` stays ``CREATED`` (only its error is noted), so a late
        failure report can never cause a second create. Raises KeyError (writing nothing)
        if a key has no recorded intent.
        """
        self._check_writable()
        if not failed:
            return
        now = self._now()
        c = t.owned_tasks.c
        state = sa.case((c.state == TaskState.CREATED.value, c.state), else_=TaskState.FAILED.value)

        def build(v: Any) -> sa.Update:
            return (
                sa.update(t.owned_tasks)
                .where(c.source == source, c.key == v.c.k)
                .values(state=state, error=v.c.err, updated_at=now)
            )

        with self._write() as conn:
            self._require_keys(conn, source, failed)
            self._update_many(conn, [("k", sa.String()), ("err", sa.Text())], list(failed.items()), build)

    def update_task_status(self, source: str, updates: Sequence[Task]) -> int:
        """Refresh owned tasks from CRM reads (see :meth:`refresh_task_status`); return how many rows
        actually changed."""
        return len(self.refresh_task_status(source, updates))

    def refresh_task_status(self, source: str, updates: Sequence[Task]) -> dict[str, str]:
        """Refresh owned tasks from CRM reads; return the keys of the rows that actually changed, each
        with its onboarding id (the engine re-evaluates those onboardings if it evaluated them earlier).

        A task is matched by its ``key`` when it carries one we own, else by remote id
        (``Task.id``). Status, completed_at, due_at and owner are copied. A task matched by
        key that was not yet ``CREATED`` (e.g. ``PENDING`` after a crash) becomes
        ``CREATED`` with ``Task.id`` as its remote id: the CRM has shown it exists.
        Tasks we do not own are ignored.
        """
        self._check_writable()
        if not updates:
            return {}
        c = t.owned_tasks.c
        base = sa.select(t.owned_tasks).where(c.source == source)
        now = self._now()
        with self._write() as conn:
            keys = [u.key for u in updates if u.key]
            by_key = {r.key: r for r in self._select_in(conn, base, c.key, keys)}
            # by remote id only the tasks whose key did not match (the engine passes owned keys only)
            unmatched = [u.id for u in updates if not (u.key and u.key in by_key)]
            by_remote = {r.remote_id: r for r in self._select_in(conn, base, c.remote_id, unmatched)}
            changes: dict[str, dict[str, Any]] = {}
            onboardings: dict[str, str] = {}
            for u in updates:
                row = by_key.get(u.key) if u.key else None
                matched_by_key = row is not None
                row = row or by_remote.get(u.id)
                if row is None:
                    continue
                new = {
                    "b_key": row.key,
                    "b_status": TaskStatus(u.status).value,
                    "b_completed": same_to_the_ms(row.completed_at, u.completed_at),
                    "b_due": same_to_the_ms(row.due_at, u.due_at),
                    "b_owner": u.owner_id,
                    "b_state": row.state,
                    "b_rid": row.remote_id,
                }
                if matched_by_key and (row.state != TaskState.CREATED.value or row.remote_id != u.id):
                    new["b_state"], new["b_rid"] = TaskState.CREATED.value, u.id
                old = {
                    "b_key": row.key,
                    "b_status": row.status,
                    "b_completed": row.completed_at,
                    "b_due": row.due_at,
                    "b_owner": row.owner_id,
                    "b_state": row.state,
                    "b_rid": row.remote_id,
                }
                if new != old:
                    changes[row.key] = new
                    onboardings[row.key] = row.onboarding_id
            columns: list[tuple[str, sa.types.TypeEngine[Any]]] = [
                ("k", sa.String()),
                ("status", sa.String()),
                ("completed", t.UTCDateTime()),
                ("due", t.UTCDateTime()),
                ("owner", sa.String()),
                ("state", sa.String()),
                ("rid", sa.String()),
            ]

            def build(v: Any) -> sa.Update:
                return (
                    sa.update(t.owned_tasks)
                    .where(c.source == source, c.key == v.c.k)
                    .values(
                        status=v.c.status,
                        completed_at=v.c.completed,
                        due_at=v.c.due,
                        owner_id=v.c.owner,
                        state=v.c.state,
                        remote_id=v.c.rid,
                        error=sa.case((v.c.state == TaskState.CREATED.value, None), else_=c.error),
                        updated_at=now,
                    )
                )

            self._update_many(conn, columns, [tuple(d.values()) for d in changes.values()], build)
        return onboardings

    # -- written fields -----------------------------------------------------------------

    def written_fields(self, onboarding_id: str) -> WrittenFields:
        """What onboard-sync last wrote for one onboarding: (kind, remote id, property) -> value."""
        c = t.written_fields.c
        query = sa.select(c.kind, c.remote_id, c.property, c.value).where(c.onboarding_id == onboarding_id)
        with self._read() as conn:
            return {(stored_kind(r.kind), r.remote_id, r.property): r.value for r in conn.execute(query)}

    def written_fields_for(self, source: str) -> dict[str, WrittenFields]:
        """``written_fields`` of every onboarding of ``source``, by onboarding id (one query)."""
        c = t.written_fields.c
        query = sa.select(c.onboarding_id, c.kind, c.remote_id, c.property, c.value).where(c.source == source)
        result: dict[str, WrittenFields] = {}
        with self._read() as conn:
            for r in conn.execute(query):
                result.setdefault(r.onboarding_id, {})[(stored_kind(r.kind), r.remote_id, r.property)] = r.value
        return result

    def written_fields_of(self, onboarding_ids: Collection[str]) -> dict[str, WrittenFields]:
        """``written_fields`` of onboardings ``onboarding_ids``, by onboarding id (batched ``IN`` queries)."""
        c = t.written_fields.c
        base = sa.select(c.onboarding_id, c.kind, c.remote_id, c.property, c.value)
        result: dict[str, WrittenFields] = {}
        with self._read() as conn:
            for r in self._select_in(conn, base, c.onboarding_id, onboarding_ids):
                result.setdefault(r.onboarding_id, {})[(stored_kind(r.kind), r.remote_id, r.property)] = r.value
        return result

    def record_written_fields(
        self,
        onboarding_id: str,
        kind: ObjectKind,
        remote_id: str,
        values: Mapping[str, str | None],
    ) -> None:
        """Remember the values just written to CRM properties of one object (upsert per property)."""
        self.record_written_fields_many([(onboarding_id, kind, remote_id, values)])

    def record_written_fields_many(
        self, items: Iterable[tuple[str, ObjectKind, str, Mapping[str, str | None]]]
    ) -> None:
        """``record_written_fields`` for many objects in batched statements.

        The source of each row is the stored onboarding's source, or else the part of the
        onboarding id before the first ``:`` (ids are ``"{source}:{deal id}"``).
        """
        self._check_writable()
        items = list(items)
        if not items:
            return
        now = self._now()
        with self._write() as conn:
            ob = t.onboardings.c
            ids = {item[0] for item in items}
            known = {r.id: r.source for r in self._select_in(conn, sa.select(ob.id, ob.source), ob.id, ids)}
            rows: dict[tuple[str, str, str, str], dict[str, Any]] = {}
            for onboarding_id, kind, remote_id, values in items:
                source = known.get(onboarding_id) or onboarding_id.split(":", 1)[0]
                for prop, value in values.items():
                    rows[(onboarding_id, str(kind), remote_id, prop)] = {
                        "onboarding_id": onboarding_id,
                        "kind": str(kind),
                        "remote_id": remote_id,
                        "property": prop,
                        "source": source,
                        "value": value,
                        "updated_at": now,
                    }
            self._upsert(
                conn,
                t.written_fields,
                list(rows.values()),
                keys=["onboarding_id", "kind", "remote_id", "property"],
            )

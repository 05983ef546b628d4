"""Copy a whole store into another, empty one (``onboard-sync store migrate --to URL``).

The way from one machine (a SQLite file) to many (PostgreSQL shared by workers), without
losing a task key: every table of ``schema.metadata`` but the worker heartbeats (onboardings,
transitions, the task ledger with its keys, intents and notes, written fields, cursors, facts,
owners, runs, audit, the webhook inbox (with a SQLite store's inbox file), tickets, links, health
history, alert episodes) is read
in one snapshot of the source and written in one transaction into the target, so a failed copy
leaves the target as empty as it was. While copying, the source's ``sync`` run lock is held: a
cron ``sync`` or a ``serve`` worker cannot change the source mid-copy (and the copy refuses to
start while one runs, or while a durable-engine worker's heartbeat is recent). The target must
hold no rows in any store table; it is migrated to the schema head first. Afterwards the
autoincrement sequences of a PostgreSQL target are moved past the copied ids, and the copy is
verified: row counts of every table and a digest of every task key with its remote id and
state, read back from the target.

The rows go through the tables' own column types (aware UTC datetimes, JSON documents),
so the copy works in both directions, SQLite to PostgreSQL and back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from onboard_sync.errors import UserError
from onboard_sync.store import locks
from onboard_sync.store import migrate as _migrate
from onboard_sync.store.base import ROW_CHUNK
from onboard_sync.store.database import WRITE_OPTION, Opened, open_engine
from onboard_sync.store.inbox import inbox_engine, inbox_path
from onboard_sync.store.schema import metadata, owned_tasks, webhook_inbox, workers

Progress = Callable[[str, int, int | None], None]
"""``progress(table, rows_just_copied, total_rows_or_None)``, as ``cli.run.progress_reporter`` takes it."""

RUN_LOCK = "sync"
LIVE_WORKER_SECONDS = 60.0
"""A worker whose heartbeat is younger than this counts as running (workers beat every 5 s)."""
NOT_COPIED = frozenset({"workers"})
"""Tables that describe processes, not data: the heartbeats of workers that ran against the source
(each worker on the target writes its own row when it starts)."""


def copied_tables() -> list[sa.Table]:
    """The store's tables in foreign-key order, without ``NOT_COPIED``."""
    return [table for table in metadata.sorted_tables if table.name not in NOT_COPIED]


@dataclass(frozen=True, slots=True)
class TableCount:
    """One table's rows in the source and, read back after the copy, in the target."""

    table: str
    source_rows: int
    target_rows: int

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows


@dataclass(frozen=True, slots=True)
class CopyResult:
    """What ``copy_store`` did and what its verification found."""

    source: str  # URLs as shown to people: passwords replaced by ***
    target: str
    tables: tuple[TableCount, ...]
    source_task_digest: str
    target_task_digest: str

    @property
    def rows(self) -> int:
        return sum(t.source_rows for t in self.tables)

    @property
    def task_keys_ok(self) -> bool:
        return self.source_task_digest == self.target_task_digest

    @property
    def ok(self) -> bool:
        return self.task_keys_ok and all(t.ok for t in self.tables)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "ok": self.ok,
            "rows": self.rows,
            "task_keys_ok": self.task_keys_ok,
            "tables": [
                {"table": t.table, "source_rows": t.source_rows, "target_rows": t.target_rows, "ok": t.ok}
                for t in self.tables
            ],
        }


class TaskDigest:
    """An order-free digest of the task ledger: (key, remote id, state) of every owned task.

    Order-free (XOR of per-row hashes) because SQLite and PostgreSQL sort text differently
    and the rows are read in whatever order each backend gives them.
    """

    def __init__(self) -> None:
        self._value = 0

    def add(self, key: str, remote_id: str | None, state: str) -> None:
        row = "\x1f".join((key, remote_id or "", state)).encode()
        self._value ^= int.from_bytes(hashlib.blake2b(row, digest_size=16).digest(), "big")

    def hexdigest(self) -> str:
        return f"{self._value:032x}"


def copy_store(source_url: str, target_url: str, *, progress: Progress | None = None) -> CopyResult:
    """Copy every row of the store at ``source_url`` into the empty store at ``target_url``.

    Raises UserError (nothing written) when the source is missing, behind or ahead of this
    onboard-sync's schema, in use by a sync, or the target cannot be opened or holds rows.
    """
    source = open_engine(source_url, read_only=True, must_exist=True)
    try:
        target = open_engine(target_url, read_only=False)
    except UserError:
        source.engine.dispose()
        raise
    try:
        with _guarded(source), _guarded(target):
            _migrate.check_current(source.engine, source.display)
            with _source_lock(source):
                _refuse_live_workers(source)
                _refuse_non_empty(target)
                _migrate.upgrade_to_head(target.engine, target.display)
                source_counts, source_digest = _copy_rows(source, target, progress)
            target_counts = count_rows(target.engine)
            target_digest = task_digest(target.engine)
    finally:
        source.engine.dispose()
        target.engine.dispose()
    return CopyResult(
        source=source.display,
        target=target.display,
        tables=tuple(
            TableCount(table.name, source_counts[table.name], target_counts[table.name]) for table in copied_tables()
        ),
        source_task_digest=source_digest,
        target_task_digest=target_digest,
    )


@contextmanager
def _guarded(opened: Opened) -> Iterator[None]:
    """Database errors (unreachable server, refused login, disk full) as one line naming the store."""
    try:
        yield
    except (sa.exc.SQLAlchemyError, OSError) as exc:
        raise UserError(f"store migration stopped: {_one_line(exc, opened)}", where=opened.display) from exc


def _one_line(exc: BaseException, opened: Opened) -> str:
    """The driver's message on one line, the store's password (if any) replaced by ***."""
    text = " ".join(str(getattr(exc, "orig", None) or exc).split())
    password = opened.engine.url.password
    return text.replace(str(password), "***") if password else text


def _source_lock(source: Opened) -> AbstractContextManager[None]:
    """The source's ``sync`` run lock (the one ``sync`` and ``serve``'s worker take)."""
    if source.backend == "postgresql":
        return locks.pg_advisory_lock(source.engine, RUN_LOCK, source.display)
    assert source.path is not None  # must_exist: never an in-memory source
    return locks.file_lock(source.path, RUN_LOCK, source.display)


def _refuse_live_workers(source: Opened) -> None:
    """Workers of the durable engine take instance locks, not the ``sync`` lock: one that beat
    recently may be writing, so the copy would miss what it writes after the snapshot."""
    cutoff = datetime.now(UTC) - timedelta(seconds=LIVE_WORKER_SECONDS)
    with source.engine.connect() as conn:
        live = conn.execute(sa.select(workers.c.id, workers.c.host).where(workers.c.last_beat >= cutoff)).all()
    if live:
        named = ", ".join(f"{row.id} on {row.host}" for row in live[:3]) + (" …" if len(live) > 3 else "")
        raise UserError(
            f"{len(live)} onboard-sync worker(s) use this store ({named}): stop them, then migrate",
            where=source.display,
        )


def _refuse_non_empty(target: Opened) -> None:
    with target.engine.connect() as conn:
        present = set(sa.inspect(conn).get_table_names())
        holding = [
            table.name
            for table in copied_tables()
            if table.name in present and conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first()
        ]
    if webhook_inbox.name not in holding and _inbox_file_holds_rows(target):
        holding.append(webhook_inbox.name)
    if holding:
        named = ", ".join(holding[:3]) + (f" and {len(holding) - 3} more table(s)" if len(holding) > 3 else "")
        raise UserError(
            f"the target store is not empty ({named} hold rows): migrate into a new, empty database or schema",
            where=target.display,
        )


def _copy_rows(source: Opened, target: Opened, progress: Progress | None) -> tuple[dict[str, int], str]:
    """Every table, in foreign-key order, in one source snapshot and one target transaction."""
    counts: dict[str, int] = {}
    digest = TaskDigest()
    writer = target.engine.execution_options(**{WRITE_OPTION: True})
    with source.engine.connect() as src, src.begin(), writer.begin() as dst:
        for table in copied_tables():
            total, batches = _source_rows(src, source, table)
            counts[table.name] = total
            if progress is not None:
                progress(table.name, 0, total)
            if not total:
                continue
            for batch in batches:
                try:
                    dst.execute(table.insert(), batch)
                except sa.exc.DBAPIError as exc:  # e.g. a value longer than PostgreSQL allows
                    raise UserError(
                        f"store migration stopped at table {table.name}, nothing was copied: {_one_line(exc, target)}",
                        where=target.display,
                    ) from exc
                if table is owned_tasks:
                    for row in batch:
                        digest.add(row["key"], row["remote_id"], row["state"])
                if progress is not None:
                    progress(table.name, len(batch), None)
        if dst.dialect.name == "postgresql":
            _advance_sequences(dst)
    return counts, digest.hexdigest()


def _source_rows(src: sa.Connection, source: Opened, table: sa.Table) -> tuple[int, Iterator[list[dict[str, Any]]]]:
    """How many rows of ``table`` the source holds, and those rows in batches, in id order.

    The webhook inbox of a SQLite source is its inbox file (``store/inbox.py``) plus what is left
    in its store table from before that file (all of it moves into the file when the inbox is next
    opened writable): both are copied, each event once, without their ids (two id sequences)."""
    total = src.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    rows = src.execution_options(yield_per=ROW_CHUNK).execute(sa.select(table).order_by(*table.primary_key.columns))
    batches = ([dict(row) for row in batch] for batch in rows.mappings().partitions())
    if table is not webhook_inbox or source.path is None or not inbox_path(source.path).exists():
        return total, batches
    c = webhook_inbox.c
    in_table = {(row.source, row.event_id) for row in src.execute(sa.select(c.source, c.event_id))}
    engine = inbox_engine(inbox_path(source.path), source.busy_timeout_ms, read_only=True)
    with engine.connect() as conn:
        in_file = conn.execute(sa.select(c.source, c.event_id))
        only_in_file = sum(1 for row in in_file if (row.source, row.event_id) not in in_table)

    def merged() -> Iterator[list[dict[str, Any]]]:
        try:
            for batch in batches:
                yield [{k: v for k, v in row.items() if k != "id"} for row in batch]
            with engine.connect() as conn:
                query = sa.select(webhook_inbox).order_by(c.id)
                for part in conn.execution_options(yield_per=ROW_CHUNK).execute(query).mappings().partitions():
                    kept = [{k: v for k, v in row.items() if k != "id"} for row in part]
                    kept = [row for row in kept if (row["source"], row["event_id"]) not in in_table]
                    if kept:
                        yield kept
        finally:
            engine.dispose()

    return total + only_in_file, merged()


def _inbox_file_holds_rows(opened: Opened) -> bool:
    """A SQLite store whose inbox file (``store/inbox.py``) holds events."""
    if opened.path is None or not inbox_path(opened.path).exists():
        return False
    engine = inbox_engine(inbox_path(opened.path), opened.busy_timeout_ms, read_only=True)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table(webhook_inbox.name):
                return False
            return conn.execute(sa.select(sa.literal(1)).select_from(webhook_inbox).limit(1)).first() is not None
    finally:
        engine.dispose()


def _advance_sequences(conn: sa.Connection) -> None:
    """Move each serial column's sequence past the ids just copied, so new rows do not collide."""
    for table in copied_tables():
        column = table.autoincrement_column
        if column is None:
            continue
        conn.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence(:table, :column), "
                f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)"
            ),
            {"table": table.name, "column": column.name},
        )


def count_rows(engine: sa.Engine) -> dict[str, int]:
    """Rows of every store table."""
    with engine.connect() as conn:
        return {
            table.name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in copied_tables()
        }


def task_digest(engine: sa.Engine) -> str:
    """``TaskDigest`` of the task ledger stored behind ``engine``."""
    digest = TaskDigest()
    query = sa.select(owned_tasks.c.key, owned_tasks.c.remote_id, owned_tasks.c.state)
    with engine.connect() as conn:
        for key, remote_id, state in conn.execution_options(yield_per=ROW_CHUNK).execute(query):
            digest.add(key, remote_id, state)
    return digest.hexdigest()

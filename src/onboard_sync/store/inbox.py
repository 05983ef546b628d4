"""Store part: the webhook inbox, the durable queue of verified events behind ``serve``'s 2xx.

Events are persisted under a unique ``(source, event id)``, so a replayed delivery is recognised
and dropped (reliability §1.2, idempotent consumer). Mixed into ``Store``; the receiver writes
(``webhooks.queue.StoreQueue``, ``webhooks.engine_queue``), the workers claim and complete.

**Where it lives.** A SQLite file store ``NAME.db`` keeps its inbox in a SQLite database of its
own beside it, ``NAME.inbox.db`` (:func:`inbox_path`), in WAL mode. ``serve`` answers a delivery
only after its events are committed; in the store's file that commit shared SQLite's one write
lock with the worker's transactions, and in the store's rollback-journal mode a commit also waits
until no reader is left. In its own file only the receiver's inserts and the workers' claims and
completions meet: readers do not block the commit (WAL), and a commit appends to the WAL with one
``fsync`` (``synchronous = FULL``: an acknowledged event survives a power cut, as it did in the
store). Read-only commands (``plan``, ``status``, ``report``) never open the inbox, so a read-only
open of the store still creates no ``-wal``/``-shm`` file; the inbox file has them while it is open.
PostgreSQL stores (MVCC: no such lock; ``serve --receiver-only`` enqueues its reconcile in the
same transaction as the rows) and in-memory SQLite stores keep the inbox in the store's own
``webhook_inbox`` table.

**Upgrades.** Events an older onboard-sync left in the store's ``webhook_inbox`` table are moved
into the inbox file when it is first opened writable (:meth:`InboxMixin.open_inbox`), processed
ones too, so that a redelivery of an event stays a no-op: a page of rows is copied and committed,
then deleted from the store; a crash in between copies them again, and the unique key ignores them.

On SQLite each delivery's rows go in as one ``INSERT ... VALUES (...), (...) ON CONFLICT DO
NOTHING`` per 200 events, and the statement's row count says how many were new: one statement
rather than a duplicate check plus one execution per row, each of which lets go of the GIL (and
waits to get it back from the receiver's event loop).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from onboard_sync.errors import UserError
from onboard_sync.store import schema as t
from onboard_sync.store.base import IN_CHUNK, ROW_CHUNK, StoreBase, chunks
from onboard_sync.store.database import URGENT_OPTION, WRITE_OPTION, configure_sqlite
from onboard_sync.store.rows import InboxEvent

INBOX_FORMAT = 1
"""``PRAGMA user_version`` of an inbox file: what this onboard-sync writes and can read."""
VALUES_ROWS = 200
"""Events per multi-row INSERT on SQLite: 800 bound parameters, under the 999 of older SQLite builds."""

AUTOCHECKPOINT_PAGES = 16_384
"""WAL pages (4 KiB) after which a commit copies the WAL back into the inbox file: a safety net only,
since the workers checkpoint after each batch they complete (:meth:`InboxMixin.inbox_mark_processed`)."""

Delivery = tuple[str, Sequence[tuple[str, bytes | str]], datetime]
"""``(source, [(event id, payload), ...], received_at)``: what one webhook request persists."""


def inbox_path(store_path: Path) -> Path:
    """The inbox file of the SQLite store at ``store_path``: ``state.db`` -> ``state.inbox.db``."""
    return store_path.with_name(f"{store_path.stem}.inbox{store_path.suffix or '.db'}")


def inbox_engine(where: Path, busy_timeout_ms: int, *, read_only: bool) -> sa.Engine:
    """An engine on the inbox file ``where``: WAL and ``synchronous = FULL``, or ``mode=ro`` (a
    read-only reader may still create the WAL's side files of the inbox, never of the store)."""
    if read_only:
        uri = f"file:{quote(str(where))}?mode=ro"
        engine = sa.create_engine(
            "sqlite+pysqlite://",
            creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False),
            poolclass=NullPool,
        )
    else:
        engine = sa.create_engine(
            sa.engine.URL.create("sqlite+pysqlite", database=str(where)), connect_args={"check_same_thread": False}
        )

        @sa.event.listens_for(engine, "connect")
        def _wal(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA journal_mode = WAL")
            dbapi_connection.execute("PRAGMA synchronous = FULL")
            dbapi_connection.execute(f"PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}")

    configure_sqlite(engine, busy_timeout_ms, read_only=read_only)
    return engine


def _inbox(r: Any) -> InboxEvent:
    return InboxEvent(
        id=r.id,
        source=r.source,
        event_id=r.event_id,
        received_at=r.received_at,
        payload=bytes(r.payload),
        processed_at=r.processed_at,
    )


@dataclass
class _InboxFile:
    """The open inbox database of a SQLite file store: a writable engine, or a read-only one."""

    engine: sa.Engine
    writer: sa.Engine  # engine with the write option: BEGIN IMMEDIATE
    urgent: sa.Engine  # and the urgent option: polls for the write lock (database.begin_immediate)


class InboxMixin(StoreBase):
    """The webhook inbox (see the module docstring for where it is kept)."""

    _inbox_file: _InboxFile | None = None
    _inbox_opening = threading.Lock()

    # -- where the inbox is -------------------------------------------------------------

    def open_inbox(self) -> None:
        """Open the inbox now (``serve``'s queue does, before the first delivery), moving into it
        the events an older onboard-sync left in the store's table; otherwise the first inbox
        call does it. Nothing to do on PostgreSQL or in memory."""
        self._inbox_engine()

    def _inbox_engine(self) -> _InboxFile | None:
        """The inbox file's engines, or None where the inbox is the store's own table (PostgreSQL,
        in memory, or a read-only open of a store whose inbox file does not exist yet)."""
        path = self._opened.path
        if path is None or self._inbox_file is not None:
            return self._inbox_file
        with self._inbox_opening:
            if self._inbox_file is None:
                where = inbox_path(path)
                if self._read_only and not where.exists():
                    return None
                self._inbox_file = self._connect_inbox(where)
                if not self._read_only:
                    self._adopt_store_rows(self._inbox_file)
        return self._inbox_file

    def _connect_inbox(self, where: Path) -> _InboxFile:
        engine = inbox_engine(where, self._opened.busy_timeout_ms, read_only=self._read_only)
        opened = _InboxFile(
            engine,
            engine.execution_options(**{WRITE_OPTION: True}),
            engine.execution_options(**{WRITE_OPTION: True, URGENT_OPTION: True}),
        )
        try:
            self._check_inbox_format(opened, where)
        except BaseException:
            engine.dispose()
            raise
        return opened

    def _check_inbox_format(self, inbox: _InboxFile, where: Path) -> None:
        """Create the table in a new inbox file; refuse one written by a newer onboard-sync."""
        try:
            with (inbox.engine if self._read_only else inbox.writer).begin() as conn:
                version = conn.exec_driver_sql("PRAGMA user_version").scalar_one()
                if version > INBOX_FORMAT:
                    raise UserError(
                        f"the webhook inbox is at format {version}, which this version of onboard-sync does not "
                        "know (it was written by a newer onboard-sync): upgrade onboard-sync",
                        where=str(where),
                    )
                if version < INBOX_FORMAT and not self._read_only:
                    t.webhook_inbox.create(conn, checkfirst=True)
                    conn.exec_driver_sql(f"PRAGMA user_version = {INBOX_FORMAT}")
        except sa.exc.SQLAlchemyError as exc:
            text = " ".join(str(getattr(exc, "orig", None) or exc).split())
            raise UserError(f"cannot open the webhook inbox: {text}", where=str(where)) from exc

    def _adopt_store_rows(self, inbox: _InboxFile) -> None:
        """Move what an older onboard-sync left in the store's ``webhook_inbox`` into the inbox file."""
        c = t.webhook_inbox.c
        while True:
            with self._read() as conn:
                rows = conn.execute(sa.select(t.webhook_inbox).order_by(c.id).limit(ROW_CHUNK)).mappings().all()
            if not rows:
                return
            moved = [{k: v for k, v in row.items() if k != "id"} for row in rows]
            with inbox.writer.begin() as conn:
                conn.execute(self._insert(t.webhook_inbox).on_conflict_do_nothing(), moved)
            with self._write() as conn:
                conn.execute(sa.delete(t.webhook_inbox).where(c.id.in_([row["id"] for row in rows])))

    def _close_inbox(self) -> None:
        if self._inbox_file is not None:
            self._inbox_file.engine.dispose()

    @contextmanager
    def _inbox_read(self) -> Iterator[sa.Connection]:
        inbox = self._inbox_engine()
        if inbox is None:
            with self._read() as conn:
                yield conn
            return
        with inbox.engine.connect() as conn:
            yield conn

    @contextmanager
    def _inbox_write(self, *, urgent: bool = False) -> Iterator[sa.Connection]:
        """A write transaction on the inbox: the inbox file's, or the store's (joining the thread's
        open ``transaction()`` there, as the receiver-only queue does on PostgreSQL)."""
        self._check_writable()
        inbox = self._inbox_engine()
        if inbox is None:
            with self._write(urgent=urgent) as conn:
                yield conn
            return
        with (inbox.urgent if urgent else inbox.writer).begin() as conn:
            yield conn

    # -- the queue's operations ---------------------------------------------------------

    def inbox_add(self, source: str, event_id: str, payload: bytes | str, received_at: datetime) -> bool:
        """Persist a verified webhook event; False (and nothing written) if it is a duplicate."""
        return self.inbox_add_deliveries([(source, [(event_id, payload)], received_at)])[0] == 1

    def inbox_add_many(self, source: str, events: Sequence[tuple[str, bytes | str]], received_at: datetime) -> int:
        """Persist many verified events in one transaction; return how many were new.

        Duplicates (by ``(source, event_id)``, also within ``events``) are skipped by the unique
        constraint, so the count is exact for one writer; with several processes writing the same
        events at once it may over-count on PostgreSQL, never over-store.
        """
        return self.inbox_add_deliveries([(source, events, received_at)])[0]

    def inbox_add_deliveries(self, deliveries: Sequence[Delivery]) -> list[int]:
        """Persist several deliveries (``(source, events, received_at)`` each, as :meth:`inbox_add_many`)
        in one transaction: one commit for all of them (the receiver's group commit). Returns how many
        events of each delivery were new, in order; an event repeated in a later delivery of the same
        call counts for the first one only."""
        self._check_writable()
        if not any(events for _, events, _ in deliveries):
            return [0] * len(deliveries)
        with self._inbox_write(urgent=True) as conn:
            add = _add_sqlite if conn.dialect.name == "sqlite" else self._add_checked
            return [add(conn, source, _unique(events), received_at) for source, events, received_at in deliveries]

    def _add_checked(self, conn: sa.Connection, source: str, rows: dict[str, bytes], received_at: datetime) -> int:
        """PostgreSQL: skip the events already stored (one query per chunk), insert the rest."""
        c = t.webhook_inbox.c
        stored: set[str] = set()
        for batch in chunks(list(rows), IN_CHUNK):
            query = sa.select(c.event_id).where(c.source == source, c.event_id.in_(batch))
            stored.update(conn.execute(query).scalars())
        fresh = [
            {"source": source, "event_id": key, "payload": body, "received_at": received_at}
            for key, body in rows.items()
            if key not in stored
        ]
        if fresh:
            stmt = self._insert(t.webhook_inbox).on_conflict_do_nothing(index_elements=["source", "event_id"])
            for batch in chunks(fresh, ROW_CHUNK):
                conn.execute(stmt, batch)
        return len(fresh)

    def inbox_pending(self, limit: int = 100, *, source: str | None = None) -> list[InboxEvent]:
        """Unprocessed events (of ``source`` only, if given), oldest first."""
        c = t.webhook_inbox.c
        query = sa.select(t.webhook_inbox).where(c.processed_at.is_(None)).order_by(c.id).limit(limit)
        if source is not None:
            query = query.where(c.source == source)
        with self._inbox_read() as conn:
            return [_inbox(r) for r in conn.execute(query)]

    def inbox_mark_processed(self, ids: Collection[int], at: datetime | None = None) -> None:
        """Mark events processed (at ``at``, default now)."""
        self._check_writable()
        if not ids:
            return
        when = at or self._now()
        c = t.webhook_inbox.c
        with self._inbox_write() as conn:
            for batch in chunks(list(ids), IN_CHUNK):
                conn.execute(sa.update(t.webhook_inbox).where(c.id.in_(batch)).values(processed_at=when))
        inbox = self._inbox_engine()
        if inbox is not None:  # the worker copies the WAL back, not a receiver's commit with a sender waiting
            with inbox.engine.connect() as conn:  # outside a transaction: the driver's connection
                driver = conn.connection.dbapi_connection
                assert driver is not None
                driver.execute("PRAGMA wal_checkpoint(PASSIVE)")


def _unique(events: Sequence[tuple[str, bytes | str]]) -> dict[str, bytes]:
    """Payload by event id, the first of repeated ids kept."""
    rows: dict[str, bytes] = {}
    for event_id, payload in events:
        rows.setdefault(event_id, payload.encode("utf-8") if isinstance(payload, str) else bytes(payload))
    return rows


def _add_sqlite(conn: sa.Connection, source: str, rows: dict[str, bytes], received_at: datetime) -> int:
    """SQLite: multi-row INSERTs that skip stored events; their row counts are the new events."""
    stamp = t.webhook_inbox.c.received_at.type.bind_processor(conn.dialect)
    received = stamp(received_at) if stamp is not None else received_at
    new = 0
    for batch in chunks(list(rows.items()), VALUES_ROWS):
        values = ", ".join(["(?, ?, ?, ?)"] * len(batch))
        sql = (
            f"INSERT INTO webhook_inbox (source, event_id, received_at, payload) VALUES {values} "
            "ON CONFLICT (source, event_id) DO NOTHING"
        )
        params = tuple(value for key, body in batch for value in (source, key, received, body))
        new += conn.exec_driver_sql(sql, params).rowcount
    return new

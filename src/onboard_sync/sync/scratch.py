"""A run's scratch space: what one instance's run keeps from its pull to its last chunk, off the heap.

Called by ``sync.engine`` (one ``RunScratch`` per deal-source instance and run), ``sync.chunks``
(the pulled deal ids, the accounts already read) and ``sync.plan.AccountFields`` (the desired
account fields, planned once every chunk is evaluated). These are the structures that grow with
the number of deals a run pulls; held as Python sets and dicts they cost about 100 bytes per id
and 350 per account (a million-deal backfill: 200,000 won deals, 170,000 accounts), and, being
allocated among every chunk's short-lived objects, they also keep the interpreter from handing
freed memory back. Issue 16 asks for a backfill's peak RSS to stay flat in its size.

They live in a private temporary SQLite database (``sqlite3.connect("")``: an on-disk file that
SQLite deletes itself when the connection closes, even after a crash), with a small page cache,
no journal and no fsync. Hand-written over the standard library's ``sqlite3`` because it is
scratch, not state: the store may be PostgreSQL (shared by workers) or read-only (``plan``), and
nothing here needs migrations, durability or a transaction with the journal; a run that dies
loses it, as it lost the in-memory sets before, and starts again from its cursor.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from types import TracebackType

CACHE_KIB = 2048
"""SQLite page cache of the scratch database (the rest is on disk)."""
BATCH = 500
"""Ids per ``IN (...)`` query."""


class RunScratch:
    """One run's scratch database; use as a context manager (closed, and deleted, on exit)."""

    def __init__(self) -> None:
        self._db = sqlite3.connect("", isolation_level=None, check_same_thread=False)
        self.lock = threading.Lock()
        """Serialises the connection (the engine's threads stage pages and plan chunks one at a time)."""
        for pragma in (f"cache_size = -{CACHE_KIB}", "journal_mode = OFF", "synchronous = OFF", "temp_store = FILE"):
            self._db.execute(f"PRAGMA {pragma}")
        self._names: set[str] = set()

    def __enter__(self) -> RunScratch:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def ids(self, name: str) -> IdLog:
        """A new ordered set of ids named ``name`` (a table of its own)."""
        if not name.isidentifier() or name in self._names:
            raise ValueError(f"scratch table name {name!r} is not a fresh identifier")
        self._names.add(name)
        self.execute(f"CREATE TABLE ids_{name} (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE)")
        return IdLog(self, f"ids_{name}")

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        with self.lock:
            return self._db.execute(sql, params).fetchall()

    def write_many(self, sql: str, rows: Iterable[Sequence[object]]) -> int:
        """Run ``sql`` for every row in one transaction; returns the rows it changed."""
        with self.lock:
            before = self._db.total_changes
            self._db.execute("BEGIN")
            try:
                self._db.executemany(sql, rows)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return self._db.total_changes - before

    def select_in(self, sql: str, ids: Sequence[str]) -> list[tuple[object, ...]]:
        """``sql`` (with one ``IN ({})`` placeholder) for ``ids``, ``BATCH`` at a time."""
        rows: list[tuple[object, ...]] = []
        for start in range(0, len(ids), BATCH):
            part = ids[start : start + BATCH]
            rows += self.execute(sql.format(",".join("?" * len(part))), part)
        return rows


class IdLog:
    """An ordered set of ids (first-added order; adding one again keeps its place) in a scratch table."""

    def __init__(self, scratch: RunScratch, table: str) -> None:
        self._scratch, self._table = scratch, table
        self._count = 0

    def add(self, ids: Iterable[str]) -> None:
        self._count += self._scratch.write_many(
            f"INSERT OR IGNORE INTO {self._table} (id) VALUES (?)", ((i,) for i in ids)
        )

    def __len__(self) -> int:
        return self._count

    def __contains__(self, item: object) -> bool:
        return bool(self._scratch.execute(f"SELECT 1 FROM {self._table} WHERE id = ?", (item,)))

    def __iter__(self) -> Iterator[str]:
        for chunk in self.chunks(BATCH):
            yield from chunk

    def present(self, ids: Iterable[str]) -> set[str]:
        """Which of ``ids`` are in the set."""
        wanted = sorted(set(ids))
        return {
            str(row[0]) for row in self._scratch.select_in(f"SELECT id FROM {self._table} WHERE id IN ({{}})", wanted)
        }

    def missing(self, ids: Sequence[str]) -> list[str]:
        """``ids`` that are not in the set, in their order."""
        found = self.present(ids)
        return [i for i in ids if i not in found]

    def chunks(self, size: int) -> Iterator[list[str]]:
        """The ids in order, ``size`` at a time (read page by page: add nothing while iterating)."""
        after: object = 0
        while True:
            rows = self._scratch.execute(
                f"SELECT seq, id FROM {self._table} WHERE seq > ? ORDER BY seq LIMIT ?", (after, size)
            )
            if not rows:
                return
            yield [str(row[1]) for row in rows]
            after = rows[-1][0]


def dumps(values: object) -> str:
    """Compact JSON for a scratch column."""
    return json.dumps(values, separators=(",", ":"))

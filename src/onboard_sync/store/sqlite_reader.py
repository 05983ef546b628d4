"""A read-only view of a SQLite store through the standard library's ``sqlite3``, for ``status``.

``onboard-sync status`` should start in well under 0.3 s, and importing SQLAlchemy alone costs
about 0.2 s. Its table needs five plain queries (the onboardings, a source's task ledger, cached
deals and accounts by id, the owners), which :class:`SqliteReader` runs with ``sqlite3`` on a
``mode=ro`` connection inside one read transaction (one snapshot). The rows become the objects
``Store`` returns, built by the same functions (``codec.loads``, ``rows.owned_task``,
``rows.owner``); the tables, columns and timestamp columns are those of ``schema.py``:
``tests/store/test_sqlite_reader.py`` checks the names against ``schema.metadata`` and every answer
against ``Store``'s on the same file.

:meth:`SqliteReader.open` answers ``None`` for anything but a plain SQLite file at the schema head
(PostgreSQL, memory, a missing file, an older or newer schema, a locked or corrupt file): the
caller then opens ``Store``, which handles those cases, and words their errors, as always.
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Collection, Iterator, Sequence
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

from onboard_sync.onboarding.state import OnboardingState
from onboard_sync.records import Account, Deal, Owner
from onboard_sync.store import codec
from onboard_sync.store.revisions import VERSION_TABLE, head_revision
from onboard_sync.store.rows import FACT_KINDS, OwnedTask, owned_task, owner

R = TypeVar("R", Deal, Account)

SQLITE_PREFIX = "sqlite:///"
BUSY_TIMEOUT_S = 10.0
"""How long a read waits for a writer's commit (``Store``'s ``busy_timeout``, 10 000 ms)."""
IN_CHUNK = 900
"""Ids per ``IN (...)``: well under SQLite's bound-parameter limit (as ``store.base``)."""
UTC_COLUMNS = {"owned_tasks": ("due_at", "completed_at", "updated_at")}
"""The ``UTCDateTime`` columns of the tables read whole: stored as naive UTC text, read as aware UTC."""


@cache
def _row_type(columns: tuple[str, ...]) -> type:
    return namedtuple("Row", columns)  # rows with the columns as attributes, as SQLAlchemy's


def _utc(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)


def plain_database(url: str) -> str | None:
    """The database of a plain ``sqlite:///PATH`` URL, as SQLAlchemy reads it (``PATH``); ``None``
    for a URL with query options or escapes, or of any other backend (SQLAlchemy reads those)."""
    if not url.startswith(SQLITE_PREFIX) or "?" in url or "%" in url:
        return None
    return url[len(SQLITE_PREFIX) :]


def plain_file(url: str) -> Path | None:
    """The file of a ``sqlite:///PATH`` URL; ``None`` for memory, URI filenames, query options or
    any other backend (those go through ``Store``)."""
    database = plain_database(url)
    if database is None or database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database).expanduser().resolve()


class SqliteReader:
    """The reads of ``status``'s table from a SQLite store at the schema head. Open with :meth:`open`."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection

    @classmethod
    def open(cls, url: str) -> SqliteReader | None:
        """A reader of the SQLite file at ``url``, or ``None`` when ``Store`` must open it."""
        path = plain_file(url)
        if path is None or not path.is_file():
            return None
        try:
            conn = sqlite3.connect(
                f"file:{quote(str(path))}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None
            )
        except sqlite3.Error:
            return None
        try:
            conn.execute("BEGIN")  # one snapshot for every read (a sync may commit meanwhile)
            revisions = [row[0] for row in conn.execute(f"SELECT version_num FROM {VERSION_TABLE}")]
        except sqlite3.Error:
            conn.close()
            return None
        if revisions != [head_revision()]:
            conn.close()
            return None
        return cls(conn)

    def close(self) -> None:
        """End the read transaction and close the file."""
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _rows(self, table: str, sql: str, params: Sequence[Any]) -> Iterator[Any]:
        """The rows of ``sql`` (a ``SELECT *`` of ``table``) with columns as attributes and the
        table's timestamp columns as aware UTC datetimes."""
        cursor = self._conn.execute(sql, params)
        columns = tuple(d[0] for d in cursor.description)
        row_type = _row_type(columns)
        stamps = [columns.index(name) for name in UTC_COLUMNS.get(table, ())]
        for values in cursor:
            if stamps:
                values = list(values)
                for index in stamps:
                    values[index] = _utc(values[index])
            yield row_type(*values)

    def onboardings(self, *, source: str | None = None) -> list[OnboardingState]:
        """All onboardings (of one source), ordered by id: ``Store.onboardings``."""
        where, params = (" WHERE source = ?", [source]) if source is not None else ("", [])
        sql = f"SELECT data FROM onboardings{where} ORDER BY id"
        return [codec.loads(OnboardingState, data) for (data,) in self._conn.execute(sql, params)]

    def owned_tasks_for(self, source: str) -> dict[str, OwnedTask]:
        """Every task owned by onboardings of ``source``, by key: ``Store.owned_tasks_for``."""
        rows = self._rows("owned_tasks", "SELECT * FROM owned_tasks WHERE source = ?", [source])
        return {r.key: owned_task(r) for r in rows}

    def _records(self, cls: type[R], source: str, ids: Collection[str]) -> dict[str, R]:
        wanted = list(ids)
        records: dict[str, R] = {}
        for start in range(0, len(wanted), IN_CHUNK):
            chunk = wanted[start : start + IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT data FROM facts WHERE source = ? AND kind = ? AND id IN ({marks})"
            for (data,) in self._conn.execute(sql, [source, FACT_KINDS[cls], *chunk]):
                record = codec.loads(cls, data)
                records[record.id] = record
        return records

    def get_deals(self, source: str, ids: Collection[str]) -> dict[str, Deal]:
        """Cached deals by id: ``Store.get_deals``."""
        return self._records(Deal, source, ids)

    def get_accounts(self, source: str, ids: Collection[str]) -> dict[str, Account]:
        """Cached accounts by id: ``Store.get_accounts``."""
        return self._records(Account, source, ids)

    def owners(self, source: str) -> dict[str, Owner]:
        """The owners of ``source``, by id: ``Store.owners``."""
        rows = self._rows("owners", "SELECT * FROM owners WHERE source = ? ORDER BY id", [source])
        return {r.id: owner(r) for r in rows}

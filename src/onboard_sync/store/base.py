"""Connection and transaction plumbing shared by the store's parts (see ``store.Store``).

``StoreBase`` owns the engine and gives its mixins three helpers: ``_read()`` and
``_write()`` yield a connection (the current ``transaction()``'s if one is open in this
thread, else a fresh one that commits on exit), and ``_upsert``/``_insert_ignore`` issue
batched dialect-specific ``INSERT ... ON CONFLICT`` statements (SQLite and Postgres share
the syntax through SQLAlchemy's dialect ``insert``).
"""

from __future__ import annotations

import contextlib
import importlib
import operator
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, TypeVar

import sqlalchemy as sa

from onboard_sync.errors import UserError
from onboard_sync.store.database import URGENT_OPTION, WRITE_OPTION, Opened

T = TypeVar("T")

IN_CHUNK = 900  # ids per IN (...) query: well under SQLite's bound-parameter limit
ROW_CHUNK = 2_000  # rows per executemany batch
VALUES_CHUNK = 10_000  # rows per UPDATE ... FROM unnest(arrays) on Postgres


def _driver_rows(
    rows: Sequence[Mapping[str, Any]], names: list[str], processors: list[Callable[[Any], Any] | None]
) -> list[tuple[Any, ...]]:
    """Positional parameter tuples for ``names``; datetimes converted once per distinct value."""
    get = operator.itemgetter(*names)
    values = [[get(row)] for row in rows] if len(names) == 1 else [list(get(row)) for row in rows]
    for index, process in enumerate(processors):
        if process is None:
            continue
        seen: dict[datetime, Any] = {}
        for row in values:
            value = row[index]
            if isinstance(value, datetime):
                if value not in seen:
                    seen[value] = process(value)
                row[index] = seen[value]
            else:
                row[index] = process(value)
    return [tuple(row) for row in values]


class ReadOnlyStoreError(UserError):
    """A mutating call on a store opened with ``read_only=True`` (e.g. by ``plan``)."""


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of ``items`` of at most ``size`` elements."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


class StoreBase:
    """Engine, read-only flag, clock and the per-thread transaction of a ``Store``."""

    def __init__(self, opened: Opened, *, read_only: bool, clock: Callable[[], datetime] | None) -> None:
        self._opened = opened
        self._engine = opened.engine
        self._write_engine = opened.engine.execution_options(**{WRITE_OPTION: True})
        self._urgent_engine = opened.engine.execution_options(**{WRITE_OPTION: True, URGENT_OPTION: True})
        self._read_only = read_only
        self._clock = clock or (lambda: datetime.now(UTC))
        self._tx = threading.local()
        self._shared: contextlib.AbstractContextManager[Any] = (
            threading.RLock() if opened.memory else contextlib.nullcontext()
        )
        """An in-memory SQLite store has one connection for every thread: they take turns."""

    @property
    def read_only(self) -> bool:
        """True when opened with ``read_only=True``: every mutating call raises."""
        return self._read_only

    @property
    def url_for_display(self) -> str:
        """The store URL with any password replaced by ``***``."""
        return self._opened.display

    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._opened.backend

    @property
    def _dialect(self) -> Any:
        """SQLAlchemy's dialect module of the backend (its ``insert`` with ON CONFLICT, Postgres's
        ``ARRAY``), imported when first used: the Postgres dialect costs a SQLite store's start."""
        return importlib.import_module(f"sqlalchemy.dialects.{self._opened.backend}")

    def _now(self) -> datetime:
        return self._clock().astimezone(UTC)

    # -- transactions -------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group the mutations inside into one database transaction (nesting joins the outer one).

        Commits when the outermost block exits normally, rolls back if it raises. On
        SQLite the transaction takes the write lock at its start (``BEGIN IMMEDIATE``),
        so keep transactions to a batch, not a whole run, if a webhook receiver shares
        the file. Not shared across threads: each thread has its own.
        """
        if getattr(self._tx, "conn", None) is not None:
            yield
            return
        engine = self._engine if self._read_only else self._write_engine
        with self._shared, engine.begin() as conn:
            self._tx.conn = conn
            try:
                yield
            finally:
                self._tx.conn = None

    @contextmanager
    def transaction_connection(self) -> Iterator[sa.Connection]:
        """``transaction()``, yielding its connection: for another writer on the same database to
        join the transaction (the durable engine's enqueue beside an inbox insert)."""
        with self.transaction():
            yield self._tx.conn

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        conn = getattr(self._tx, "conn", None)
        if conn is not None:
            yield conn
            return
        with self._shared, self._engine.connect() as fresh:
            yield fresh

    @contextmanager
    def _write(self, *, urgent: bool = False) -> Iterator[sa.Connection]:
        """A write transaction (or the thread's open one); ``urgent`` when a caller waits for it (the
        webhook inbox, before its 2xx): on SQLite it polls for the write lock (``begin_immediate``)."""
        self._check_writable()
        try:
            conn = getattr(self._tx, "conn", None)
            if conn is not None:
                yield conn
                return
            engine = self._urgent_engine if urgent else self._write_engine
            with self._shared, engine.begin() as fresh:
                yield fresh
        except sa.exc.StatementError as exc:
            if isinstance(exc.orig, ValueError | TypeError):  # e.g. a naive datetime: say so plainly
                raise exc.orig from exc
            raise

    def _check_writable(self) -> None:
        if self._read_only:
            raise ReadOnlyStoreError(
                "the store was opened read-only (plan writes nothing); this call would change it",
                where=self.url_for_display,
            )

    # -- batched statements -------------------------------------------------------------

    def _insert(self, table: sa.Table) -> Any:
        return self._dialect.insert(table)

    def _upsert(
        self,
        conn: sa.Connection,
        table: sa.Table,
        rows: Sequence[Mapping[str, Any]],
        *,
        keys: Iterable[str],
        where: Callable[[Any], Any] | None = None,
    ) -> None:
        """Insert ``rows``, replacing the non-key columns of rows whose ``keys`` exist.

        ``where(stmt)`` may return a condition (on ``stmt.excluded`` and the table) that
        must hold for an existing row to be replaced.
        """
        if not rows:
            return
        keys = list(keys)
        stmt = self._insert(table)
        columns = [c for c in rows[0] if c not in keys]
        stmt = stmt.on_conflict_do_update(
            index_elements=keys,
            set_={c: stmt.excluded[c] for c in columns},
            where=where(stmt) if where is not None else None,
        )
        self._execute_rows(conn, stmt, table, rows)

    def _insert_ignore(self, conn: sa.Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert ``rows``, leaving any row whose primary/unique key already exists untouched."""
        if not rows:
            return
        stmt = self._insert(table).on_conflict_do_nothing()
        self._execute_rows(conn, stmt, table, rows)

    def _execute_rows(self, conn: sa.Connection, stmt: Any, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
        """Execute the INSERT ``stmt`` into ``table`` once per row (dicts keyed by column), batched.

        On SQLite the rows go to the driver's ``executemany`` directly, converted by each column
        type's own bind processor (each distinct datetime once): SQLAlchemy's generic per-row
        parameter handling was a third of a 2,000-onboarding backfill's CPU, while SQLite itself
        took a tenth of that. Postgres keeps SQLAlchemy's batching (multi-row VALUES), which a
        per-row executemany would lose. Anything the fast path cannot express exactly (a bind
        that is not a column, a Python-side column default) takes the generic path.
        """
        fast = self._opened.backend == "sqlite" and self._driver_insert(conn, stmt, table, list(rows[0]))
        for batch in chunks(rows, ROW_CHUNK):
            if fast:
                sql, names, processors = fast
                conn.exec_driver_sql(sql, _driver_rows(batch, names, processors))
            else:
                conn.execute(stmt, list(batch))

    @staticmethod
    def _driver_insert(
        conn: sa.Connection, stmt: Any, table: sa.Table, keys: list[str]
    ) -> tuple[str, list[str], list[Callable[[Any], Any] | None]] | None:
        compiled = stmt.compile(dialect=conn.dialect, column_keys=keys)
        names = list(compiled.positiontup or ())
        if (
            not names
            or getattr(compiled, "insert_prefetch", None)
            or any(n not in table.c or n not in keys for n in names)
        ):
            return None
        return str(compiled), names, [table.c[n].type.bind_processor(conn.dialect) for n in names]

    def _update_many(
        self,
        conn: sa.Connection,
        columns: Sequence[tuple[str, sa.types.TypeEngine[Any]]],
        rows: Sequence[Sequence[Any]],
        build: Callable[[Any], sa.Update],
    ) -> None:
        """Apply one UPDATE per row of ``rows`` (values for ``columns``) as a batch.

        ``build(v)`` returns the UPDATE, reading the row's values as ``v.c.<name>``. On
        Postgres ``v`` is ``unnest(<one array per column>)`` joined in (``UPDATE ... FROM``:
        one statement per chunk; per-row executemany was 10-30x slower there); on SQLite
        ``v.c`` holds bind parameters and the rows go through ``executemany`` (in-process).
        Rows must not repeat a match key.
        """
        if not rows:
            return
        if self._opened.backend == "postgresql":
            # one statement per chunk, one array parameter per column: compiled once, cached
            arrays = [sa.bindparam(f"a_{n}", type_=self._dialect.ARRAY(tp)) for n, tp in columns]
            v = sa.func.unnest(*arrays).table_valued(*(sa.column(n, tp) for n, tp in columns))
            v = v.render_derived(name="v")
            stmt = build(v)
            for batch in chunks(rows, VALUES_CHUNK):
                params = {f"a_{n}": [r[i] for r in batch] for i, (n, _) in enumerate(columns)}
                conn.execute(stmt, params)
            return
        binds = SimpleNamespace(c=SimpleNamespace(**{n: sa.bindparam(f"b_{n}", type_=tp) for n, tp in columns}))
        stmt = build(binds)
        for batch in chunks(rows, ROW_CHUNK):
            conn.execute(stmt, [{f"b_{n}": value for (n, _), value in zip(columns, r, strict=True)} for r in batch])

    def _select_in(
        self,
        conn: sa.Connection,
        base: sa.Select[Any],
        column: sa.ColumnElement[Any],
        values: Iterable[Any],
    ) -> list[sa.Row[Any]]:
        """Run ``base`` with ``column IN values``, chunked; unique values, any order."""
        unique = list(dict.fromkeys(values))
        if not unique:
            return []
        if self._opened.backend == "postgresql":  # one query, one array parameter
            array = sa.bindparam("in_values", type_=self._dialect.ARRAY(column.type))
            return list(conn.execute(base.where(column == sa.any_(array)), {"in_values": unique}).all())
        rows: list[sa.Row[Any]] = []
        for batch in chunks(unique, IN_CHUNK):
            rows.extend(conn.execute(base.where(column.in_(batch))).all())
        return rows

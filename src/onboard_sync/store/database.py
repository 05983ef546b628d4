"""Turn a store URL into a configured SQLAlchemy engine (SQLite file or memory, PostgreSQL).

Called by ``Store.open``. SQLite runs in the default rollback-journal mode (no WAL: a
read-only open must create no ``-wal``/``-shm`` side files), with ``foreign_keys`` on and
a ``busy_timeout``; the driver's own transaction handling is switched off so the store
emits ``BEGIN`` itself (``BEGIN IMMEDIATE`` for writes, so two writers queue on the busy
timeout instead of failing on a lock upgrade; an urgent write, the receiver's into the webhook inbox
(whose own file, ``store/inbox.py``, uses these settings in WAL mode), tries again
for the lock every millisecond, ``begin_immediate``, rather than with SQLite's growing sleeps).
A read-only SQLite open uses the URI ``file:...?mode=ro``; a read-only open of a missing file
gives an empty in-memory database (``plan`` before the first sync) unless ``must_exist``
(``status``, ``report``: a mistyped path must not show an empty store) makes it a UserError
naming the path. PostgreSQL read-only sessions are ``READ ONLY`` on the server side as well; a
missing driver (the ``postgres`` extra) is a UserError saying what to install.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine
from sqlalchemy.pool import NullPool, StaticPool

from onboard_sync.errors import UserError

WRITE_OPTION = "onboard_sync_write"
URGENT_OPTION = "onboard_sync_urgent"
"""A write someone waits for (``serve``'s inbox commit, before its 2xx): it polls for the lock."""
LOCK_POLL_SECONDS = 0.001
"""How often an urgent SQLite write transaction tries again for the write lock another connection holds."""
DEFAULT_BUSY_TIMEOUT_MS = 10_000


@dataclass(frozen=True, slots=True)
class Opened:
    """An engine plus what the store needs to know about where it points."""

    engine: Engine
    backend: str  # "sqlite" or "postgresql"
    display: str  # the URL with any password redacted
    path: Path | None  # the SQLite file, None for memory or Postgres
    memory: bool  # an in-memory SQLite database (nothing persists)
    busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS


def parse_url(url: str) -> URL:
    """Parse a store URL, or raise a UserError that does not echo a password."""
    try:
        return sa.engine.make_url(url)
    except Exception as exc:  # sqlalchemy.exc.ArgumentError and friends
        raise UserError(
            "not a valid store URL (expected e.g. sqlite:///state.db or postgresql+psycopg://user@host/db)",
            where=redact_url(url),
        ) from exc


def redact_url(url: str | URL) -> str:
    """The URL for messages and logs: the password (if any) replaced by ``***``."""
    if isinstance(url, str):
        try:
            url = sa.engine.make_url(url)
        except Exception:
            return "<unparseable store URL>"
    return url.render_as_string(hide_password=True)


def open_engine(
    url: str,
    *,
    read_only: bool,
    busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
    must_exist: bool = False,
    connections: int | None = None,
) -> Opened:
    """Create (but do not yet connect) the engine for ``url``; with ``must_exist`` a SQLite store
    that is not there yet (or lives only in memory) is a UserError instead of an empty store.
    ``connections``: how many PostgreSQL connections the process may hold at once (a worker running
    N reconciles side by side needs more than SQLAlchemy's default 5 + 10 overflow)."""
    parsed = parse_url(url)
    display = redact_url(parsed)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        opened = _sqlite(parsed, display, read_only=read_only, busy_timeout_ms=busy_timeout_ms)
        if must_exist and opened.memory:
            opened.engine.dispose()
            raise _missing_store(parsed)
        return opened
    if backend == "postgresql":
        return _postgres(parsed, display, read_only=read_only, connections=connections)
    raise UserError(f"unsupported store backend {backend!r}: use sqlite or postgresql", where=display)


def _missing_store(parsed: URL) -> UserError:
    database = parsed.database or ""
    if database in ("", ":memory:") or parsed.query.get("mode") == "memory":
        return UserError(
            "an in-memory store is empty in every new process: give the file store that `sync` writes",
            where=redact_url(parsed),
        )
    return UserError(
        "no store at this path yet: run `onboard-sync sync` first, which creates it "
        "(or fix [onboard_sync] store if the path is mistyped)",
        where=str(Path(database).expanduser().resolve()),
    )


def _sqlite(parsed: URL, display: str, *, read_only: bool, busy_timeout_ms: int) -> Opened:
    database = parsed.database or ""
    memory = database in ("", ":memory:") or parsed.query.get("mode") == "memory"
    if database.startswith("file:"):
        raise UserError("SQLite URI filenames are not supported; give a plain path", where=display)
    path = None if memory else Path(database).expanduser().resolve()
    if memory or (read_only and path is not None and not path.exists()):
        # fresh install (plan before the first sync) or an explicit memory store
        engine = sa.create_engine(
            "sqlite+pysqlite://",
            poolclass=StaticPool,
            connect_args={"check_same_thread": False},
        )
        configure_sqlite(engine, busy_timeout_ms, read_only=False)
        return Opened(engine, "sqlite", display, None, True, busy_timeout_ms)
    assert path is not None
    if read_only:
        uri = f"file:{quote(str(path))}?mode=ro"

        def creator() -> sqlite3.Connection:
            return sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)

        engine = sa.create_engine("sqlite+pysqlite://", creator=creator, poolclass=NullPool)
    else:
        if path.is_dir():
            raise UserError("the store path is a directory, not a database file", where=display)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"cannot create the store's folder: {exc.strerror}", where=display) from exc
        engine = sa.create_engine(
            sa.engine.URL.create("sqlite+pysqlite", database=str(path)),
            connect_args={"check_same_thread": False},
        )
    configure_sqlite(engine, busy_timeout_ms, read_only=read_only)
    return Opened(engine, "sqlite", display, path, False, busy_timeout_ms)


def configure_sqlite(engine: Engine, busy_timeout_ms: int, *, read_only: bool) -> None:
    """The connection settings and ``BEGIN`` handling of the module docstring, for the store's engine
    and the webhook inbox's (``store.inbox``)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see "begin" below)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        options = conn.get_execution_options()
        write = not read_only and options.get(WRITE_OPTION, False)
        if write and options.get(URGENT_OPTION, False):
            begin_immediate(conn, busy_timeout_ms)
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def begin_immediate(conn: sa.Connection, busy_timeout_ms: int) -> None:
    """``BEGIN IMMEDIATE`` (take the write lock), tried again every :data:`LOCK_POLL_SECONDS` while
    another connection holds it, for up to ``busy_timeout_ms``; then SQLAlchemy's "database is
    locked" error, as with SQLite's own busy handler.

    That handler sleeps longer and longer between tries (up to 100 ms), so a writer that waited
    for a lock held 130 ms got it only at 178 ms, and another writer's next transaction could take
    the lock in between: ``serve`` acknowledges a webhook only after its inbox commit (docs/webhooks.md;
    the inbox file's other writers are the workers completing events, ``store/inbox.py``). Only urgent
    writes (``URGENT_OPTION``: the receiver's inbox commit) poll; the others keep SQLite's handler, so
    while both wait the urgent one gets the lock first (when every writer polled, the worker won the
    lock between the receiver's group commits and the acks at ten concurrent senders got slower). The
    statements and the ``COMMIT`` keep the busy timeout."""
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    deadline = time.monotonic() + busy_timeout_ms / 1000
    dbapi.execute("PRAGMA busy_timeout = 0")
    try:
        while time.monotonic() < deadline:
            try:
                dbapi.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                    break  # not a lock: SQLAlchemy raises it (wrapped, as for any statement) below
            time.sleep(LOCK_POLL_SECONDS)
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # the last try: raises SQLAlchemy's OperationalError if busy
    finally:
        dbapi.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")


def _postgres(parsed: URL, display: str, *, read_only: bool, connections: int | None = None) -> Opened:
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = 10
    try:
        pool: dict[str, int] = {} if connections is None else {"pool_size": connections, "max_overflow": 5}
        engine = sa.create_engine(parsed, pool_pre_ping=True, connect_args=connect_args, **pool)
    except ImportError as exc:  # the driver is an optional extra
        raise UserError(
            f"the PostgreSQL driver {exc.name or parsed.get_driver_name()!r} is not installed: "
            'pip install "onboard-sync[postgres]" (and use postgresql+psycopg://)',
            where=display,
        ) from exc
    if read_only:

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            finally:
                cursor.close()
            dbapi_connection.commit()

    return Opened(engine, "postgresql", display, None, False)

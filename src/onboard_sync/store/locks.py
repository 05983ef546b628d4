"""Run locks: two cron syncs must never overlap (``Store.run_lock``).

Acquisition never waits: if another holder has the lock, ``LockHeld`` is raised at once.
A holder that dies, even by SIGKILL, releases the lock with it:

* SQLite: an OS file lock (``filelock``: ``flock`` on POSIX) on ``<db>.<name>.lock`` next to
  the database file. The kernel drops the lock when the process's descriptors close. The
  small lock file itself stays; it holds no state and is reused.
* PostgreSQL: ``pg_try_advisory_lock`` on a dedicated connection (a session lock). The
  server drops it when that session ends, including when the client process is killed.
  The key is derived from the lock name and the current schema, so deployments sharing a
  server in different schemas do not block each other.
* In-memory SQLite: an in-process lock (nothing else can see the database anyway).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import filelock
import sqlalchemy as sa

from onboard_sync.errors import LockHeld

_memory_locks: dict[tuple[int, str], threading.Lock] = {}
_memory_guard = threading.Lock()


def lock_file_path(db_path: Path, name: str) -> Path:
    """Where the lock file for run lock ``name`` of the SQLite database ``db_path`` lives."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)
    return db_path.with_name(f"{db_path.name}.{safe}.lock")


def _held(name: str, where: str) -> LockHeld:
    return LockHeld(
        f"another onboard-sync process holds the {name!r} lock (is a sync already running?); try again later",
        where=where,
    )


@contextmanager
def file_lock(db_path: Path, name: str, where: str) -> Iterator[None]:
    """Hold an OS-level lock on a file next to the SQLite database, or raise LockHeld."""
    lock = filelock.FileLock(str(lock_file_path(db_path, name)), timeout=0, thread_local=False)
    try:
        lock.acquire(timeout=0, blocking=False)
    except filelock.Timeout:
        raise _held(name, where) from None
    try:
        yield
    finally:
        lock.release(force=True)


def advisory_key(name: str, schema: str) -> int:
    """A stable signed 64-bit advisory lock key for ``name`` within ``schema``."""
    digest = hashlib.blake2b(f"onboard-sync:{schema}:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def pg_advisory_lock(engine: sa.Engine, name: str, where: str) -> Iterator[None]:
    """Hold a session-level Postgres advisory lock on a dedicated connection, or raise LockHeld."""
    conn = engine.connect()
    try:
        with conn.begin():
            schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
            key = advisory_key(name, str(schema))
            got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar_one()
        if not got:
            raise _held(name, where)
        try:
            yield
        finally:
            try:
                with conn.begin():
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            except sa.exc.DBAPIError:
                conn.invalidate()  # closing the session releases the lock anyway
    finally:
        conn.close()


@contextmanager
def memory_lock(owner: object, name: str, where: str) -> Iterator[None]:
    """An in-process lock for an in-memory store."""
    with _memory_guard:
        lock = _memory_locks.setdefault((id(owner), name), threading.Lock())
    if not lock.acquire(blocking=False):
        raise _held(name, where)
    try:
        yield
    finally:
        lock.release()

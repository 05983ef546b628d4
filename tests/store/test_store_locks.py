"""The run lock: held by another process -> LockHeld at once; freed when the holder is SIGKILLed."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from onboard_sync.errors import LockHeld
from onboard_sync.store import ReadOnlyStoreError, Store
from onboard_sync.store.inbox import inbox_path

HOLDER = """
import sys, time
from onboard_sync.store import Store
store = Store.open(sys.argv[1])
with store.run_lock(sys.argv[2]):
    print("locked", flush=True)
    time.sleep(120)
"""


@contextmanager
def holder(url: str, name: str = "sync") -> Iterator[subprocess.Popen[str]]:
    """A child process that holds run lock ``name`` until it is killed."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url, name],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if line.strip() != "locked":
            proc.kill()
            raise AssertionError(f"lock holder failed to start: {line!r} {proc.stderr.read()}")  # type: ignore[union-attr]
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def acquire_within(store: Store, seconds: float, name: str = "sync") -> float:
    """Take and release the lock, retrying until ``seconds`` pass; return how long it took."""
    start = time.monotonic()
    while True:
        try:
            with store.run_lock(name):
                return time.monotonic() - start
        except LockHeld:
            if time.monotonic() - start > seconds:
                raise
            time.sleep(0.05)


def test_lock_held_by_another_process_raises_at_once(store: Store, store_url: str) -> None:
    with holder(store_url):
        start = time.monotonic()
        with (
            pytest.raises(LockHeld, match="another onboard-sync process holds the 'sync' lock"),
            store.run_lock("sync"),
        ):
            pass  # pragma: no cover
        assert time.monotonic() - start < 2  # no waiting
        with store.run_lock("other-name"):  # names are independent
            pass


def test_lock_is_freed_when_the_holder_is_killed(store: Store, store_url: str) -> None:
    with holder(store_url) as proc:
        with pytest.raises(LockHeld), store.run_lock():
            pass  # pragma: no cover
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL
        took = acquire_within(store, seconds=10)
    assert took < 10


def test_lock_is_exclusive_within_one_process_and_reusable(store_url: str) -> None:
    with Store.open(store_url) as a, Store.open(store_url) as b:
        with a.run_lock(), pytest.raises(LockHeld), b.run_lock():
            pass  # pragma: no cover
        with b.run_lock():  # released on exit
            pass
        with a.run_lock():
            pass


def test_read_only_store_has_no_run_lock(store_url: str) -> None:
    Store.open(store_url).close()
    with Store.open(store_url, read_only=True) as ro, pytest.raises(ReadOnlyStoreError), ro.run_lock():
        pass  # pragma: no cover


def test_a_second_writer_waits_for_the_first_instead_of_failing(store_url: str) -> None:
    """SQLite: BEGIN IMMEDIATE + busy_timeout queue writers; Postgres: row locks do the same."""
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    with Store.open(store_url) as a, Store.open(store_url) as b:
        started = threading.Event()

        def slow_batch() -> None:
            with a.transaction():
                a.set_cursor("hs", "deals", t0)
                started.set()
                time.sleep(0.5)

        worker = threading.Thread(target=slow_batch)
        worker.start()
        assert started.wait(5)
        begun = time.monotonic()
        b.set_cursor("hs", "deals", t0.replace(hour=1))  # blocks until a commits
        waited = time.monotonic() - begun
        worker.join()
        assert waited > 0.2
        assert a.get_cursor("hs", "deals") == t0.replace(hour=1)


def test_a_sqlite_inbox_write_gives_up_after_its_busy_timeout_and_then_writes_once_the_lock_is_free(
    tmp_path: Path,
) -> None:
    """The inbox file's write lock is tried again every millisecond (not SQLite's growing sleeps) up
    to the busy timeout; past it the write fails with SQLite's own "database is locked"."""
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'state.db'}"
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    delivery = [("hubspot", [("event-1", b"{}")], t0)]
    with Store.open(url, busy_timeout_ms=200) as store:
        store.open_inbox()
        with contextlib.closing(sqlite3.connect(inbox_path(tmp_path / "state.db"), isolation_level=None)) as other:
            other.execute("BEGIN IMMEDIATE")
            begun = time.monotonic()
            with pytest.raises(sa.exc.OperationalError, match="database is locked"):
                store.inbox_add_deliveries(delivery)
            assert time.monotonic() - begun >= 0.2
            other.execute("ROLLBACK")
        assert store.inbox_add_deliveries(delivery) == [1]
        assert [e.event_id for e in store.inbox_pending()] == ["event-1"]

"""The webhook inbox of a SQLite store lives in a WAL file of its own (``store/inbox.py``): the store's
write lock and readers do not hold up its commits, events an older onboard-sync left in the store's
``webhook_inbox`` table are moved into it once, and a file from a newer onboard-sync is refused."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from onboard_sync.errors import UserError
from onboard_sync.store import Store
from onboard_sync.store import schema as t
from onboard_sync.store.inbox import INBOX_FORMAT, inbox_path

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_the_inbox_file_sits_beside_the_store() -> None:
    assert inbox_path(Path("/srv/onboard-sync.db")) == Path("/srv/onboard-sync.inbox.db")
    assert inbox_path(Path("/srv/state")) == Path("/srv/state.inbox.db")


def test_the_inbox_file_is_in_wal_mode_and_the_store_is_not(tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'state.db'}") as store:
        store.inbox_add("hubspot", "e1", b"{}", T0)
        with contextlib.closing(sqlite3.connect(tmp_path / "state.inbox.db")) as inbox:
            assert inbox.execute("PRAGMA journal_mode").fetchone() == ("wal",)
            assert inbox.execute("PRAGMA user_version").fetchone() == (INBOX_FORMAT,)
        with contextlib.closing(sqlite3.connect(tmp_path / "state.db")) as main:
            assert main.execute("PRAGMA journal_mode").fetchone() == ("delete",)
            assert main.execute("SELECT count(*) FROM webhook_inbox").fetchone() == (0,)


def test_an_inbox_commit_waits_neither_for_the_store_write_lock_nor_for_readers(tmp_path: Path) -> None:
    """The store's write lock held (a worker's transaction) and a read transaction open on the inbox
    (a worker's claim): the receiver's commit goes through at once, with a 5 s busy timeout."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    with Store.open(url) as worker, Store.open(url, busy_timeout_ms=5_000) as receiver:
        receiver.inbox_add("hubspot", "e0", b"{}", T0)
        with worker.transaction(), contextlib.closing(sqlite3.connect(inbox_path(tmp_path / "state.db"))) as reader:
            worker.set_cursor("hubspot", "deals", T0)  # holds the store's write lock
            reader.execute("BEGIN")
            assert reader.execute("SELECT count(*) FROM webhook_inbox").fetchone() == (1,)  # a read snapshot
            begun = time.monotonic()
            assert receiver.inbox_add_deliveries([("hubspot", [("e1", b"{}"), ("e2", b"{}")], T0)]) == [2]
            assert time.monotonic() - begun < 1.0
            reader.execute("ROLLBACK")
        assert [e.event_id for e in receiver.inbox_pending()] == ["e0", "e1", "e2"]


def _legacy_rows(path: Path, rows: list[tuple[str, str, datetime | None]]) -> None:
    """Rows in the store's own ``webhook_inbox`` table, as an onboard-sync before the inbox file wrote them."""
    with Store.open(f"sqlite:///{path}") as store, store._write() as conn:
        conn.execute(
            sa.insert(t.webhook_inbox),
            [
                {"source": source, "event_id": event_id, "payload": b"{}", "received_at": T0, "processed_at": done}
                for source, event_id, done in rows
            ],
        )


def test_events_left_in_the_store_table_are_moved_into_the_inbox_file_once(tmp_path: Path) -> None:
    """An upgrade: the pending event is still processed, the processed one stays processed and its
    redelivery is a duplicate, and nothing is left behind in the store's table."""
    path = tmp_path / "state.db"
    _legacy_rows(path, [("hubspot", "old-done", T0), ("hubspot", "old-pending", None)])
    assert not inbox_path(path).exists()  # written the old way: no inbox file yet

    with Store.open(f"sqlite:///{path}") as store:
        store.open_inbox()
        assert [(e.event_id, e.processed_at) for e in store.inbox_pending()] == [("old-pending", None)]
        assert store.inbox_add("hubspot", "old-done", b"{}", T0) is False, "a redelivery stays a no-op"
        assert store.inbox_add("hubspot", "new", b"{}", T0) is True
    with contextlib.closing(sqlite3.connect(path)) as main:
        assert main.execute("SELECT count(*) FROM webhook_inbox").fetchone() == (0,)
    with contextlib.closing(sqlite3.connect(inbox_path(path))) as inbox:
        assert inbox.execute("SELECT count(*), count(processed_at) FROM webhook_inbox").fetchone() == (3, 1)


def test_a_move_cut_short_after_the_copy_is_finished_without_duplicates(tmp_path: Path) -> None:
    """A crash between copying rows into the inbox file and deleting them from the store: the next
    open copies them again, which the unique key ignores, and then deletes them."""
    path = tmp_path / "state.db"
    with Store.open(f"sqlite:///{path}") as store:
        store.inbox_add("hubspot", "e1", b"{}", T0)  # already in the inbox file
    _legacy_rows(path, [("hubspot", "e1", None), ("hubspot", "e2", None)])  # and still in the store

    with Store.open(f"sqlite:///{path}") as store:
        assert [e.event_id for e in store.inbox_pending()] == ["e1", "e2"]
    with contextlib.closing(sqlite3.connect(path)) as main:
        assert main.execute("SELECT count(*) FROM webhook_inbox").fetchone() == (0,)


def test_a_read_only_open_without_an_inbox_file_reads_the_store_table_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    _legacy_rows(path, [("hubspot", "old-pending", None)])
    assert not inbox_path(path).exists()
    with Store.open(f"sqlite:///{path}", read_only=True) as store:
        assert [e.event_id for e in store.inbox_pending()] == ["old-pending"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.db"]


def test_an_inbox_file_from_a_newer_onboard_sync_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    Store.open(f"sqlite:///{path}").close()
    with contextlib.closing(sqlite3.connect(inbox_path(path))) as inbox:
        inbox.execute(f"PRAGMA user_version = {INBOX_FORMAT + 1}")
    with Store.open(f"sqlite:///{path}") as store, pytest.raises(UserError, match="newer onboard-sync") as info:
        store.inbox_pending()
    assert str(inbox_path(path)) in str(info.value)


def test_an_in_memory_store_keeps_its_inbox_in_its_own_table() -> None:
    with Store.open("sqlite://") as store:
        assert store.inbox_add_many("hubspot", [("e1", b"{}"), ("e1", b"{}")], T0) == 1
        with store._read() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(t.webhook_inbox)).scalar_one() == 1


def test_completing_events_copies_the_wal_back_into_the_inbox_file(tmp_path: Path) -> None:
    """The receiver's commits only append to the WAL (its checkpoint threshold is a safety net); the
    worker's ``inbox_mark_processed`` copies the WAL back, so no sender waits for that copy."""
    inbox_file = inbox_path(tmp_path / "state.db")
    with Store.open(f"sqlite:///{tmp_path / 'state.db'}") as store:
        store.inbox_add_many("hubspot", [(f"e{i}", b"x" * 2_000) for i in range(200)], T0)
        before = inbox_file.stat().st_size
        assert before < 100_000, "the events are still in the WAL only"
        store.inbox_mark_processed([e.id for e in store.inbox_pending(10)])
        assert inbox_file.stat().st_size > 400_000
        assert len(store.inbox_pending(1_000)) == 190

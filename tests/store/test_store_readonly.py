"""``read_only=True`` (``onboard-sync plan``): the store stays byte-for-byte the same, no file appears."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from store_samples import deal, intent, onboarding

from onboard_sync.errors import UserError
from onboard_sync.onboarding.state import OnboardingStatus, Transition, TransitionCause
from onboard_sync.records import ObjectKind, Owner
from onboard_sync.store import AuditEntry, ReadOnlyStoreError, Store, TaskState

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def snapshot(folder: Path) -> dict[str, str]:
    """Every file in ``folder`` with the sha256 of its bytes."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def populate(url: str) -> None:
    with Store.open(url) as store:
        store.save_onboarding(onboarding("hs:42"))
        store.record_transition(
            Transition("hs:42", None, "handoff", None, OnboardingStatus.ACTIVE, TransitionCause.STARTED, T0)
        )
        store.put_deals([deal()])
        store.put_owners("hs", [Owner("hs", "o1", None, "Ann")])
        store.record_task_intents([intent("hs:42:a:0"), intent("hs:42:b:0")])
        store.mark_tasks_created("hs", {"hs:42:a:0": "T-1"})
        store.record_written_fields("hs:42", ObjectKind.DEAL, "42", {"onb_phase": "handoff"})
        store.set_cursor("hs", "deals", T0)
        run = store.start_run("sync", T0)
        store.record_audit([AuditEntry(run, T0, "hs", "create_task", ObjectKind.TASK, "T-1", None, None, {}, "ok")])
        store.finish_run(run, T0 + timedelta(seconds=1), True, {"created": 1})
        store.inbox_add("hs", "e1", b"{}", T0)


def read_everything(store: Store) -> None:
    assert store.get_onboarding("hs:42") == onboarding("hs:42")
    assert len(store.onboardings(source="hs", statuses=[OnboardingStatus.AT_RISK])) == 1
    assert len(store.transitions("hs:42")) == 1
    assert store.get_deal("hs", "42") == deal()
    assert list(store.owners("hs")) == ["o1"]
    assert store.owned_tasks_for("hs")["hs:42:a:0"].state is TaskState.CREATED
    assert [t.key for t in store.pending_tasks("hs")] == ["hs:42:b:0"]
    assert store.written_fields_for("hs")["hs:42"] == {(ObjectKind.DEAL, "42", "onb_phase"): "handoff"}
    assert store.get_cursor("hs", "deals") == T0
    assert store.runs()[0].ok is True
    assert len(store.audit()) == 1
    assert len(store.inbox_pending(10)) == 1
    with store.transaction():  # a read transaction is fine
        assert store.get_deals("hs", ["42"])


def try_every_mutation(store: Store) -> None:
    mutations = [
        lambda: store.save_onboarding(onboarding("hs:43")),
        lambda: store.put_deals([deal("43")]),
        lambda: store.put_owners("hs", []),
        lambda: store.record_task_intents([intent("hs:42:c:0")]),
        lambda: store.mark_tasks_created("hs", {"hs:42:b:0": "T-2"}),
        lambda: store.mark_tasks_pending("hs", ["hs:42:b:0"]),
        lambda: store.update_task_status("hs", []),
        lambda: store.record_written_fields("hs:42", ObjectKind.DEAL, "42", {"x": "y"}),
        lambda: store.set_cursor("hs", "deals", T0 + timedelta(days=1)),
        lambda: store.start_run("sync", T0),
        lambda: store.inbox_add("hs", "e2", b"{}", T0),
        lambda: store.inbox_mark_processed([1]),
    ]
    for mutate in mutations:
        with pytest.raises(ReadOnlyStoreError, match="opened read-only"):
            mutate()


def store_files(folder: Path) -> dict[str, str]:
    """``snapshot`` of the store's own files: the webhook inbox file (``state.inbox.db``) and its
    WAL side files are left out, a read-only reader of the inbox may create the latter."""
    return {name: digest for name, digest in snapshot(folder).items() if not name.startswith("state.inbox.db")}


def test_read_only_open_leaves_the_file_byte_identical(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    populate(url)
    before = snapshot(tmp_path)
    assert list(before) == ["state.db", "state.inbox.db"]
    with Store.open(url, read_only=True) as store:
        assert store.read_only
        read_everything(store)
        try_every_mutation(store)
        assert store_files(tmp_path) == {"state.db": before["state.db"]}  # not even a journal while open
    assert store_files(tmp_path) == {"state.db": before["state.db"]}
    assert snapshot(tmp_path)["state.inbox.db"] == before["state.inbox.db"]


def test_read_only_on_a_missing_file_is_an_empty_store_and_creates_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sub' / 'state.db'}"
    with Store.open(url, read_only=True) as store:
        assert store.onboardings() == []
        assert store.owned_tasks_for("hs") == {}
        assert store.get_cursor("hs", "deals") is None
        assert store.schema_revision == Store.head_revision()
        try_every_mutation(store)
    assert list(tmp_path.iterdir()) == []


def test_writable_reopen_of_a_migrated_store_does_not_touch_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    populate(url)
    before = snapshot(tmp_path)
    with Store.open(url) as store:
        read_everything(store)
    assert snapshot(tmp_path) == before


def test_read_only_refuses_a_schema_behind_head(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE something (a INTEGER)")
    conn.close()
    before = snapshot(tmp_path)
    with pytest.raises(UserError, match=r"onboard-sync sync` or `onboard-sync store upgrade") as info:
        Store.open(f"sqlite:///{path}", read_only=True)
    assert str(path) in str(info.value)
    assert snapshot(tmp_path) == before


def test_a_schema_from_a_newer_onboard_sync_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    Store.open(url).close()
    with sqlite3.connect(tmp_path / "state.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'f00d'")
    conn.close()
    for read_only in (True, False):
        with pytest.raises(UserError, match="newer onboard-sync"):
            Store.open(url, read_only=read_only)


@pytest.mark.parametrize("read_only", [False, True])
def test_a_corrupt_file_is_a_user_error_naming_the_url(tmp_path: Path, read_only: bool) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"this is not a database, it is a shopping list\n" * 100)
    before = snapshot(tmp_path)
    with pytest.raises(UserError, match="cannot open the state store") as info:
        Store.open(f"sqlite:///{path}", read_only=read_only)
    assert info.value.where == f"sqlite:///{path}"
    assert snapshot(tmp_path) == before


def test_a_store_path_that_is_a_directory_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="directory"):
        Store.open(f"sqlite:///{tmp_path}")


@pytest.mark.postgres
def test_postgres_read_only(pg_schema_url) -> None:
    url = pg_schema_url()
    populate(url)
    with Store.open(url, read_only=True) as store:
        read_everything(store)
        try_every_mutation(store)
        with store._engine.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="read-only"):
            conn.execute(sa.text("DELETE FROM cursors"))  # the server refuses too
    with Store.open(url) as store:
        assert store.get_cursor("hs", "deals") == T0


@pytest.mark.postgres
def test_postgres_read_only_needs_a_migrated_schema(pg_schema_url) -> None:
    with pytest.raises(UserError, match=r"revision none .*`onboard-sync store upgrade`"):
        Store.open(pg_schema_url(), read_only=True)


def test_unreachable_postgres_is_a_user_error_without_the_password() -> None:
    url = "postgresql+psycopg://onb:s3cret-pw@127.0.0.1:1/onb?connect_timeout=2"
    with pytest.raises(UserError, match="cannot open the state store") as info:
        Store.open(url)
    assert "s3cret-pw" not in str(info.value)
    assert info.value.where == "postgresql+psycopg://onb:***@127.0.0.1:1/onb?connect_timeout=2"


def test_a_missing_store_read_from_two_threads_at_once_takes_turns(tmp_path: Path) -> None:
    """plan before the first sync reads an empty in-memory store from the ticket pull's thread
    and the deal pull's at once; they share its one connection, so they must take turns."""
    from concurrent.futures import ThreadPoolExecutor

    with Store.open(f"sqlite:///{tmp_path / 'never.db'}", read_only=True) as store:

        def read(_: int) -> None:
            for _ in range(300):
                assert store.get_cursor("hs", "tickets") is None
                assert store.owned_tasks_of(["hs:1", "hs:2"]) == {}

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(read, range(4)))
    assert not (tmp_path / "never.db").exists()

"""``onboard-sync store migrate --to URL``: a SQLite store copied into PostgreSQL loses nothing.

Every table is filled with rows that exercise each column type (aware datetimes with
microseconds, JSON documents, non-ASCII text, binary webhook payloads, booleans, NULLs),
copied from a real SQLite file into a fresh PostgreSQL schema, and read back equal. A
synced sandbox project moved the same way through the real CLI makes zero CRM writes on its
next sync against PostgreSQL, with the same task keys, and new rows get ids past the copied
ones. A target holding rows, or a source a sync is running on, is refused in one line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from onboard_sync.errors import UserError
from onboard_sync.store import Store, transfer
from onboard_sync.store.schema import JSONText, UTCDateTime, metadata

T0 = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
ROWS_PER_TABLE = 5

pytestmark = pytest.mark.postgres


def _value(column: sa.Column[Any], i: int) -> Any:
    if column.foreign_keys:  # audit.run_id → runs.id: the runs rows have ids 1..n
        return i + 1 if i % 2 == 0 else None
    kind = column.type
    if isinstance(kind, UTCDateTime):
        return T0 + timedelta(days=i, microseconds=i)
    if isinstance(kind, JSONText):
        return {"i": i, "text": "Zürich ✓", "list": [1.5, None, True]}
    if isinstance(kind, sa.Boolean):
        return i % 2 == 0
    if isinstance(kind, sa.Integer):
        return i + 1
    if isinstance(kind, sa.LargeBinary):
        return bytes(range(i, i + 40))
    if isinstance(kind, sa.String):  # sa.Text included; a VARCHAR's length is enforced by PostgreSQL
        return f"{column.name}-{i} Zürich ✓ {'x' * i}"[: kind.length]
    raise AssertionError(f"no sample value for {column.table.name}.{column.name} ({kind!r})")


def _fill(url: str) -> None:
    with Store.open(url):  # creates the SQLite file at the schema head
        pass
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for table in metadata.sorted_tables:
            rows = []
            for i in range(ROWS_PER_TABLE):
                row = {c.name: _value(c, i) for c in table.columns}
                nullable = [c.name for c in table.columns if c.nullable and not c.foreign_keys]
                if nullable and i == ROWS_PER_TABLE - 1:  # one row with every optional column empty
                    row.update(dict.fromkeys(nullable))
                rows.append(row)
            conn.execute(table.insert(), rows)
    engine.dispose()


def _every_row(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = {t.name: sorted(tuple(r) for r in conn.execute(sa.select(t))) for t in transfer.copied_tables()}
    engine.dispose()
    return rows


def test_every_table_and_column_is_copied_unchanged(tmp_path: Path, pg_schema_url: Callable[[], str]) -> None:
    source = f"sqlite:///{tmp_path / 'state.db'}"
    _fill(source)
    target = pg_schema_url()
    seen: dict[str, int] = {}

    def progress(table: str, copied: int, total: int | None) -> None:
        seen[table] = seen.get(table, 0) + copied
        if total is not None:
            assert total == ROWS_PER_TABLE

    result = transfer.copy_store(source, target, progress=progress)

    assert result.ok, result.as_dict()
    assert seen == dict.fromkeys((t.name for t in transfer.copied_tables()), ROWS_PER_TABLE)
    assert result.rows == ROWS_PER_TABLE * len(transfer.copied_tables())
    assert _every_row(target) == _every_row(source)
    engine = sa.create_engine(target)
    with engine.connect() as conn:  # heartbeats of processes that used the source stay behind
        assert conn.execute(sa.text("SELECT COUNT(*) FROM workers")).scalar_one() == 0
    engine.dispose()
    assert "workers" not in {t.table for t in result.tables}


def test_new_rows_on_the_target_get_ids_after_the_copied_ones(tmp_path: Path, pg_schema_url: Callable[[], str]) -> None:
    source = f"sqlite:///{tmp_path / 'state.db'}"
    _fill(source)
    target = pg_schema_url()
    transfer.copy_store(source, target)

    with Store.open(target) as store:
        run_id = store.start_run("sync", T0)
        added = store.inbox_add("hubspot", "evt-new", b"{}", T0)
        [pending] = [e for e in store.inbox_pending(limit=100) if e.event_id == "evt-new"]

    assert run_id == ROWS_PER_TABLE + 1
    assert added
    assert pending.id == ROWS_PER_TABLE + 1


def test_a_target_that_holds_rows_is_refused_in_one_line(tmp_path: Path, pg_schema_url: Callable[[], str]) -> None:
    source = f"sqlite:///{tmp_path / 'state.db'}"
    _fill(source)
    target = pg_schema_url()
    transfer.copy_store(source, target)
    project = _config(tmp_path)

    again = _cli("store", "migrate", "--to", target, "--config", str(project), env={"ONBOARD_SYNC_STORE": source})

    assert again.returncode == 2, again.stderr
    assert again.stdout == ""
    [line] = again.stderr.splitlines()
    assert line.startswith("error: postgresql+psycopg://")
    assert f"and {len(transfer.copied_tables()) - 3} more table(s) hold rows" in line
    assert "migrate into a new, empty database or schema" in line


def test_a_source_in_use_by_a_sync_is_refused_and_the_target_untouched(
    tmp_path: Path, pg_schema_url: Callable[[], str]
) -> None:
    source = f"sqlite:///{tmp_path / 'state.db'}"
    _fill(source)
    target = pg_schema_url()

    with Store.open(source) as store, store.run_lock("sync"), pytest.raises(UserError, match="holds the"):
        transfer.copy_store(source, target)

    engine = sa.create_engine(target)
    assert sa.inspect(engine).get_table_names() == []  # refused before the target was even migrated
    engine.dispose()


def test_a_source_a_worker_is_using_is_refused(tmp_path: Path, pg_schema_url: Callable[[], str]) -> None:
    source = f"sqlite:///{tmp_path / 'state.db'}"
    _fill(source)  # its heartbeat rows are from 2026-03: long dead
    transfer.copy_store(source, pg_schema_url())
    with Store.open(source) as store:
        now = datetime.now(UTC)
        store.beat_worker("host-a-77-abcdef", "host-a", 77, now - timedelta(minutes=5), now)

    with pytest.raises(UserError, match=r"1 onboard-sync worker\(s\) use this store \(host-a-77-abcdef on host-a\)"):
        transfer.copy_store(source, pg_schema_url())


def test_a_copy_that_reads_back_different_is_reported_and_exits_1(
    tmp_path: Path, pg_schema_url: Callable[[], str]
) -> None:
    source = f"sqlite:///{tmp_path / 'state.db'}"
    _fill(source)
    target = pg_schema_url()
    engine = sa.create_engine(target)
    real_count_rows = transfer.count_rows

    def one_task_lost(engine_: sa.Engine) -> dict[str, int]:  # as if a row went missing on the way
        with engine_.begin() as conn:
            conn.execute(sa.text("DELETE FROM owned_tasks WHERE key = (SELECT MIN(key) FROM owned_tasks)"))
        return real_count_rows(engine_)

    patched = pytest.MonkeyPatch()
    patched.setattr(transfer, "count_rows", one_task_lost)
    try:
        result = transfer.copy_store(source, target)
    finally:
        patched.undo()
    engine.dispose()

    assert not result.ok
    assert not result.task_keys_ok
    assert [t.table for t in result.tables if not t.ok] == ["owned_tasks"]


def test_a_synced_project_moved_to_postgres_syncs_with_zero_writes(
    sandbox_project: Any, pg_schema_url: Callable[[], str]
) -> None:
    sandbox_project.setup_crm()
    first = sandbox_project.sync()
    assert first.totals()["created"] > 0
    with sandbox_project.store() as store:
        keys_before = {k: (t.remote_id, t.state) for k, t in store.owned_tasks_for("hubspot").items()}
        runs_before = len(store.runs(limit=1000))
    target = pg_schema_url()

    moved = _cli(
        "store", "migrate", "--json", "--config", str(sandbox_project.config_path), env={transfer_env(): target}
    )

    assert moved.returncode == 0, moved.stderr
    assert f"copying owned_tasks: {len(keys_before):,} row(s)" in moved.stderr.splitlines(), "progress off a terminal"
    report = json.loads(moved.stdout)
    assert report["ok"] is True
    assert report["task_keys_ok"] is True
    by_table = {t["table"]: t for t in report["tables"]}
    assert by_table["owned_tasks"]["target_rows"] == len(keys_before)

    sandbox_project.monkeypatch.setenv("ONBOARD_SYNC_STORE", target)
    sandbox_project.sandbox.requests.clear()
    again = sandbox_project.sync()

    assert again.ok
    assert again.totals() == {"created": 0, "updated": 0, "failed": 0}
    assert sandbox_project.sandbox.requests.writes() == []
    with Store.open(target) as store:
        assert {k: (t.remote_id, t.state) for k, t in store.owned_tasks_for("hubspot").items()} == keys_before
        assert len(store.runs(limit=1000)) == runs_before + 1


def transfer_env() -> str:
    from onboard_sync.cli.store import TARGET_ENV

    return TARGET_ENV


def _config(folder: Path) -> Path:
    """A config folder (the demo's) whose store the test names with ONBOARD_SYNC_STORE."""
    from onboard_sync.cli.demo import write_demo_config

    write_demo_config(folder, "http://127.0.0.1:9")
    return folder / "config.toml"


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "onboard_sync.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
        check=False,
    )


def test_a_postgres_store_copies_back_into_sqlite(tmp_path: Path, pg_schema_url: Callable[[], str]) -> None:
    source = f"sqlite:///{tmp_path / 'state.db'}"
    _fill(source)
    middle = pg_schema_url()
    transfer.copy_store(source, middle)
    back = f"sqlite:///{tmp_path / 'back.db'}"

    result = transfer.copy_store(middle, back)

    assert result.ok, result.as_dict()
    assert _every_row(back) == _every_row(source)


def test_the_events_of_a_sqlite_inbox_file_are_copied_each_once(
    tmp_path: Path, pg_schema_url: Callable[[], str]
) -> None:
    """A SQLite store's inbox is its own file (``store/inbox.py``), plus what an older onboard-sync
    left in the store's table (here one event in both, as after a move cut short): all copied, once."""
    source = f"sqlite:///{tmp_path / 'state.db'}"
    _fill(source)  # five events in the store's table, none in an inbox file
    with Store.open(source) as store:
        store.open_inbox()  # moves them into the inbox file
        store.inbox_add_many("hubspot", [("evt-new", b"{}"), ("evt-done", b"{}")], T0)
        store.inbox_mark_processed([e.id for e in store.inbox_pending(100) if e.event_id == "evt-done"])
    engine = sa.create_engine(source)
    with engine.begin() as conn:  # the move cut short: one event still in the store's table too
        conn.execute(
            sa.text(
                "INSERT INTO webhook_inbox (source, event_id, received_at, payload) VALUES "
                "('hubspot', 'evt-new', '2026-03-01 09:30:15', x'7b7d')"
            )
        )
    engine.dispose()
    target = pg_schema_url()

    result = transfer.copy_store(source, target)

    assert result.ok, result.as_dict()
    [inbox] = [t for t in result.tables if t.table == "webhook_inbox"]
    assert (inbox.source_rows, inbox.target_rows) == (ROWS_PER_TABLE + 2, ROWS_PER_TABLE + 2)
    with Store.open(target) as store:
        pending = store.inbox_pending(100)
        assert sorted(e.event_id for e in pending).count("evt-new") == 1
        assert len(pending) == 2  # the fill's one unprocessed row and evt-new
        assert store.inbox_add("hubspot", "evt-newer", b"{}", T0)


def test_a_sqlite_target_whose_inbox_file_holds_events_is_refused(tmp_path: Path) -> None:
    source = f"sqlite:///{tmp_path / 'state.db'}"
    _fill(source)
    target = f"sqlite:///{tmp_path / 'target.db'}"
    with Store.open(target) as store:
        store.inbox_add("hubspot", "evt-1", b"{}", T0)

    with pytest.raises(UserError, match=r"the target store is not empty \(webhook_inbox hold rows\)"):
        transfer.copy_store(source, target)

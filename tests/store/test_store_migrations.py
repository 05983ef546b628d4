"""Migrations: an empty database migrates to head, matches ``schema.metadata``, and reopening is a no-op."""

from __future__ import annotations

import hashlib
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from onboard_sync.store import Store
from onboard_sync.store.migrate import alembic_config, current_revision, head_revision
from onboard_sync.store.schema import metadata

TABLES = {
    "account_links",
    "alert_episodes",
    "alembic_version",
    "audit",
    "cursors",
    "facts",
    "health_history",
    "onboardings",
    "owned_tasks",
    "owners",
    "runs",
    "tickets",
    "transitions",
    "webhook_inbox",
    "written_fields",
}


def _engine(url: str) -> sa.Engine:
    return sa.create_engine(url, poolclass=sa.pool.NullPool)


def test_empty_database_migrates_to_head_matching_the_schema(store_url: str) -> None:
    with Store.open(store_url) as store:
        assert store.schema_revision == head_revision() == Store.head_revision()
    engine = _engine(store_url)
    try:
        with engine.connect() as conn:
            assert set(sa.inspect(conn).get_table_names()) == TABLES
            assert current_revision(conn) == head_revision()
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
            assert diff == []
    finally:
        engine.dispose()


def test_open_on_a_migrated_database_is_a_no_op(store_url: str) -> None:
    with Store.open(store_url) as store:
        store.set_cursor("hs", "deals", store._now())
    assert Store.migrate(store_url) == (head_revision(), head_revision())
    with Store.open(store_url) as again:
        assert again.schema_revision == head_revision()
        assert again.get_cursor("hs", "deals") is not None


def test_sqlite_reopen_leaves_the_file_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    Store.open(f"sqlite:///{path}").close()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    Store.open(f"sqlite:///{path}").close()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.db"]


def test_migrate_from_empty_reports_before_and_after(store_url: str) -> None:
    assert Store.migrate(store_url) == (None, head_revision())


def test_downgrade_to_base_and_back(store_url: str) -> None:
    Store.open(store_url).close()
    engine = _engine(store_url)
    try:
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "base")
        with engine.connect() as conn:
            assert set(sa.inspect(conn).get_table_names()) <= {"alembic_version"}
            assert current_revision(conn) is None
    finally:
        engine.dispose()
    with Store.open(store_url) as store:
        assert store.schema_revision == head_revision()


def test_head_and_current_revision_read_without_alembic_agree_with_alembic(store_url: str) -> None:
    """``status`` recognises a store at head without importing alembic: the revision files' own lines
    and the version table must give alembic's answers (a new revision file is found the same way)."""
    from alembic.script import ScriptDirectory

    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()
    engine = _engine(store_url)
    try:
        with engine.connect() as conn:
            assert current_revision(conn) is None is MigrationContext.configure(conn).get_current_revision()
        Store.open(store_url).close()
        with engine.connect() as conn:
            assert current_revision(conn) == MigrationContext.configure(conn).get_current_revision() == head_revision()
    finally:
        engine.dispose()

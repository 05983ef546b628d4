"""``SqliteReader`` (``status``'s table without SQLAlchemy) answers exactly as ``Store`` does, reads
the tables and columns ``schema.py`` defines, and hands every other store back to ``Store``."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from store_samples import T0, deal, intent, onboarding

from onboard_sync.records import Account, Owner, TaskStatus
from onboard_sync.store import Store, schema
from onboard_sync.store.schema import UTCDateTime
from onboard_sync.store.sqlite_reader import IN_CHUNK, UTC_COLUMNS, SqliteReader, plain_file


def populate(url: str) -> None:
    """Two sources; tasks created, completed, skipped with a note and pending; more deals than one
    ``IN (...)`` takes; an account and owners."""
    with Store.open(url) as store:
        store.save_onboardings([onboarding("hs:42"), onboarding("hs:7", phase="training"), onboarding("sf:9")])
        store.put_deals([deal("42"), deal("7", name="Zed")] + [deal(str(n)) for n in range(1000, 1000 + IN_CHUNK)])
        store.put_deals([deal("9", source="sf")])
        store.put_accounts([Account("hs", "acc-1", T0, "Acme Inc", "acme.test", "o1", {"tier": "gold"})])
        store.put_owners("hs", [Owner("hs", "o2", "b@x.test", "Bea", False), Owner("hs", "o1", None, "Ann")])
        store.record_task_intents([intent("hs:42:a:0"), intent("hs:42:b:0"), intent("hs:7:c:1", oid="hs:7")])
        store.mark_tasks_created("hs", {"hs:42:a:0": "T-1", "hs:7:c:1": "T-3"})
        store.close_open_tasks("hs", ["hs:42:a:0"], TaskStatus.COMPLETED, T0 + timedelta(days=2))
        skipped = intent("hs:42:s:0")
        store.record_skipped_tasks([type(skipped)(**{**_fields(skipped), "note": "phase ended before"})])


def _fields(task: object) -> dict[str, object]:
    return {name: getattr(task, name) for name in task.__slots__}  # type: ignore[attr-defined]


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    populate(url)
    return url


def test_every_answer_is_the_stores(url: str) -> None:
    wanted = ["42", "7", "missing", *(str(n) for n in range(1000, 1000 + IN_CHUNK))]
    reader = SqliteReader.open(url)
    assert reader is not None
    with reader, Store.open(url, read_only=True) as store:
        assert reader.onboardings() == store.onboardings()
        assert reader.onboardings(source="hs") == store.onboardings(source="hs")
        for source in ("hs", "sf", "none"):
            assert reader.owned_tasks_for(source) == store.owned_tasks_for(source)
            assert reader.get_deals(source, wanted) == store.get_deals(source, wanted)
            assert reader.get_accounts(source, ["acc-1", "x"]) == store.get_accounts(source, ["acc-1", "x"])
            assert reader.owners(source) == store.owners(source)
        deals = reader.get_deals("hs", wanted)
        tasks = reader.owned_tasks_for("hs")
        owners = reader.owners("hs")

    assert len(deals) == IN_CHUNK + 2, "the deals span two IN (...) queries"
    assert deals["7"].name == "Zed"
    assert tasks["hs:42:a:0"].completed_at == T0 + timedelta(days=2)
    assert tasks["hs:42:b:0"].due_at == T0 + timedelta(days=3)
    assert tasks["hs:42:s:0"].note == "phase ended before"
    assert list(owners) == ["o1", "o2"]
    assert owners["o2"].active is False


def test_the_reader_names_what_schema_py_defines() -> None:
    """One definition of the tables: the columns the reader's queries name exist, the JSON documents
    it decodes are plain text, and its timestamp columns are exactly the tables' ``UTCDateTime`` ones."""
    tables = schema.metadata.tables
    named = {
        "onboardings": {"data", "source", "id"},
        "owned_tasks": {"source"},
        "facts": {"data", "source", "kind", "id"},
        "owners": {"source", "id"},
    }
    for table, columns in named.items():
        assert columns <= set(tables[table].c.keys()), table
    for table in ("onboardings", "facts"):
        assert type(tables[table].c.data.type) is sa.Text, "codec JSON, read verbatim"
    for table in ("owned_tasks", "owners"):  # read whole (SELECT *)
        stamps = {c.name for c in tables[table].c if isinstance(c.type, UTCDateTime)}
        assert stamps == set(UTC_COLUMNS.get(table, ())), table


def test_other_stores_are_left_to_store(tmp_path: Path, url: str) -> None:
    assert SqliteReader.open(f"sqlite:///{tmp_path / 'missing.db'}") is None
    assert SqliteReader.open("sqlite://") is None
    assert SqliteReader.open("sqlite:///:memory:") is None
    assert SqliteReader.open("postgresql+psycopg://u:secret@127.0.0.1:1/db") is None
    assert SqliteReader.open(f"sqlite:///{tmp_path / 'state.db'}?timeout=5") is None
    (tmp_path / "junk.db").write_bytes(b"not a database at all, just bytes" * 100)
    assert SqliteReader.open(f"sqlite:///{tmp_path / 'junk.db'}") is None
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    assert SqliteReader.open(f"sqlite:///{empty}") is None, "never migrated"
    path = plain_file(url)
    assert path is not None
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0001_initial'")
    assert SqliteReader.open(url) is None, "an older schema: Store says to upgrade it"

"""SQLite bulk inserts go to the driver directly (``StoreBase._execute_rows``): they must store exactly
the bytes SQLAlchemy's own executemany stores, for every column type the store uses."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from store_samples import onboarding

from onboard_sync.records import Deal, ObjectKind, TaskStatus, Ticket
from onboard_sync.store import AuditEntry, OwnedTask, Store, TaskState
from onboard_sync.store.base import StoreBase
from onboard_sync.store.health import HealthRecord

T0 = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


def _fill(store: Store) -> None:
    deals = [
        Deal(
            source="hs",
            id=str(i),
            updated_at=T0 + timedelta(minutes=i),
            name=f"Customer {i} — ünïcode",
            stage="closedwon",
            is_won=True,
            is_closed=True,
            amount=None if i % 3 else 1234.5 * i,
            close_date=T0 if i % 2 else None,
            owner_id=None,
            account_ids=[f"a{i}"],
            contact_ids=[],
            properties={"x": None, "y": str(i)},
        )
        for i in range(30)
    ]
    store.put_deals(deals)
    store.save_onboardings([onboarding(f"hs:{i}", deal_id=str(i)) for i in range(30)])
    intents = [
        OwnedTask(
            key=f"hs:{i}:kickoff",
            onboarding_id=f"hs:{i}",
            source="hs",
            template_key="kickoff",
            phase="kickoff",
            episode=0,
            state=TaskState.PENDING,
            remote_id=None,
            status=TaskStatus.OPEN,
            subject="Kickoff",
            owner_id=None if i % 2 else "o1",
            due_at=T0 + timedelta(days=i) if i % 4 else None,
            completed_at=None,
            error=None,
            updated_at=T0,
        )
        for i in range(30)
    ]
    store.record_task_intents(intents)
    store.record_written_fields_many(
        (f"hs:{i}", ObjectKind.DEAL, str(i), {"onboarding_phase": "kickoff", "health": None}) for i in range(30)
    )
    store.put_tickets(
        [Ticket("zd", f"Z-{i}", T0, "Help", "open", None if i % 2 else "urgent", T0, f"a{i}", None) for i in range(5)]
    )
    store.record_health(
        [
            HealthRecord(f"hs:{i}", "2026-03-01", 80, "healthy", ("ok",), ({"name": "x", "ok": True},), T0)
            for i in range(5)
        ]
    )
    store.record_audit([AuditEntry(None, T0, "hs", "create_task", ObjectKind.TASK, "T-1", "k", None, {"a": [1]}, "ok")])


def _dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {t: sorted(db.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}


def test_driver_rows_store_what_sqlalchemy_stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    taken: list[bool] = []
    original = StoreBase._driver_insert

    def spy(*args: Any) -> Any:
        result = original(*args)
        taken.append(result is not None)
        return result

    monkeypatch.setattr(StoreBase, "_driver_insert", staticmethod(spy))
    clock = lambda: T0  # noqa: E731 - both stores must stamp the same instants
    with Store.open(f"sqlite:///{tmp_path / 'fast.db'}", clock=clock) as store:
        _fill(store)
    assert taken
    assert all(taken), "the SQLite inserts should take the driver path"

    monkeypatch.setattr(StoreBase, "_driver_insert", staticmethod(lambda *args: None))
    with Store.open(f"sqlite:///{tmp_path / 'generic.db'}", clock=clock) as store:
        _fill(store)

    fast, generic = _dump(tmp_path / "fast.db"), _dump(tmp_path / "generic.db")
    assert fast.keys() == generic.keys()
    for table in fast:
        assert fast[table] == generic[table], table
    assert any(fast[t] for t in fast if t != "alembic_version")

"""sync/staged_tickets.py: plan's in-memory helpdesk records read exactly as sync's stored ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from onboard_sync.records import Account, Ticket
from onboard_sync.store import Store
from onboard_sync.sync.staged_tickets import StagedTickets

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def ticket(tid: str, account: str | None, updated: datetime, status: str = "open") -> Ticket:
    return Ticket("zendesk", tid, updated, f"ticket {tid}", status, "urgent", T0, account)


def org(oid: str, updated: datetime, phase: str | None = None) -> Account:
    return Account("zendesk", oid, updated, f"Org {oid}", properties={"phase": phase})


def _cached(url: str) -> None:
    with Store.open(url) as store:
        store.put_tickets([ticket("1", "A", T0), ticket("2", "A", T0 + 2 * HOUR), ticket("3", "B", T0)])
        store.put_accounts([org("A", T0, "kickoff"), org("B", T0 + 2 * HOUR, "training")])


def _pull(staged: StagedTickets) -> None:
    staged.put_tickets(
        [
            ticket("1", "A", T0 + HOUR, status="solved"),  # newer: replaces
            ticket("2", "A", T0 + HOUR, status="solved"),  # older than the cached one: kept out
            ticket("3", "A", T0 + HOUR),  # moved from B to A
            ticket("4", "B", T0 + HOUR),  # new
        ]
    )
    staged.put_accounts([org("A", T0 + HOUR, "training"), org("B", T0 + HOUR, "kickoff"), org("C", T0 + HOUR)])


def _view(staged: StagedTickets) -> tuple[object, ...]:
    tickets = staged.tickets_for_accounts("zendesk", ["A", "B"])
    return (
        {account: [(t.id, t.status) for t in group] for account, group in sorted(tickets.items())},
        {i: a.properties.get("phase") for i, a in sorted(staged.all_accounts("zendesk").items())},
        sorted(staged.get_accounts("zendesk", ["A", "C"])),
    )


def test_plan_in_memory_sees_what_sync_stores(tmp_path: Path) -> None:
    memory_url, stored_url = f"sqlite:///{tmp_path / 'plan.db'}", f"sqlite:///{tmp_path / 'sync.db'}"
    _cached(memory_url)
    _cached(stored_url)
    with Store.open(memory_url, read_only=True) as store:
        in_memory = StagedTickets(store, in_memory=True)
        _pull(in_memory)
        planned = _view(in_memory)
    with Store.open(stored_url) as store:
        stored = StagedTickets(store, in_memory=False)
        _pull(stored)
        synced = _view(stored)
    assert planned == synced
    assert planned == (
        {"A": [("1", "solved"), ("2", "open"), ("3", "open")], "B": [("4", "open")]},
        {"A": "training", "B": "training", "C": None},
        ["A", "C"],
    )

"""Bulk paths at engine scale (10,000 deals): batched upserts and one-query reads.

Timings are printed (run with ``-s`` to see them); the bounds asserted are deliberately
loose (a slow CI box must pass) and only catch an accidental per-row round trip.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from store_samples import onboarding

from onboard_sync.records import Deal, ObjectKind, Task, TaskStatus
from onboard_sync.store import OwnedTask, Store, TaskState

N = 10_000
T0 = datetime(2026, 3, 1, tzinfo=UTC)
R = TypeVar("R")


def timed(label: str, timings: dict[str, float], fn: Callable[[], R]) -> R:
    start = time.perf_counter()
    result = fn()
    timings[label] = time.perf_counter() - start
    return result


def make_deals(n: int, version: int = 0) -> list[Deal]:
    return [
        Deal(
            source="hs",
            id=str(100_000 + i),
            updated_at=T0 + timedelta(seconds=i + version),
            name=f"Customer {i} — renewal",
            stage="closedwon",
            is_won=True,
            is_closed=True,
            amount=1000.0 + i,
            close_date=T0,
            owner_id=f"o{i % 50}",
            pipeline="default",
            account_ids=(f"a{i}",),
            contact_ids=(f"c{i}", f"c{i + 1}"),
            properties={f"prop_{k}": f"value {k} of deal {i} v{version}" for k in range(10)},
        )
        for i in range(n)
    ]


def test_ten_thousand_deals_and_tasks(backend: str, store: Store) -> None:
    timings: dict[str, float] = {}
    deals = make_deals(N)
    ids = [d.id for d in deals]
    timed("put_deals (insert)", timings, lambda: store.put_deals(deals))
    got = timed("get_deals (by id)", timings, lambda: store.get_deals("hs", ids))
    assert got == {d.id: d for d in deals}
    newer = make_deals(N, version=1)
    timed("put_deals (update)", timings, lambda: store.put_deals(newer))
    assert timed("all_deals", timings, lambda: store.all_deals("hs")) == {d.id: d for d in newer}

    intents = [
        OwnedTask(f"hs:{i}:kickoff:0", f"hs:{i}", "hs", "kickoff", "kickoff", 0, subject="Kickoff", due_at=T0)
        for i in ids
    ]
    timed("record_task_intents", timings, lambda: store.record_task_intents(intents))
    timed("record_task_intents (replay)", timings, lambda: store.record_task_intents(intents))
    created = {t.key: f"T{n}" for n, t in enumerate(intents)}
    timed("mark_tasks_created", timings, lambda: store.mark_tasks_created("hs", created))
    owned = timed("owned_tasks_for", timings, lambda: store.owned_tasks_for("hs"))
    assert len(owned) == N
    assert all(t.state is TaskState.CREATED for t in owned.values())
    reads = [
        Task("hs", f"T{n}", T0, "Kickoff", TaskStatus.COMPLETED if n % 2 else TaskStatus.OPEN, due_at=T0)
        for n in range(N)
    ]
    changed = timed("update_task_status", timings, lambda: store.update_task_status("hs", reads))
    assert changed == N // 2

    states = [onboarding(f"hs:{i}") for i in ids]
    timed("save_onboardings", timings, lambda: store.save_onboardings(states))
    assert len(timed("onboardings(source)", timings, lambda: store.onboardings(source="hs"))) == N
    fields = [(f"hs:{i}", ObjectKind.DEAL, i, {"onb_phase": "kickoff", "onb_health": "61"}) for i in ids]
    timed("record_written_fields_many", timings, lambda: store.record_written_fields_many(fields))
    written = timed("written_fields_for", timings, lambda: store.written_fields_for("hs"))
    assert len(written) == N

    print(f"\n[{backend}] {N:,} rows:")
    for label, seconds in timings.items():
        print(f"  {label:<30} {seconds * 1000:8.0f} ms")
    assert max(timings.values()) < 30

"""``plan`` after a crash left task creates of unknown outcome: it looks their keys up as sync does.

A sync dies between its task-create call and recording the answer (the tasks exist in the CRM,
their keys are PENDING in the store), or before the call went out (the keys are PENDING and the
CRM has none of them). The next ``plan`` looks the keys up too, read-only: it plans no create for
a task the CRM holds, plans the create again for one it does not, and the following ``sync``
makes exactly those writes. The HubSpot sandbox over real HTTP, one frozen clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from plan_sync_support import Book, by_write

from onboard_sync.cli.demo import TOKEN_ENV, write_demo_config
from onboard_sync.sandbox.clock import SandboxClock
from onboard_sync.sandbox.hubspot import HubSpotSandbox
from onboard_sync.store import TaskState
from onboard_sync.sync import apply as apply_module
from onboard_sync.sync.engine import Engine


class Killed(BaseException):
    """Stands in for SIGKILL: nothing after the crash point runs (not even ``except Exception``)."""


@pytest.fixture
def book(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Book]:
    clock = SandboxClock(frozen_at=datetime.now(UTC).replace(microsecond=0))
    with HubSpotSandbox(seed=1, deals=60, clock=clock) as hubspot:
        monkeypatch.setenv(TOKEN_ENV, hubspot.token)
        write_demo_config(tmp_path, hubspot.base_url)
        book = Book("demo", tmp_path, clock, "hubspot", hubspot)
        book.set_up()
        yield book


def _crash_first_sync_at(book: Book, point: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A first sync killed at crash point ``point``; returns the task keys it left PENDING."""

    def crash(name: str) -> None:
        if name == point:
            raise Killed(name)

    with monkeypatch.context() as patched:
        patched.setattr(apply_module, "crash_point", crash)
        with pytest.raises(Killed), book.store() as store:
            Engine(book.runtime(), store, clock=book.clock.now, sleep=lambda s: None).run()
    with book.store() as store:
        pending = [t.key for t in store.pending_tasks("hubspot")]
    assert pending, "the crash left task creates of unknown outcome"
    return pending


def _plan_report(book: Book) -> dict[str, int]:
    with book.store(read_only=True) as store:
        report = Engine(book.runtime(), store, plan_mode=True, clock=book.clock.now, sleep=lambda s: None).run()
    hubspot = report.instances["hubspot"]
    return {"found": hubspot.recovered, "not found": hubspot.unresolved}


def test_plan_plans_no_create_for_a_task_the_crm_already_holds(book: Book, monkeypatch: pytest.MonkeyPatch) -> None:
    pending = _crash_first_sync_at(book, "after-task-create", monkeypatch)
    in_crm = {t.properties.get("onboard_sync_key") for t in book.sandbox.backend.tasks.values()}
    assert set(pending) <= in_crm, "the CRM created them before the crash"

    assert _plan_report(book) == {"found": len(pending), "not found": 0}
    planned, synced = book.plan_then_sync()
    assert by_write(planned) == by_write(synced)
    assert not {r["key"] for r in planned if r["action"] == "create"} & set(pending), "no second create"
    with book.store() as store:
        owned = store.owned_tasks_for("hubspot")
    assert {owned[key].state for key in pending} == {TaskState.CREATED}


def test_plan_plans_the_create_again_for_a_task_the_crm_never_got(book: Book, monkeypatch: pytest.MonkeyPatch) -> None:
    pending = _crash_first_sync_at(book, "before-task-create", monkeypatch)
    assert not book.sandbox.backend.tasks, "the crash came before any create call"

    assert _plan_report(book) == {"found": 0, "not found": len(pending)}
    planned, synced = book.plan_then_sync()
    assert by_write(planned) == by_write(synced)
    assert set(pending) <= {r["key"] for r in planned if r["action"] == "create"}, "each is created again"

"""Crash and fault recovery against the sandbox: no task is ever lost or duplicated."""

from __future__ import annotations

from typing import Any

import pytest
from e2e_support import created_tasks, run_cli, tasks_by_key

from onboard_sync.store import TaskState


@pytest.mark.parametrize("point", ["after-task-create", "before-task-create", "after-task-record", "before-cursor"])
def test_sigkill_during_sync_then_rerun_leaves_exactly_one_task_per_key(project: Any, point: str) -> None:
    killed = run_cli(project, "sync", env={"ONBOARD_SYNC_CRASH_AT": point})
    assert killed.returncode == -9, f"the sync should have been killed at {point}: {killed.stderr}"
    if point == "after-task-create":
        # the CRM has the tasks, the store only knows them as PENDING: the dangerous window
        with project.store() as store:
            pending = store.pending_tasks("hubspot")
        assert pending
        assert len(project.sandbox.backend.tasks) >= len(pending)

    again = run_cli(project, "sync", "--json")
    assert again.returncode == 0, again.stderr

    counts = tasks_by_key(project.sandbox)
    assert counts
    assert max(counts.values()) == 1, "no task was created twice"
    with project.store() as store:
        owned = store.owned_tasks_for("hubspot")
        assert store.pending_tasks("hubspot") == []
    assert {k for k, t in owned.items() if t.state is TaskState.CREATED} == set(counts)
    # and one more run changes nothing
    final = project.sync()
    assert final.totals() == {"created": 0, "updated": 0, "failed": 0}


def test_partial_batch_failures_are_recorded_per_record_and_retried(project: Any) -> None:
    project.sandbox.faults.partial_batch(fail_every=2, path_contains="tasks/batch/create", times=1)
    first = project.sync()
    totals = first.totals()
    assert totals["failed"] > 0
    assert totals["created"] > 0
    assert not first.ok
    with project.store() as store:
        failed = [t for t in store.owned_tasks_for("hubspot").values() if t.state is TaskState.FAILED]
    assert len(failed) == totals["failed"]

    second = project.sync()
    assert second.ok
    assert second.totals()["created"] == totals["failed"]
    counts = tasks_by_key(project.sandbox)
    assert max(counts.values()) == 1
    assert len(counts) == totals["created"] + totals["failed"]


def test_rate_limit_storm_is_ridden_out(project: Any) -> None:
    project.sandbox.faults.fail_next(4, status=429, path_contains="batch", retry_after=1)
    report = project.sync(sleep=lambda seconds: None)
    assert report.ok
    assert report.api_calls()["retries"] >= 4  # the deal pull or the ticket pull (both batch-read) rode them out
    assert max(tasks_by_key(project.sandbox).values()) == 1
    assert created_tasks(project)


def test_server_errors_during_pull_keep_the_cursor_and_lose_nothing(project: Any) -> None:
    project.sandbox.faults.fail_next(20, status=503, path_contains="/search")
    failed = project.sync(sleep=lambda seconds: None)
    assert not failed.ok
    assert failed.instances["hubspot"].error
    with project.store() as store:
        assert store.get_cursor("hubspot", "deals") is None, "a failed pull must not advance the cursor"
    project.sandbox.faults.clear()
    ok = project.sync()
    assert ok.ok
    assert ok.totals()["created"] > 0
    assert max(tasks_by_key(project.sandbox).values()) == 1

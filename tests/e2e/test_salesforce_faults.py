"""Crash, session and quota faults on Salesforce: no task is lost or duplicated, runs stop and resume cleanly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_support import run_cli
from sf_support import sf_created_tasks, sf_tasks_by_key

from onboard_sync.cli.demo_crm import write_salesforce_config
from onboard_sync.sandbox.salesforce import SalesforceSandbox
from onboard_sync.store import TaskState
from onboard_sync.testing.pytest_plugin import SandboxProject


@pytest.fixture
def plain_key_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxProject]:
    """An org whose Task key field cannot be an External ID: tasks are created, keys looked up."""
    with SalesforceSandbox(seed=2, deals=40, task_external_id=False) as sandbox:
        for name, value in sandbox.connector_secrets().items():
            monkeypatch.setenv(name, value)
        write_salesforce_config(tmp_path, sandbox)
        project = SandboxProject(path=tmp_path, sandbox=sandbox, monkeypatch=monkeypatch, instance="salesforce")
        project.setup_crm()
        yield project


def _sigkill_then_rerun(project: Any, point: str) -> None:
    killed = run_cli(project, "sync", env={"ONBOARD_SYNC_CRASH_AT": point})
    assert killed.returncode == -9, f"the sync should have been killed at {point}: {killed.stderr}"
    if point == "after-task-create":
        with project.store() as store:
            pending = store.pending_tasks("salesforce")
        assert pending, "the CRM has the tasks, the store only knows them as PENDING"
        assert len(project.sandbox.backend.tasks) >= len(pending)
    again = run_cli(project, "sync", "--json")
    assert again.returncode == 0, again.stderr
    counts = sf_tasks_by_key(project.sandbox)
    assert counts
    assert max(counts.values()) == 1, "no Task was created twice"
    with project.store() as store:
        owned = store.owned_tasks_for("salesforce")
        assert store.pending_tasks("salesforce") == []
    assert {k for k, t in owned.items() if t.state is TaskState.CREATED} == set(counts)
    assert project.sync().totals() == {"created": 0, "updated": 0, "failed": 0}


@pytest.mark.parametrize("point", ["after-task-create", "before-task-create", "after-task-record", "before-cursor"])
def test_sigkill_during_sync_then_rerun_leaves_exactly_one_task_per_key(sf_project: Any, point: str) -> None:
    _sigkill_then_rerun(sf_project, point)


def test_sigkill_after_create_without_an_external_id_key_is_resolved_by_lookup(plain_key_project: Any) -> None:
    key = plain_key_project.sandbox.backend.schema.field("Task", "OnboardSync_Key__c")
    assert key is not None
    assert not key.external_id
    _sigkill_then_rerun(plain_key_project, "after-task-create")
    assert not any(r.template.endswith("/{field}") for r in plain_key_project.sandbox.requests), "no upsert used"


def test_a_session_that_expires_mid_sync_is_renewed_and_the_sync_completes(sf_project: Any) -> None:
    sf_project.sandbox.expire_sessions(after_requests=3)
    report = sf_project.sync()
    assert report.ok, report.as_dict()
    assert report.totals()["created"] > 0
    # the deal pull and the Case pull share one session (Connector.shared): one login, one renewal
    logins = "setup, the sync's one login for both pulls, and one renewal"
    assert sf_project.sandbox.sessions.logins == 3, logins
    deal_pull = report.instances["salesforce"].api_calls["by_endpoint"]
    case_pull = report.ticket_sources["salesforce"]["api_calls"]["by_endpoint"]
    assert deal_pull.get("oauth.token", 0) + case_pull.get("oauth.token", 0) == 2
    assert max(sf_tasks_by_key(sf_project.sandbox).values()) == 1


def test_the_daily_limit_stops_the_run_cleanly_and_the_next_run_resumes_from_its_cursor(sf_project: Any) -> None:
    sandbox = sf_project.sandbox
    # the run-start check (Opportunity and Account describes), the Case query, the reads (Opportunities
    # with their roles and Accounts, Users, Tasks), the Task describe and the task upsert pass; the field
    # writes hit the limit
    sandbox.use_up_daily_limit(leave=8)
    result = run_cli(sf_project, "sync")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "daily API request limit" in output, output
    assert "resumes from the cursor" in output, output
    assert "Traceback" not in output
    with sf_project.store() as store:
        assert store.get_cursor("salesforce", "deals") is None, "a stopped run does not advance the cursor"
        assert store.pending_tasks("salesforce") == []
    created_before = sf_created_tasks(sf_project)
    assert created_before, "the writes made before the limit are recorded"
    opportunities = sandbox.backend.opportunities
    assert not any(o.get("Onboarding_Phase__c") for o in opportunities.values()), "field writes were refused"

    sandbox.enforce_daily = False  # a new day
    resumed = sf_project.sync()
    assert resumed.ok, resumed.as_dict()
    assert resumed.totals()["created"] == 0, "nothing created twice"
    assert resumed.totals()["updated"] > 0, "the refused field writes go out now"
    assert max(sf_tasks_by_key(sandbox).values()) == 1
    with sf_project.store() as store:
        assert store.get_cursor("salesforce", "deals") is not None


def test_partial_collection_failures_are_recorded_per_record_and_retried(sf_project: Any) -> None:
    sf_project.sandbox.faults.partial_batch(fail_every=2, path_contains="composite/sobjects/{sobject}", times=1)
    first = sf_project.sync()
    totals = first.totals()
    assert totals["failed"] > 0
    assert totals["created"] > 0
    assert not first.ok
    with sf_project.store() as store:
        failed = [t for t in store.owned_tasks_for("salesforce").values() if t.state is TaskState.FAILED]
    assert len(failed) == totals["failed"]
    assert all("UNABLE_TO_LOCK_ROW" in (t.error or "") for t in failed)
    second = sf_project.sync()
    assert second.ok
    assert second.totals()["created"] == totals["failed"]
    counts = sf_tasks_by_key(sf_project.sandbox)
    assert max(counts.values()) == 1
    assert len(counts) == totals["created"] + totals["failed"]


def test_server_errors_during_pull_keep_the_cursor_and_lose_nothing(sf_project: Any) -> None:
    sf_project.sandbox.faults.fail_next(20, status=503, path_contains="/query")
    failed = sf_project.sync(sleep=lambda seconds: None)
    assert not failed.ok
    assert failed.instances["salesforce"].error
    with sf_project.store() as store:
        assert store.get_cursor("salesforce", "deals") is None
    sf_project.sandbox.faults.clear()
    ok = sf_project.sync()
    assert ok.ok
    assert ok.totals()["created"] > 0
    assert max(sf_tasks_by_key(sf_project.sandbox).values()) == 1

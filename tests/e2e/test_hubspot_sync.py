"""The foundation scenario end to end: HubSpot sandbox over real HTTP, official SDK, SQLite store."""

from __future__ import annotations

import json
from typing import Any

from e2e_support import created_tasks, run_cli, store_fingerprint, tasks_by_key

from onboard_sync.onboarding.state import OnboardingStatus
from onboard_sync.records import TaskStatus


def _complete_all_open_tasks(project: Any, onboarding_id: str) -> int:
    done = 0
    for task in created_tasks(project).values():
        if task.onboarding_id == onboarding_id and task.status is TaskStatus.OPEN:
            project.sandbox.backend.complete_task(task.remote_id)
            done += 1
    return done


def test_won_deals_become_onboardings_with_owned_due_associated_tasks(project: Any) -> None:
    report = project.sync()
    assert report.ok
    backend = project.sandbox.backend
    won = {d_id for d_id, d in backend.deals.items() if d.properties.get("dealstage") == "closedwon"}
    with project.store() as store:
        onboardings = store.onboardings(source="hubspot")
    assert {o.deal_id for o in onboardings} == won
    assert {o.segment for o in onboardings} == {"smb", "mid_market", "enterprise"}

    tasks = created_tasks(project)
    assert tasks
    assert report.totals()["created"] == len(tasks)
    for task in tasks.values():
        remote = backend.tasks[task.remote_id].properties
        assert remote["hubspot_owner_id"] in backend.owners, "every task has a real owner"
        assert remote["hs_timestamp"], "every task has a due date"
        deal_id = task.onboarding_id.split(":", 1)[1]
        assert backend.associations("tasks", task.remote_id, "deals") == [deal_id]
        assert (
            backend.associations("tasks", task.remote_id, "companies")
            == backend.associations("deals", deal_id, "companies")[:1]
        )
    assert all(count == 1 for count in tasks_by_key(project.sandbox).values())

    # phase and health are written back onto the deal and the company
    some = onboardings[0]
    deal_props = backend.deals[some.deal_id].properties
    assert deal_props["onboarding_phase"] == some.phase
    assert deal_props["onboarding_segment"] == some.segment
    assert deal_props["onboarding_health_status"] in {"healthy", "at-risk", "critical"}
    company_props = backend.companies[some.account_id].properties
    assert company_props["onboarding_phase"] in {o.phase for o in onboardings if o.account_id == some.account_id}


def test_completing_tasks_in_the_crm_advances_the_phase(project: Any) -> None:
    project.sync()
    with project.store() as store:
        first = {o.id: o for o in store.onboardings(source="hubspot")}
    target = sorted(first)[0]
    assert _complete_all_open_tasks(project, target) > 0

    second = project.sync()
    assert second.ok
    with project.store() as store:
        after = store.get_onboarding(target)
        transitions = [t for t in store.transitions(target) if t.old_phase is not None]
    phases = project.runtime().playbook.phase_keys()
    assert after is not None
    assert phases.index(after.phase) > phases.index(first[target].phase)
    assert transitions
    assert transitions[-1].cause.value == "tasks-completed"
    # the new phase's tasks were created and the CRM shows the new phase
    new_phase_tasks = [
        t for t in created_tasks(project).values() if t.onboarding_id == target and t.phase == after.phase
    ]
    assert new_phase_tasks
    assert project.sandbox.backend.deals[after.deal_id].properties["onboarding_phase"] == after.phase


def test_a_second_sync_with_no_crm_change_makes_zero_writes(project: Any) -> None:
    project.sync()
    project.sandbox.requests.clear()
    again = project.sync()
    assert again.ok
    assert again.totals() == {"created": 0, "updated": 0, "failed": 0}
    assert project.sandbox.requests.writes() == []


def test_plan_writes_nothing_anywhere(project: Any) -> None:
    project.sync()
    tasks = created_tasks(project)
    target = sorted({t.onboarding_id for t in tasks.values()})[0]
    _complete_all_open_tasks(project, target)
    before = store_fingerprint(project.path)
    project.sandbox.requests.clear()

    result = run_cli(project, "plan", "--json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["mode"] == "plan"
    assert plan["planned_writes"] > 0, "completed tasks should make plan propose the next phase"
    rows = plan["changes"]
    assert any(r["object"] == "task" and r["onboarding"] == target for r in rows)

    assert store_fingerprint(project.path) == before, "the store file (and folder) is byte-for-byte unchanged"
    assert project.sandbox.requests.writes() == [], "plan sent no write request to the CRM"


def test_plan_on_a_fresh_install_creates_no_store(project: Any) -> None:
    result = run_cli(project, "plan")
    assert result.returncode == 0, result.stderr
    assert "planned write" in result.stdout
    assert not (project.path / "onboard-sync.db").exists()
    assert project.sandbox.requests.writes() == [] or all(
        "/properties" in r.template for r in project.sandbox.requests.writes()
    )


def test_sync_json_reports_writes_and_api_calls(project: Any) -> None:
    before = len(project.sandbox.requests)  # setup's
    result = run_cli(project, "sync", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["writes"]["created"] > 0
    assert report["writes"]["failed"] == 0
    assert set(report["writes"]) >= {"created", "updated", "failed"}
    calls = report["api_calls"]
    assert calls["total"] == sum(calls["by_endpoint"].values()) > 0
    assert "hubspot:tasks.batch_create" in calls["by_endpoint"]
    # the sandbox saw exactly the calls the report counted, the run-start check of the mapping included
    assert calls["total"] == len(project.sandbox.requests) - before
    assert calls["by_endpoint"]["hubspot:properties.list"] == 2, "deal and company properties, read once each"


def test_a_phase_set_by_hand_in_the_crm_wins(project: Any) -> None:
    project.sync()
    with project.store() as store:
        # an open onboarding in another phase (adopted ones join at the phase their plan is in)
        states = sorted(store.onboardings(source="hubspot"), key=lambda o: o.id)
        state = next(o for o in states if o.phase != "training")
    project.sandbox.backend.update("deals", state.deal_id, {"onboarding_phase": "training"})
    report = project.sync()
    assert report.ok
    with project.store() as store:
        after = store.get_onboarding(state.id)
        audit = store.audit(limit=1000)
    assert after is not None
    assert after.phase == "training"
    assert after.manual_phase == "training"
    assert project.sandbox.backend.deals[state.deal_id].properties["onboarding_phase"] == "training"
    phase_writes = [
        a
        for a in audit
        if a.remote_id == state.deal_id and a.after and "onboarding_phase" in a.after and a.run_id == report.run_id
    ]
    assert phase_writes == [], "onboard-sync does not fight a person's phase"
    assert any(t.onboarding_id == state.id and t.phase == "training" for t in created_tasks(project).values())


def test_a_lost_deal_cancels_its_onboarding(project: Any) -> None:
    project.sync()
    with project.store() as store:
        state = sorted(store.onboardings(source="hubspot"), key=lambda o: o.id)[0]
    project.sandbox.backend.set_deal_stage(state.deal_id, "closedlost")
    assert project.sync().ok
    with project.store() as store:
        after = store.get_onboarding(state.id)
    assert after is not None
    assert after.status is OnboardingStatus.CANCELLED
    assert project.sandbox.backend.deals[state.deal_id].properties["onboarding_status"] == "cancelled"

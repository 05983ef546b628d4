"""The foundation scenario end to end on Salesforce: the sandbox over HTTPS, simple-salesforce, SQLite store."""

from __future__ import annotations

import json
from typing import Any

from e2e_support import run_cli, store_fingerprint
from sf_support import sf_created_tasks, sf_tasks_by_key

from onboard_sync.onboarding.state import OnboardingStatus
from onboard_sync.records import TaskStatus


def _complete_all_open_tasks(project: Any, onboarding_id: str) -> int:
    done = 0
    for task in sf_created_tasks(project).values():
        if task.onboarding_id == onboarding_id and task.status is TaskStatus.OPEN:
            project.sandbox.backend.complete_task(task.remote_id)
            done += 1
    return done


def test_won_opportunities_become_onboardings_with_owned_due_tasks_on_the_opportunity(sf_project: Any) -> None:
    report = sf_project.sync()
    assert report.ok, report.as_dict()
    backend = sf_project.sandbox.backend
    won = {i for i, o in backend.opportunities.items() if o["IsWon"]}
    with sf_project.store() as store:
        onboardings = store.onboardings(source="salesforce")
    assert {o.deal_id for o in onboardings} == won
    assert {o.segment for o in onboardings} == {"smb", "mid_market", "enterprise"}

    tasks = sf_created_tasks(sf_project)
    assert tasks
    assert report.totals()["created"] == len(tasks)
    for task in tasks.values():
        remote = backend.tasks[task.remote_id]
        assert remote["OwnerId"] in backend.users, "every task has a real owner"
        assert remote["ActivityDate"] is not None, "every task has a due date"
        deal_id = task.onboarding_id.split(":", 1)[1]
        assert remote["WhatId"] == deal_id, "the task is on the Opportunity"
        assert remote["AccountId"] == backend.opportunities[deal_id]["AccountId"]
        assert remote["Status"] == "Not Started"
    assert all(count == 1 for count in sf_tasks_by_key(sf_project.sandbox).values())

    some = onboardings[0]
    opp = backend.opportunities[some.deal_id]
    assert opp["Onboarding_Phase__c"] == some.phase
    assert opp["Onboarding_Segment__c"] == some.segment
    assert opp["Onboarding_Health_Status__c"] in {"healthy", "at-risk", "critical"}
    assert isinstance(opp["Onboarding_Health_Score__c"], float), "numbers are sent as numbers"
    account = backend.accounts[some.account_id]
    assert account["Onboarding_Phase__c"] in {o.phase for o in onboardings if o.account_id == some.account_id}


def test_completing_tasks_in_salesforce_advances_the_phase(sf_project: Any) -> None:
    sf_project.sync()
    with sf_project.store() as store:
        first = {o.id: o for o in store.onboardings(source="salesforce")}
    target = sorted(first)[0]
    assert _complete_all_open_tasks(sf_project, target) > 0

    second = sf_project.sync()
    assert second.ok
    with sf_project.store() as store:
        after = store.get_onboarding(target)
        transitions = [t for t in store.transitions(target) if t.old_phase is not None]
    phases = sf_project.runtime().playbook.phase_keys()
    assert after is not None
    assert phases.index(after.phase) > phases.index(first[target].phase)
    # the phase moved because its tasks were completed (rule-driven status changes may follow it)
    assert any(t.cause.value == "tasks-completed" and t.new_phase != t.old_phase for t in transitions)
    new_phase_tasks = [
        t for t in sf_created_tasks(sf_project).values() if t.onboarding_id == target and t.phase == after.phase
    ]
    assert new_phase_tasks
    assert sf_project.sandbox.backend.opportunities[after.deal_id]["Onboarding_Phase__c"] == after.phase


def test_a_second_sync_with_no_crm_change_makes_zero_writes(sf_project: Any) -> None:
    sf_project.sync()
    sf_project.sandbox.requests.clear()
    again = sf_project.sync()
    assert again.ok
    assert again.totals() == {"created": 0, "updated": 0, "failed": 0}
    assert sf_project.sandbox.requests.writes() == []


def test_plan_writes_nothing_anywhere(sf_project: Any) -> None:
    sf_project.sync()
    tasks = sf_created_tasks(sf_project)
    target = sorted({t.onboarding_id for t in tasks.values()})[0]
    _complete_all_open_tasks(sf_project, target)
    before = store_fingerprint(sf_project.path)
    sf_project.sandbox.requests.clear()

    result = run_cli(sf_project, "plan", "--json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["planned_writes"] > 0
    rows = plan["changes"]
    assert any(r["object"] == "task" and r["onboarding"] == target for r in rows)
    assert store_fingerprint(sf_project.path) == before
    assert sf_project.sandbox.requests.writes() == []


def test_sync_json_reports_writes_api_calls_and_salesforce_usage(sf_project: Any) -> None:
    sf_project.sandbox.requests.clear()
    result = run_cli(sf_project, "sync", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["writes"]["created"] > 0
    assert report["writes"]["failed"] == 0
    calls = report["api_calls"]
    assert calls["total"] == sum(calls["by_endpoint"].values()) > 0
    assert "salesforce:tasks.upsert" in calls["by_endpoint"]
    # the sandbox saw exactly the calls the report counted (the login included)
    assert calls["total"] == len(sf_project.sandbox.requests)
    usage = report["connectors"]["salesforce"]["api_calls"]["vendor_usage"]
    assert usage["source"] == "Sforce-Limit-Info"
    assert usage["used"] == sf_project.sandbox.usage()
    assert usage["limit"] == sf_project.sandbox.daily_limit


def test_a_phase_set_by_hand_in_salesforce_wins(sf_project: Any) -> None:
    sf_project.sync()
    with sf_project.store() as store:
        # an open onboarding in another phase (adopted ones join at the phase their plan is in)
        states = sorted(store.onboardings(source="salesforce"), key=lambda o: o.id)
        state = next(o for o in states if o.phase != "training")
    sf_project.sandbox.backend.update("Opportunity", state.deal_id, {"Onboarding_Phase__c": "training"})
    report = sf_project.sync()
    assert report.ok
    with sf_project.store() as store:
        after = store.get_onboarding(state.id)
    assert after is not None
    assert after.phase == "training"
    assert after.manual_phase == "training"
    assert sf_project.sandbox.backend.opportunities[state.deal_id]["Onboarding_Phase__c"] == "training"


def test_a_lost_opportunity_cancels_its_onboarding(sf_project: Any) -> None:
    sf_project.sync()
    with sf_project.store() as store:
        state = sorted(store.onboardings(source="salesforce"), key=lambda o: o.id)[0]
    sf_project.sandbox.backend.set_stage(state.deal_id, "Closed Lost")
    assert sf_project.sync().ok
    with sf_project.store() as store:
        after = store.get_onboarding(state.id)
    assert after is not None
    assert after.status is OnboardingStatus.CANCELLED
    assert sf_project.sandbox.backend.opportunities[state.deal_id]["Onboarding_Status__c"] == "cancelled"


def test_accounts_come_with_their_opportunities_and_are_fresh_on_an_incremental_sync(sf_project: Any) -> None:
    first = sf_project.sync()
    calls = first.instances["salesforce"].api_calls["by_endpoint"]
    assert not [k for k in calls if "accounts.query" in k or "contact_roles.query" in k], calls
    backend = sf_project.sandbox.backend
    with sf_project.store() as store:
        state = sorted(store.onboardings(source="salesforce"), key=lambda o: o.id)[0]
        contacts = store.get_deals("salesforce", [state.deal_id])[state.deal_id].contact_ids
    assert state.account_id
    assert contacts, "contact roles are read from the Opportunity query"
    backend.update("Account", state.account_id, {"Name": "Renamed Holdings"})
    backend.update("Opportunity", state.deal_id, {"Amount": 123456})
    again = sf_project.sync()
    assert again.ok, again.as_dict()
    calls = again.instances["salesforce"].api_calls["by_endpoint"]
    assert calls["opportunities.query"] == 1
    assert not [k for k in calls if "accounts.query" in k or "contact_roles.query" in k], calls
    with sf_project.store() as store:
        assert store.get_accounts("salesforce", [state.account_id])[state.account_id].name == "Renamed Holdings"


def test_runs_on_one_runtime_share_one_login_and_check_auth_still_logs_in(sf_project: Any) -> None:
    """What `serve` does: one runtime, a run per reconcile. Salesforce limits logins per user per
    hour, so the runs and the Case pulls share the instance's session until it expires."""
    from onboard_sync.sync.engine import Engine

    runtime = sf_project.runtime()
    before = sf_project.sandbox.sessions.logins
    with sf_project.store() as store:
        for _ in range(3):
            assert Engine(runtime, store).run().ok
    assert sf_project.sandbox.sessions.logins == before + 1

    connector = runtime.connector("salesforce")
    try:
        assert "login accepted" in connector.check_auth()
    finally:
        connector.close()
    assert sf_project.sandbox.sessions.logins == before + 2, "validate --remote proves the credentials"

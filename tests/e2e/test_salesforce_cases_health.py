"""Salesforce Cases as health signals end to end: the engine against the Salesforce sandbox alone, over HTTPS.

An enterprise customer with three High Cases open more than three days turns at-risk with those reasons on
its Opportunity and Account; exactly one alert Task is created however many syncs run; the episode clears
when support closes the Cases. With ``read_cases = false`` the same Cases are not read at all.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from e2e_support import replay_history
from sf_support import KEY_FIELD, sf_tasks_by_key

REASON = "3 urgent/high ticket(s) open more than 3 days"


@pytest.fixture(autouse=True)
def _judged_by_history(sf_project: Any) -> None:
    replay_history(sf_project.config_path)


def _alert_tasks(project: Any, onboarding_id: str) -> list[str]:
    keys = sf_tasks_by_key(project.sandbox)
    assert all(count == 1 for count in keys.values()), "no key on two Tasks"
    return sorted(k for k in keys if k.startswith(f"{onboarding_id}:alert.blockers:"))


def _sync(project: Any) -> Any:
    report = project.sync(clock=project.sandbox.clock.now, sleep=lambda seconds: None)
    assert report.ok, report.as_dict()
    return report


def _enterprise_customer(project: Any) -> Any:
    """A healthy enterprise onboarding that is the only onboarding on its Account."""
    with project.store() as store:
        onboardings = store.onboardings(source="salesforce")
    per_account: dict[str, int] = {}
    for o in onboardings:
        per_account[o.account_id] = per_account.get(o.account_id, 0) + 1
    return next(
        o
        for o in sorted(onboardings, key=lambda o: o.id)
        if o.segment == "enterprise"
        and o.health_status == "healthy"
        and o.account_id
        and per_account[o.account_id] == 1
    )


def test_high_cases_turn_an_enterprise_customer_at_risk_once_per_episode(sf_project: Any) -> None:
    backend = sf_project.sandbox.backend
    first = _sync(sf_project)
    assert first.ticket_sources["salesforce"]["tickets_pulled"] == len(backend.cases), "the backfill reads every Case"
    target = _enterprise_customer(sf_project)
    assert not any(
        c["AccountId"] == target.account_id and not c["IsClosed"] and c["Priority"] == "High"
        for c in backend.cases.values()
    ), "the seeded Cases alone keep the customer healthy"

    # a support agent logs three High Cases that have been open four days
    cases = [
        backend.open_case(target.account_id, f"Outage {n}", priority="High", status="Escalated", age=timedelta(days=4))
        for n in range(3)
    ]
    second = _sync(sf_project)
    assert second.ticket_sources["salesforce"]["tickets_pulled"] == 3, "incremental: only the new Cases"
    with sf_project.store() as store:
        state = store.get_onboarding(target.id)
    assert state.health_status == "at-risk"
    opportunity = backend.opportunities[target.deal_id]
    account = backend.accounts[target.account_id]
    assert opportunity["Onboarding_Health_Status__c"] == "at-risk"
    assert REASON in opportunity["Onboarding_Health_Reasons__c"]
    assert account["Onboarding_Health_Status__c"] == "at-risk"
    assert REASON in account["Onboarding_Health_Reasons__c"]
    assert _alert_tasks(sf_project, target.id) == [f"{target.id}:alert.blockers:1"]
    alert = next(t for t in backend.tasks.values() if t[KEY_FIELD] == f"{target.id}:alert.blockers:1")
    assert alert["WhatId"] == target.deal_id
    assert alert["AccountId"] == target.account_id
    assert alert["Status"] == "Not Started"

    # however many syncs run: still exactly one alert Task, and no writes at all
    for _ in range(2):
        sf_project.sandbox.requests.clear()
        again = _sync(sf_project)
        assert again.totals() == {"created": 0, "updated": 0, "failed": 0}
        assert sf_project.sandbox.requests.writes() == []
    assert _alert_tasks(sf_project, target.id) == [f"{target.id}:alert.blockers:1"]

    # support closes the Cases: the episode clears and health recovers on both records
    for case_id in cases:
        backend.close_case(case_id)
    _sync(sf_project)
    with sf_project.store() as store:
        state = store.get_onboarding(target.id)
        episodes = store.alert_episodes("salesforce", onboarding_id=target.id)
        tickets = store.tickets_for_accounts("salesforce", [target.account_id])[target.account_id]
    assert state.health_status == "healthy"
    assert [(e.alert, e.episode, e.cleared_at is not None) for e in episodes] == [("blockers", 1, True)]
    assert {t.id: t.status for t in tickets if t.id in cases} == dict.fromkeys(cases, "closed")
    assert backend.opportunities[target.deal_id]["Onboarding_Health_Status__c"] == "healthy"
    assert "urgent" not in (backend.opportunities[target.deal_id]["Onboarding_Health_Reasons__c"] or "")
    assert "urgent" not in (backend.accounts[target.account_id]["Onboarding_Health_Reasons__c"] or "")
    assert _alert_tasks(sf_project, target.id) == [f"{target.id}:alert.blockers:1"], "no new Task on clearing"


def test_cases_turned_off_are_not_read(sf_project: Any) -> None:
    with sf_project.config_path.open("a", encoding="utf-8") as fh:
        fh.write("read_cases = false\n")  # the [connectors.salesforce] table is the file's last
    assert sf_project.runtime().config.connectors["salesforce"].read_cases is False
    backend = sf_project.sandbox.backend
    _sync(sf_project)
    target = _enterprise_customer(sf_project)
    for n in range(3):
        backend.open_case(target.account_id, f"Outage {n}", priority="High", age=timedelta(days=4))
    report = _sync(sf_project)
    assert report.ticket_sources["salesforce"]["tickets_pulled"] == 0
    assert report.ticket_sources["salesforce"]["api_calls"]["by_endpoint"] == {}, "no Case query, no login"
    with sf_project.store() as store:
        assert store.get_onboarding(target.id).health_status == "healthy"
        assert store.tickets_for_accounts("salesforce", [target.account_id]) == {}
    assert _alert_tasks(sf_project, target.id) == []

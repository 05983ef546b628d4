"""Decision points, repeated conditional tasks (loops) and first value, on seed 004's playbook (pure machine)."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

from onboarding_sim import T0, Sim, at_day, make_account, make_deal

from onboard_sync.onboarding.state import OnboardingStatus, TransitionCause
from onboard_sync.rules import Playbook, example_playbooks, load_playbook

HEALTHY = {"adoption_rate": "90", "weekly_logins": "5", "nps": "9", "business_outcomes": "1"}


@cache
def seed004() -> Playbook:
    return load_playbook(example_playbooks()["seed004_fnb_30_60_90"])


def walk(sim: Sim, days: int, metrics: dict[int, dict[str, str]]) -> dict[str, int]:
    """Daily: the metrics of that day (latest key <= day) on the account, the person completes what is due."""
    entered: dict[str, int] = {}
    for day in range(days + 1):
        current = max(k for k in metrics if k <= day)
        sim.account = make_account(metrics[current])
        now = at_day(day)
        sim.complete_due(now)
        for _ in range(3):
            ev = sim.step(now)
        assert ev.state is not None
        for visit in ev.state.history:
            entered.setdefault(visit.phase, (visit.entered_at.date() - T0.date()).days)
    return entered


def _sim() -> Sim:
    return Sim(deal=make_deal(props={"products": "A1;E1"}), playbook=seed004())


def test_on_track_customer_is_handed_to_the_account_manager_at_day_90() -> None:
    sim = _sim()
    entered = walk(sim, 95, {0: HEALTHY})
    assert "extended_onboarding" not in entered
    assert entered["account_handoff"] == 90
    assert sim.state is not None
    assert sim.state.status == OnboardingStatus.COMPLETED
    decisions = [t for ev in sim.log for t in ev.transitions if t.detail.startswith("decision")]
    assert [(t.old_phase, t.new_phase, t.cause) for t in decisions] == [
        ("business_review", "account_handoff", TransitionCause.RULE)
    ]
    assert not [k for k in sim.tasks if ":usage_remediation:" in k]
    # only the purchased products get their training
    assert {k.split(":")[2] for k in sim.tasks} >= {"a1_training", "e1_training"}
    assert not {k.split(":")[2] for k in sim.tasks} & {"r1_training", "r2_training"}


def test_struggling_customer_loops_through_remediation_and_is_extended_at_day_90() -> None:
    sim = _sim()
    entered = walk(sim, 100, {0: {**HEALTHY, "adoption_rate": "55", "nps": "5"}})
    assert entered["extended_onboarding"] == 90
    assert "account_handoff" not in entered
    assert sorted(k for k in sim.tasks if ":usage_remediation:" in k) == [
        f"hs:d1:usage_remediation:{n}" for n in (1, 2, 3, 4)
    ]
    assert sim.state is not None
    assert sim.state.phase == "extended_onboarding"
    assert {k.split(":")[2] for k in sim.tasks} >= {"escalate_management", "recovery_plan"}


def test_the_loop_stops_when_usage_recovers_and_each_week_is_decided_on_its_own() -> None:
    sim = _sim()
    low = {**HEALTHY, "adoption_rate": "60"}
    entered = walk(sim, 95, {0: low, 40: HEALTHY, 50: low, 52: HEALTHY})
    # Weeks 1 and 2 (episodes appear on days 31 and 38) are low: remediated. Week 3 (appears day 45) starts
    # fine but usage dips on days 50-51 inside its window: remediated then. Week 4 (appears day 52) is fine.
    remediations = sorted(k for k in sim.tasks if ":usage_remediation:" in k)
    assert remediations == ["hs:d1:usage_remediation:1", "hs:d1:usage_remediation:2", "hs:d1:usage_remediation:3"]
    assert entered["account_handoff"] == 90


def test_first_value_is_recorded_when_the_first_value_task_is_completed() -> None:
    sim = _sim()
    walk(sim, 10, {0: HEALTHY})
    assert sim.state is not None
    assert sim.state.first_value_at is not None
    task = sim.tasks["hs:d1:data_integration_check:0"]
    assert sim.state.first_value_at == task.completed_at
    assert (sim.state.first_value_at.date() - T0.date()).days == 7


def test_a_decision_leaving_an_extended_phase_reactivates() -> None:
    sim = _sim()
    walk(sim, 92, {0: {**HEALTHY, "adoption_rate": "55"}})
    assert sim.state is not None
    assert sim.state.phase == "extended_onboarding"
    sim.account = make_account(HEALTHY)
    for day in range(93, 110):
        sim.complete_due(at_day(day))
        sim.step(at_day(day))
    assert sim.state.phase == "completed"
    assert sim.state.status == OnboardingStatus.COMPLETED
    phases = [v.phase for v in sim.state.history]
    assert phases[-3:] == ["extended_onboarding", "account_handoff", "completed"]
    assert replace(sim.state, history=()).first_value_at is not None

"""Each seed's example, simulated with the real engine on the HubSpot sandbox and a simulated clock,
reproduces its process: phases in order at the seed's timings, decisions taken the right way."""

from __future__ import annotations

from functools import cache

import pytest

from onboard_sync.errors import ConfigError
from onboard_sync.rules import example_playbooks
from onboard_sync.simulate import Timeline, simulate

EX = example_playbooks()


@cache
def run(name: str, scenario: str, days: int, segment: str | None = None) -> Timeline:
    return simulate(EX[name], segment=segment, days=days, scenario=scenario)


def decisions(t: Timeline) -> list[tuple[int, str]]:
    return [(day, text.split(":")[0]) for day, text in t.decisions()]


def test_seed000_five_steps_at_their_days_and_first_value_by_day_5() -> None:
    t = run("seed000_60_day_process", "on-track", 62)
    # step 1 day 1, setup days 1-3, training days 4-7, go-live day 8, follow-ups 15/30/60: a step starts when
    # the previous one's last task is done (the day it is due).
    assert t.phases_entered() == {
        "initial_contact": 0,
        "account_setup": 1,
        "training": 3,
        "go_live": 7,
        "follow_up": 8,
        "completed": 60,
    }
    assert t.completed()["first_value"] == 5
    assert [t.completed()[f"checkin_{d}"] for d in (15, 30, 60)] == [15, 30, 60]
    assert t.final().status == "completed"
    assert t.final().health_status == "healthy"


def test_seed000_late_tasks_slip_the_plan_and_turn_at_risk() -> None:
    t = run("seed000_60_day_process", "late-tasks", 62)
    entered = t.phases_entered()
    assert list(entered)[:5] == ["initial_contact", "account_setup", "training", "go_live", "follow_up"]
    assert entered["go_live"] > 7 + 7
    assert "completed" not in entered
    assert any(r.status == "at-risk" for r in t.days)
    assert any("overdue" in a for _, a in t.alerts())


def test_seed001_on_track_phases_at_seed_days_plus_pre_kickoff_week_and_handoff() -> None:
    t = run("seed001_90_day_workflow", "on-track", 100)
    assert t.phases_entered() == {
        "pre_kickoff": 0,
        "foundation": 7,  # seed day 0/1: kickoff week
        "implementation": 37,  # seed day 30/31
        "launch": 63,  # training done on seed day 56 (weeks 7-8), launch follows
        "optimization": 91,  # full launch at the end of week 12
        "success_handoff": 97,  # week 13 performance review, then the handoff decision
        "completed": 98,
    }
    assert decisions(t) == [(97, "optimization.handoff")]
    assert not [a for _, a in t.alerts() if not a.startswith("health:")]  # no alert_* task


def test_seed001_struggling_raises_trigger_alerts_and_is_extended() -> None:
    t = run("seed001_90_day_workflow", "struggling", 100)
    alerts = [(d, a) for d, a in t.alerts() if not a.startswith("health:")]  # alert_* tasks
    assert [d for d, _ in alerts] == [7, 7, 37, 63, 63]  # on entering foundation, implementation, launch
    assert any("attendance" in a for _, a in alerts)
    assert any("NPS" in a for _, a in alerts)
    assert decisions(t) == [(97, "optimization extended (optimization extended)")]
    assert t.final().phase == "optimization"
    assert t.final().status == "extended"
    assert "risk_mitigation" in t.created()


def test_seed002_five_phases_and_self_sufficiency() -> None:
    on_track = run("seed002_excellence_framework", "on-track", 95)
    assert list(on_track.phases_entered()) == [
        "welcome",
        "setup",
        "value",
        "optimization",
        "transition",
        "completed",
    ]
    assert on_track.phases_entered()["completed"] == 90
    assert on_track.completed()["personal_welcome"] == 1
    struggling = run("seed002_excellence_framework", "struggling", 95)
    assert struggling.final().phase == "transition"
    assert struggling.final().status == "extended"
    assert "continued_support" in struggling.created()
    assert "success_documentation" not in struggling.created()


@pytest.mark.parametrize(
    ("segment", "days", "expected"),
    [
        ("mid_market", 32, {"welcome": 0, "discovery": 3, "configuration": 10, "training": 20, "go_live": 28,
                            "completed": 30}),
        ("smb", 16, {"welcome": 0, "discovery": 2, "configuration": 5, "training": 10, "go_live": 14,
                     "completed": 15}),
        ("enterprise", 78, {"welcome": 0, "discovery": 8, "configuration": 25, "training": 50, "go_live": 70,
                            "completed": 75}),
    ],
)  # fmt: skip
def test_seed003_phases_by_day_scaled_per_segment(segment: str, days: int, expected: dict[str, int]) -> None:
    t = run("seed003_30_day_sop", "on-track", days, segment)
    assert t.phases_entered() == expected
    created = t.created()
    assert ("slack_channel" in created) == (segment == "enterprise")
    assert ("group_training" in created) == (segment == "smb")
    assert ("admin_training" in created) == (segment != "smb")


def test_seed003_late_tasks_escalate_to_the_ops_lead() -> None:
    t = run("seed003_30_day_sop", "late-tasks", 20, "mid_market")
    assert any("ops-lead@company.com" in a for _, a in t.alerts())


def test_seed004_on_track_handoff_to_account_management_at_day_90() -> None:
    t = run("seed004_fnb_30_60_90", "on-track", 92)
    assert t.phases_entered() == {
        "handoff": 0,
        "kickoff": 1,
        "data_integration": 3,
        "training": 7,
        "driving_usage": 30,
        "business_review": 60,
        "account_handoff": 90,
        "completed": 91,
    }
    assert decisions(t) == [(90, "business_review.healthy")]
    created = t.created()
    assert [created[f"weekly_checkin:{n}"] for n in (1, 2, 3, 4)] == [30, 37, 44, 51]
    assert not [k for k in created if k.startswith("usage_remediation")]
    assert {"a1_training", "r1_training", "e1_training", "r2_training"} <= set(created)
    assert t.completed()["data_integration_check"] == 7  # first value: data flowing on day 7


def test_seed004_struggling_loops_through_remediation_then_extends_at_day_90() -> None:
    t = run("seed004_fnb_30_60_90", "struggling", 92)
    assert decisions(t) == [
        (31, "usage_remediation"),
        (38, "usage_remediation"),
        (45, "usage_remediation"),
        (52, "usage_remediation"),
        (90, "business_review.at_risk"),
    ]
    assert t.phases_entered()["extended_onboarding"] == 90
    assert "account_handoff" not in t.phases_entered()
    assert {"escalate_management", "recovery_plan"} <= set(t.created())
    assert t.final().status == "at-risk"


def test_seed004_recovering_customer_leaves_the_loop_and_is_handed_off() -> None:
    t = run("seed004_fnb_30_60_90", "recovering", 92)
    assert decisions(t) == [(31, "usage_remediation"), (38, "usage_remediation"), (90, "business_review.healthy")]


def test_default_playbook_simulates_like_the_machine_walk() -> None:
    t = run("default", "on-track", 92, "mid_market")
    assert t.phases_entered() == {
        "handoff": 0,
        "kickoff": 1,
        "discovery": 3,
        "configuration": 10,
        "training": 20,
        "go_live": 27,
        "adoption": 30,
        "review": 60,
        "completed": 90,
    }


def test_unknown_segment_and_scenario_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="unknown segment 'gold'"):
        simulate(EX["seed003_30_day_sop"], segment="gold", days=1)
    with pytest.raises(ConfigError, match="unknown scenario 'lazy'"):
        simulate(EX["seed003_30_day_sop"], scenario="lazy", days=1)

"""evaluate(): start, tasks and due dates, phase advance, manual phase, lost/rewon, fields."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from onboarding_sim import OID, T0, Sim, at_day, default_pb, done, facts, make_account, make_deal, open_

from onboard_sync.onboarding.catchup import CatchUp, CatchUpPolicy
from onboard_sync.onboarding.machine import evaluate
from onboard_sync.onboarding.state import OnboardingState, OnboardingStatus, PhaseVisit, TransitionCause
from onboard_sync.records import ObjectKind, TaskStatus


def state_in(phase: str, segment: str = "mid_market", **changes: object) -> OnboardingState:
    base = OnboardingState(
        id=OID,
        source="hs",
        deal_id="d1",
        account_id="a1",
        segment=segment,
        phase=phase,
        status=OnboardingStatus.ACTIVE,
        started_at=T0,
        phase_entered_at=T0,
        history=(PhaseVisit(phase, T0, TransitionCause.MANUAL),),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def keys(ev: object) -> list[str]:
    return [t.key for t in ev.tasks]  # type: ignore[attr-defined]


def test_deal_not_won_and_no_state_is_not_an_onboarding() -> None:
    ev = evaluate(None, facts(make_deal(won=False)), default_pb(), at_day(1), onboarding_id=OID)
    assert ev.state is None
    assert ev.tasks == ()
    assert ev.fields == {}


@pytest.mark.parametrize(
    ("amount", "segment"),
    [(5_000.0, "smb"), (50_000.0, "mid_market"), (250_000.0, "enterprise"), (None, "mid_market")],
)
def test_won_deal_starts_onboarding_with_handoff_tasks_due_in_24_hours(amount: float | None, segment: str) -> None:
    ev = evaluate(None, facts(make_deal(amount)), default_pb(), at_day(0, hour=3), onboarding_id=OID)
    assert ev.state is not None
    assert ev.state.segment == segment
    assert ev.state.phase == "handoff"
    assert ev.state.status == OnboardingStatus.ACTIVE
    assert ev.state.started_at == T0  # the close date
    assert [t.cause for t in ev.transitions] == [TransitionCause.STARTED]
    assert keys(ev) == [f"{OID}:sales_handoff:0", f"{OID}:assign_csm:0"]
    assert {t.due_at for t in ev.tasks} == {T0 + timedelta(hours=24)}  # never scaled
    handoff = ev.tasks[0]
    assert handoff.owner_role == "sales"
    assert handoff.title == "Hand off Acme to Customer Success"
    assert "Acme rollout" in handoff.body


def test_segment_override_wins_and_unknown_override_warns() -> None:
    ev = evaluate(None, facts(), default_pb(), at_day(0), onboarding_id=OID, segment_override="enterprise")
    assert ev.state is not None
    assert ev.state.segment == "enterprise"
    ev = evaluate(None, facts(), default_pb(), at_day(0), onboarding_id=OID, segment_override="galactic")
    assert ev.state is not None
    assert ev.state.segment == "mid_market"
    assert any("galactic" in w for w in ev.warnings)


def test_start_is_now_when_close_date_missing_or_in_the_future() -> None:
    now = at_day(2)
    for close in (None, now + timedelta(days=3)):
        ev = evaluate(None, facts(make_deal(close=close)), default_pb(), now, onboarding_id=OID)
        assert ev.state is not None
        assert ev.state.started_at == now


@pytest.mark.parametrize(
    ("segment", "scaled_days"),
    [("smb", 4), ("mid_market", 7), ("enterprise", 18)],  # ceil(7 * 14/30), 7, ceil(7 * 2.5)
)
def test_due_dates_scale_with_segment_unless_fixed(segment: str, scaled_days: int) -> None:
    """Day-based tasks are due on the (scaled) local day at the due time (17:00 by default); the
    plan's own dates, as ``catch_up = "replay"`` keeps them."""
    replay = CatchUp(CatchUpPolicy.REPLAY)
    ev = evaluate(state_in("discovery", segment), facts(), default_pb(), at_day(4), onboarding_id=OID, catch_up=replay)
    due = {t.template_key: t.due_at for t in ev.tasks}
    assert due["success_metrics"] == T0 + timedelta(days=scaled_days, hours=17)
    ev = evaluate(state_in("kickoff", segment), facts(), default_pb(), at_day(1), onboarding_id=OID, catch_up=replay)
    due = {t.template_key: t.due_at for t in ev.tasks}
    assert due["kickoff_call"] == T0 + timedelta(days=3, hours=17)  # scale = false
    assert due["welcome_email"] == T0 + timedelta(hours=1)  # anchor = phase (entered at T0)


def test_segment_selects_tasks() -> None:
    def kickoff_tasks(segment: str) -> set[str]:
        ev = evaluate(state_in("kickoff", segment), facts(), default_pb(), at_day(1), onboarding_id=OID)
        return {t.template_key for t in ev.tasks}

    assert {"assign_tam", "slack_channel", "assign_specialist"} <= kickoff_tasks("enterprise")
    assert not {"assign_tam", "slack_channel"} & kickoff_tasks("mid_market")
    assert "self_service_setup" in kickoff_tasks("smb")
    assert "assign_specialist" not in kickoff_tasks("smb")

    def training(segment: str) -> set[str]:
        ev = evaluate(state_in("training", segment), facts(), default_pb(), at_day(21), onboarding_id=OID)
        return {t.template_key for t in ev.tasks}

    assert "group_training" in training("smb")
    assert "admin_training" not in training("smb")
    assert "admin_training" in training("enterprise")
    assert "group_training" not in training("enterprise")


def test_completing_required_tasks_advances_and_an_open_one_blocks() -> None:
    sim = Sim()
    sim.step(at_day(0))
    sim.complete(f"{OID}:sales_handoff:0", at_day(0, 5))
    ev = sim.step(at_day(0, 6))
    assert ev.state is not None
    assert ev.state.phase == "handoff"
    sim.complete(f"{OID}:assign_csm:0", at_day(0, 7))
    ev = sim.step(at_day(0, 8))
    assert ev.state is not None
    assert ev.state.phase == "kickoff"
    assert ev.state.phase_entered_at == at_day(0, 8)
    assert [t.cause for t in ev.transitions] == [TransitionCause.TASKS_COMPLETED]
    assert ev.transitions[0].old_phase == "handoff"
    assert f"{OID}:kickoff_call:0" in keys(ev)
    assert [v.phase for v in ev.state.history] == ["handoff", "kickoff"]
    assert ev.state.history[0].left_at == at_day(0, 8)


def test_a_required_task_deleted_in_the_crm_no_longer_blocks_and_is_not_created_again() -> None:
    sim = Sim()
    sim.step(at_day(0))
    sim.delete(f"{OID}:assign_csm:0", at_day(0, 1))
    ev = sim.step(at_day(0, 2))
    assert ev.state is not None
    assert ev.state.phase == "handoff", "the other required task is still open"
    assert ev.fields[ObjectKind.DEAL]["next_step"] != "Assign a customer success manager", ev.fields
    sim.complete(f"{OID}:sales_handoff:0", at_day(0, 3))
    ev = sim.step(at_day(0, 4))
    assert ev.state is not None
    assert ev.state.phase == "kickoff"
    assert sim.tasks[f"{OID}:assign_csm:0"].status is TaskStatus.DELETED, "kept as deleted, not created again"


def test_several_phases_in_one_evaluation() -> None:
    sim = Sim()
    sim.step(at_day(0))
    sim.complete_all(at_day(0, 1))
    sim.step(at_day(0, 2))  # -> kickoff; kickoff tasks created
    sim.complete_all(at_day(0, 3))
    sim.state = state_in("handoff", history=sim.state.history[:1], phase_entered_at=T0)  # type: ignore[union-attr]
    ev = sim.step(at_day(0, 4))
    assert ev.state is not None
    assert ev.state.phase == "discovery"
    assert [(t.old_phase, t.new_phase) for t in ev.transitions] == [
        ("handoff", "kickoff"),
        ("kickoff", "discovery"),
    ]


def test_optional_task_does_not_block() -> None:
    pb = default_pb()
    state = state_in("configuration")
    specs = evaluate(state, facts(), pb, at_day(11), onboarding_id=OID).tasks
    tasks = {s.key: (open_(s.key) if not s.required else done(s.key, at_day(12))) for s in specs}
    assert any(not s.required for s in specs)
    ev = evaluate(state, facts(tasks=tasks), pb, at_day(13), onboarding_id=OID)
    assert ev.state is not None
    assert ev.state.phase == "training"


def test_manual_phase_is_adopted_and_not_fought() -> None:
    pb = default_pb()
    kickoff = state_in(
        "kickoff",
        history=(
            PhaseVisit("handoff", T0, TransitionCause.STARTED, T0),
            PhaseVisit("kickoff", T0, TransitionCause.TASKS_COMPLETED),
        ),
    )
    ev = evaluate(kickoff, facts(crm_phase="Training", written_phase="kickoff"), pb, at_day(2), onboarding_id=OID)
    assert ev.state is not None
    assert ev.state.phase == "training"
    assert ev.state.manual_phase == "training"
    assert [t.cause for t in ev.transitions] == [TransitionCause.MANUAL]
    phases = {t.phase for t in ev.tasks}
    assert phases == {"handoff", "kickoff", "training"}  # discovery and configuration were skipped
    # Next run: the engine wrote "training"; the skipped phases' tasks are not required.
    specs = {t.key: done(t.key, at_day(3)) for t in ev.tasks if t.phase == "training"}
    ev2 = evaluate(
        ev.state,
        facts(tasks=specs, crm_phase="training", written_phase="training"),
        pb,
        at_day(3),
        onboarding_id=OID,
    )
    assert ev2.state is not None
    assert ev2.state.phase == "go_live"


def test_manual_step_back_stays_put() -> None:
    pb = default_pb()
    state = state_in("configuration")
    discovery = evaluate(state_in("discovery"), facts(), pb, at_day(4), onboarding_id=OID).tasks
    tasks = {t.key: done(t.key, at_day(8)) for t in discovery}
    ev = evaluate(
        state,
        facts(tasks=tasks, crm_phase="discovery", written_phase="configuration"),
        pb,
        at_day(12),
        onboarding_id=OID,
    )
    assert ev.state is not None
    assert ev.state.phase == "discovery"
    for day in (13, 14, 20):
        ev = evaluate(
            ev.state,
            facts(tasks=tasks, crm_phase="discovery", written_phase="discovery"),
            pb,
            at_day(day),
            onboarding_id=OID,
        )
        assert ev.state is not None
        assert ev.state.phase == "discovery"
        assert ev.transitions == ()


def test_stale_crm_value_equal_to_written_is_not_manual_and_unknown_value_warns() -> None:
    pb = default_pb()
    state = state_in("discovery")
    ev = evaluate(state, facts(crm_phase="kickoff", written_phase="kickoff"), pb, at_day(4), onboarding_id=OID)
    assert ev.state is not None
    assert ev.state.phase == "discovery"
    assert ev.warnings == ()
    ev = evaluate(state, facts(crm_phase="Party time", written_phase="discovery"), pb, at_day(4), onboarding_id=OID)
    assert ev.state is not None
    assert ev.state.phase == "discovery"
    assert ev.warnings == ("unknown phase 'Party time' in the CRM phase field; ignored",)


def test_lost_cancels_and_rewon_resumes_at_the_same_phase() -> None:
    pb = default_pb()
    state = state_in("discovery")
    lost = evaluate(state, facts(make_deal(won=False)), pb, at_day(5), onboarding_id=OID)
    assert lost.state is not None
    assert lost.state.status == OnboardingStatus.CANCELLED
    assert lost.state.cancelled_at == at_day(5)
    assert lost.tasks == ()
    assert [t.cause for t in lost.transitions] == [TransitionCause.DEAL_LOST]
    assert lost.fields[ObjectKind.DEAL]["status"] == "cancelled"
    still = evaluate(lost.state, facts(make_deal(won=False)), pb, at_day(9), onboarding_id=OID)
    assert still.transitions == ()
    assert still.fields == lost.fields
    rewon = evaluate(lost.state, facts(), pb, at_day(10), onboarding_id=OID)
    assert rewon.state is not None
    assert rewon.state.status == OnboardingStatus.ACTIVE
    assert rewon.state.phase == "discovery"
    assert rewon.state.cancelled_at is None
    assert [t.cause for t in rewon.transitions] == [TransitionCause.DEAL_REWON]
    assert rewon.tasks


def test_fields_are_stable_for_a_no_change_rerun() -> None:
    sim = Sim()
    sim.step(at_day(0))
    first = evaluate(sim.state, facts(tasks=sim.tasks), default_pb(), at_day(0, 9), onboarding_id=OID)
    again = evaluate(
        first.state,
        facts(tasks=sim.tasks),
        default_pb(),
        at_day(0, 9) + timedelta(seconds=5),
        onboarding_id=OID,
    )
    assert again.fields == first.fields
    assert again.transitions == ()
    values = first.fields[ObjectKind.DEAL]
    assert set(values) == set(default_pb().field_names())
    assert values == first.fields[ObjectKind.ACCOUNT]
    assert values["day"] == "0"
    assert values["planned_days"] == "30"
    assert values["next_step"] == "Hand off Acme to Customer Success"  # due with assign_csm: playbook order
    assert values["next_step_due"] == "2025-03-04"
    assert values["health_score"] == "100"
    assert values["health_status"] == "healthy"


def test_overdue_milestone_puts_onboarding_at_risk_and_recovery_restores() -> None:
    pb = default_pb()
    state = state_in("discovery")
    specs = evaluate(state, facts(), pb, at_day(4), onboarding_id=OID).tasks
    tasks = {s.key: open_(s.key, due=s.due_at) for s in specs}
    late = evaluate(state, facts(tasks=tasks), pb, at_day(20), onboarding_id=OID)
    assert late.state is not None
    assert late.state.status == OnboardingStatus.AT_RISK
    assert late.state.phase == "discovery"
    reasons = late.fields[ObjectKind.DEAL]["health_reasons"] or ""
    assert "required task(s) overdue" in reasons
    assert "milestone(s) late by more than a week" in reasons
    assert [t.cause for t in late.transitions] == [TransitionCause.RULE]
    recovered = {k: done(k, at_day(20)) for k in tasks}
    ev = evaluate(late.state, facts(tasks=recovered), pb, at_day(20, 13), onboarding_id=OID)
    assert ev.state is not None
    assert ev.state.status == OnboardingStatus.ACTIVE
    assert ev.state.phase == "configuration"


def test_review_extends_when_unhealthy() -> None:
    pb = default_pb()
    unhappy = make_account({"active_users": "10", "licensed_users": "100", "weekly_logins": "1", "nps": "4"})
    state = state_in("review", go_live_at=at_day(30))
    specs = evaluate(state, facts(account=unhappy), pb, at_day(60), onboarding_id=OID).tasks
    assert "account_manager_handoff" not in {s.template_key for s in specs}
    tasks = {s.key: done(s.key, at_day(90)) for s in specs}
    ev = evaluate(state, facts(tasks=tasks, account=unhappy), pb, at_day(90), onboarding_id=OID)
    assert ev.state is not None
    assert ev.state.status == OnboardingStatus.EXTENDED
    assert ev.state.phase == "review"
    assert "recovery_plan" in {t.template_key for t in ev.tasks}
    happy = make_account({"active_users": "90", "licensed_users": "100", "weekly_logins": "4", "nps": "9"})
    ev2 = evaluate(ev.state, facts(tasks=tasks, account=happy), pb, at_day(95), onboarding_id=OID)
    assert ev2.state is not None
    assert ev2.state.phase == "review"
    assert {"recovery_plan", "account_manager_handoff"} <= {t.template_key for t in ev2.tasks}
    all_done = {t.key: done(t.key, at_day(96)) for t in ev2.tasks}
    ev3 = evaluate(ev2.state, facts(tasks=all_done, account=happy), pb, at_day(96), onboarding_id=OID)
    assert ev3.state is not None
    assert ev3.state.status == OnboardingStatus.COMPLETED
    assert ev3.state.phase == "completed"
    assert ev3.state.completed_at == at_day(96)
    assert ev3.tasks == ()


def test_account_name_falls_back_to_deal_name_without_account() -> None:
    f = facts()
    f = type(f)(deal=f.deal)
    ev = evaluate(None, f, default_pb(), at_day(0), onboarding_id=OID)
    assert ev.tasks[0].title == "Hand off Acme rollout to Customer Success"
    assert make_account().name == "Acme"

"""Catch-up: onboardings already under way are adopted, not replayed; late phases move the plan."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from onboarding_sim import OID, T0, Sim, at_day, default_pb, facts, make_deal

from onboard_sync.onboarding.calendar import UTC_CALENDAR
from onboard_sync.onboarding.catchup import CatchUp, CatchUpPolicy
from onboard_sync.onboarding.machine import evaluate
from onboard_sync.onboarding.state import OnboardingStatus, TaskFact, TransitionCause
from onboard_sync.records import TaskStatus, Ticket

REPLAY = CatchUp(CatchUpPolicy.REPLAY)


def _first_sight(day: float, **kwargs: object) -> object:
    return evaluate(None, facts(make_deal(close=T0), **kwargs), default_pb(), at_day(day), onboarding_id=OID)  # type: ignore[arg-type]


def test_a_deal_won_before_install_joins_the_phase_its_plan_is_in() -> None:
    now = at_day(15)
    ev = _first_sight(15)
    state = ev.state
    assert state is not None
    assert state.phase == "configuration", "mid-market day 15 is configuration (days 11-20)"
    assert state.adopted_at == now
    assert state.history[0].cause == TransitionCause.ADOPTED
    assert [t.cause for t in ev.transitions] == [TransitionCause.STARTED, TransitionCause.ADOPTED]
    assert "adopted on day 15 at Configuration" in ev.transitions[-1].detail
    assert state.plan_shift_days == 4, "configuration was planned to begin on day 11"


def test_tasks_of_passed_phases_are_skipped_with_a_reason_and_never_created() -> None:
    ev = _first_sight(15)
    skipped = {s.spec.template_key: s.reason for s in ev.skipped}
    assert {"sales_handoff", "assign_csm", "kickoff_call", "success_metrics"} <= set(skipped)
    assert all(s.spec.phase in ("handoff", "kickoff", "discovery") for s in ev.skipped)
    assert skipped["kickoff_call"] == (
        "Kickoff was planned to end on 2025-03-06, before onboard-sync began following this customer on 2025-03-18"
    )
    assert not {t.template_key for t in ev.tasks} & set(skipped), "a skipped task is not created"


def test_no_task_of_the_adopted_phase_is_due_before_it_is_created() -> None:
    for day in (1, 2, 5, 9, 15, 24, 29, 40, 70):
        ev = _first_sight(day)
        assert ev.tasks, f"day {day}: the joined phase has tasks"
        late = [(t.key, t.due_at) for t in ev.tasks if t.due_at <= at_day(day)]
        assert not late, f"day {day}: born overdue {late}"


def test_the_plan_moves_and_its_length_says_so() -> None:
    ev = _first_sight(15)
    fields = next(iter(ev.fields.values()))
    assert fields["planned_days"] == "34", "30 planned days plus the 4 days the plan moved"
    assert fields["day"] == "15"
    assert ev.health is not None
    assert ev.health.score == 100, "nothing is late yet"


def test_required_task_gates_do_not_block_on_skipped_tasks() -> None:
    """Completing the adopted phase's tasks advances it although earlier phases' tasks never existed."""
    sim = Sim()
    sim.step(at_day(15))
    assert sim.state is not None
    assert sim.state.phase == "configuration"
    sim.complete_all(at_day(16))
    sim.step(at_day(16))
    assert sim.state.phase == "training"


def test_alerts_wait_out_the_grace_period_and_count_lateness_from_adoption() -> None:
    """An urgent ticket open for ten days before adoption is not a stale blocker on day one; it
    becomes one blocker_days after adoption, and the alert fires once the grace period is over."""
    ticket = Ticket(
        source="zd",
        id="t1",
        updated_at=T0,
        subject="Import fails",
        account_id="a1",
        status="open",
        priority="urgent",
        created_at=at_day(5),
    )
    pb, policy = default_pb(), CatchUp()
    ev = evaluate(None, facts(make_deal(close=T0), tickets=(ticket,)), pb, at_day(15), onboarding_id=OID)
    assert ev.alerts == (), "no alert on the day of adoption (Tuesday)"
    assert ev.state is not None
    assert ev.state.status == OnboardingStatus.ACTIVE
    assert ev.health is not None
    assert ev.health.score == 100, "a ticket's age counts from adoption"
    state = ev.state
    thursday = evaluate(state, facts(make_deal(close=T0), tickets=(ticket,)), pb, at_day(17), onboarding_id=OID)
    assert policy.holding_alerts(state.adopted_at, at_day(17), UTC_CALENDAR)
    assert thursday.alerts == (), "held for three working days"
    saturday = evaluate(state, facts(make_deal(close=T0), tickets=(ticket,)), pb, at_day(19), onboarding_id=OID)
    assert not policy.holding_alerts(state.adopted_at, at_day(19), UTC_CALENDAR)
    assert "blockers" in saturday.alerts, "four days after adoption the ticket is a stale blocker"


def test_replay_keeps_the_plan_fixed_and_says_why_a_task_is_overdue() -> None:
    ev = evaluate(None, facts(make_deal(close=T0)), default_pb(), at_day(15), onboarding_id=OID, catch_up=REPLAY)
    assert ev.state is not None
    assert ev.state.phase == "handoff"
    assert ev.state.adopted_at is None
    overdue = [t for t in ev.tasks if t.due_at <= at_day(15)]
    assert overdue, "replay creates the handoff tasks, already overdue"
    assert all('catch_up = "replay"' in t.note for t in overdue), "each says why"


def test_a_phase_entered_late_after_an_outage_moves_the_plan_instead_of_creating_overdue_tasks() -> None:
    """Kickoff's tasks were done on time, but onboard-sync was down from day 3 to day 13: discovery
    (planned days 4-10) begins on day 13 and its tasks keep their planned lead time."""
    sim = Sim()
    for day in range(0, 2):
        sim.complete_due(at_day(day))
        sim.step(at_day(day))
    assert sim.state is not None
    assert sim.state.phase == "kickoff"
    sim.complete_all(at_day(3))  # the people finish kickoff while onboard-sync is down
    ev = sim.step(at_day(13))
    assert sim.state.phase == "discovery"
    assert sim.state.plan_shift_days == 9, "discovery was planned to begin on day 4"
    new = [t for t in ev.tasks if t.phase == "discovery"]
    assert new
    assert all(t.due_at > at_day(13) for t in new), [(t.key, t.due_at) for t in new]
    moved = [t for t in ev.transitions if t.cause == TransitionCause.TASKS_COMPLETED]
    assert "Discovery began 9 day(s) later than planned: the plan moves 9 day(s)" in moved[-1].detail


def test_repeated_tasks_missed_during_an_outage_are_skipped_and_one_is_still_created() -> None:
    """Weekly check-ins of the adoption phase (day 37, 44, 51, ...) after three weeks of downtime:
    the missed ones are recorded as skipped, the newest is created due as soon as a person can."""
    sim = Sim()
    sim.step(at_day(31))  # adopted at adoption (plan days 31-60), nothing created yet for it
    assert sim.state is not None
    assert sim.state.phase == "adoption"
    first = {k for k in sim.tasks if ":weekly_checkin:" in k}
    assert first
    ev = sim.step(at_day(55))
    missed = [s for s in ev.skipped if s.spec.template_key == "weekly_checkin"]
    assert missed, "the weeks onboard-sync missed"
    assert all("missed" in s.reason for s in missed)
    created = [t for t in ev.tasks if t.template_key == "weekly_checkin" and t.key not in first]
    assert created, "the newest check-in is still created"
    assert all(t.due_at > at_day(55) for t in created), "and it is not born overdue"


def test_an_onboarding_seen_on_its_start_day_is_not_adopted() -> None:
    ev = _first_sight(0)
    assert ev.state is not None
    assert ev.state.adopted_at is None
    assert ev.skipped == ()
    assert ev.state.phase == "handoff"


def test_a_plan_that_ended_before_adoption_completes_without_creating_anything() -> None:
    ev = _first_sight(200)
    assert ev.state is not None
    assert ev.state.status == OnboardingStatus.COMPLETED
    assert ev.tasks == ()
    assert len(ev.skipped) > 20


def test_tasks_created_keep_the_due_date_they_were_created_with() -> None:
    ev = _first_sight(15)
    assert ev.state is not None
    spec = ev.tasks[0]
    recorded = TaskFact(spec.key, spec.template_key, TaskStatus.OPEN, due_at=spec.due_at + timedelta(days=2))
    again = evaluate(
        ev.state,
        dataclasses.replace(facts(make_deal(close=T0)), tasks={spec.key: recorded}),
        default_pb(),
        at_day(16),
        onboarding_id=OID,
    )
    assert {t.key: t.due_at for t in again.tasks}[spec.key] == recorded.due_at

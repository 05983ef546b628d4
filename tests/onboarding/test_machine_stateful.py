"""Hypothesis stateful test of ``evaluate`` (default playbook) against a simple reference model.

Rules act like the people and the clock around an onboarding: complete one or every open task,
delete one in the CRM, set the phase by hand in the CRM, lose and re-win the deal, let days pass.
After every step the machine is compared with the model: phases only move forward unless set by
hand, task keys are unique, a cancelled or completed onboarding creates no tasks, a deleted task
is never created again, and re-evaluating the same facts gives the same fields and tasks.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from onboarding_sim import Sim, at_day, default_pb, facts, make_deal

from onboard_sync.onboarding.machine import evaluate
from onboard_sync.onboarding.state import OnboardingStatus
from onboard_sync.records import TaskStatus

TERMINAL = (OnboardingStatus.CANCELLED, OnboardingStatus.COMPLETED)


class OnboardingMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.sim = Sim()
        self.now = at_day(0)
        self.phases = default_pb().phase_keys()
        # the reference model
        self.model_phase: str | None = None
        self.by_hand = False
        self.before_status: OnboardingStatus | None = None
        self.new_keys: set[str] = set()
        self.step()

    # --- driving the machine ---------------------------------------------------------
    def step(self) -> None:
        self.before_status = self.sim.state.status if self.sim.state else None
        before_keys = set(self.sim.tasks)
        previous = self.sim.state.phase if self.sim.state else None
        ev = self.sim.step(self.now)
        self.new_keys = set(self.sim.tasks) - before_keys
        self.last = ev
        if ev.state is not None:
            phase = ev.state.phase
            if previous is not None and not self.by_hand and phase in self.phases and previous in self.phases:
                assert self.phases.index(phase) >= self.phases.index(previous), (
                    f"phase moved back from {previous} to {phase} without a person"
                )
            if self.by_hand and self.model_phase is not None and ev.state.status not in TERMINAL:
                assert phase == self.model_phase, "a phase set by hand wins"
        self.by_hand = False

    # --- rules -----------------------------------------------------------------------
    @rule(index=st.integers(0, 50))
    def complete_one(self, index: int) -> None:
        open_keys = sorted(k for k, t in self.sim.tasks.items() if t.status is TaskStatus.OPEN)
        if open_keys:
            self.sim.complete(open_keys[index % len(open_keys)], self.now)
        self.step()

    @rule(index=st.integers(0, 50))
    def delete_one(self, index: int) -> None:
        open_keys = sorted(k for k, t in self.sim.tasks.items() if t.status is TaskStatus.OPEN)
        if open_keys:
            self.sim.delete(open_keys[index % len(open_keys)], self.now)
        self.step()

    @rule()
    def complete_all(self) -> None:
        self.sim.complete_all(self.now)
        self.step()

    @precondition(lambda self: self.sim.state is not None and self.sim.state.status not in TERMINAL)
    @rule(phase=st.sampled_from(default_pb().phase_keys()))
    def set_phase_by_hand(self, phase: str) -> None:
        self.sim.crm_phase = phase
        self.model_phase = phase
        self.by_hand = True
        self.step()

    @rule()
    def lose_deal(self) -> None:
        self.sim.deal = dataclasses.replace(self.sim.deal, stage="closedlost", is_won=False, is_closed=True)
        self.step()

    @rule()
    def rewin_deal(self) -> None:
        self.sim.deal = make_deal()
        self.step()

    @rule(days=st.integers(0, 12))
    def advance_clock(self, days: int) -> None:
        self.now += timedelta(days=days, hours=1)
        self.step()

    # --- invariants ------------------------------------------------------------------
    @invariant()
    def task_keys_are_unique(self) -> None:
        keys = [spec.key for spec in self.last.tasks]
        assert len(keys) == len(set(keys))

    @invariant()
    def finished_onboardings_create_no_tasks(self) -> None:
        state = self.sim.state
        if state is not None and state.status in TERMINAL and self.before_status in TERMINAL:
            assert not self.new_keys, f"{state.status} onboarding created {sorted(self.new_keys)}"

    @invariant()
    def deleted_tasks_are_not_created_again(self) -> None:
        deleted = {k for k, t in self.sim.tasks.items() if t.status is TaskStatus.DELETED}
        assert not deleted & self.new_keys, "a deleted task was created again"

    @invariant()
    def re_evaluation_is_stable(self) -> None:
        if self.sim.state is None:
            return
        current = facts(
            self.sim.deal,
            tasks=self.sim.tasks,
            account=self.sim.account,
            crm_phase=self.sim.written_phase,
            written_phase=self.sim.written_phase,
        )
        first = evaluate(self.sim.state, current, self.sim.playbook, self.now, onboarding_id=self.sim.state.id)
        second = evaluate(first.state, current, self.sim.playbook, self.now, onboarding_id=self.sim.state.id)
        assert first.fields == second.fields
        assert [t.key for t in first.tasks] == [t.key for t in second.tasks]
        assert first.state == second.state


OnboardingMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
TestOnboardingMachine = OnboardingMachine.TestCase

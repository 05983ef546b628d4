"""The onboarding state machine: ``evaluate(state, facts, playbook, now)`` → :class:`Evaluation`.

A pure function (no I/O, no clock: ``now`` is given) called by the sync engine once per
onboarding per run. In order it:

1. starts an onboarding for a newly won deal (segment by the playbook's segment rules or
   the ``resolve_segment`` override; start = the deal's close date, or ``now``); one first seen
   on a later day than it started is adopted (``onboarding.catchup``: it joins the plan at the
   phase the plan says, the tasks of the phases before are recorded as skipped);
2. cancels it when the deal is lost or reopened, re-activates it when won again;
3. adopts a phase a person set by hand in the CRM (never fights it);
4. advances through phases whose required tasks are completed (or whose ``exit_when`` /
   timeline says so), records go-live, extends a phase whose ``extend_when`` holds, and
   completes the onboarding on entering the terminal phase;
5. scores health (:mod:`onboard_sync.onboarding.health`) and flips ACTIVE ↔ AT_RISK;
6. lists the tasks that should exist (:mod:`onboard_sync.onboarding.timeline`) and the
   canonical field values (day-granular, so a rerun a few seconds later writes nothing).

Days and due dates follow the people's calendar (``onboarding.calendar``: time zone, due time,
business days); a phase that begins later than planned moves the plan (``onboarding.catchup``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from onboard_sync.onboarding.calendar import UTC_CALENDAR, Calendar
from onboard_sync.onboarding.catchup import CatchUp, joining_phase, joins_late, passed_phase_tasks, plan_shift
from onboard_sync.onboarding.fields import onboarding_fields
from onboard_sync.onboarding.health import HealthReport, assess, collect_metrics
from onboard_sync.onboarding.state import (
    OPEN_STATUSES,
    CustomerFacts,
    Evaluation,
    OnboardingState,
    OnboardingStatus,
    PhaseVisit,
    SkippedTask,
    TaskSpec,
    Transition,
    TransitionCause,
)
from onboard_sync.onboarding.timeline import Schedule, Stay, moved, phase_specs, visits
from onboard_sync.records import ObjectKind, TaskStatus
from onboard_sync.rules.activation import build_activation, with_scalars
from onboard_sync.rules.expressions import Condition
from onboard_sync.rules.model import Phase, Playbook, Segment

_FINISHED = (OnboardingStatus.COMPLETED, OnboardingStatus.CANCELLED)


def evaluate(
    state: OnboardingState | None,
    facts: CustomerFacts,
    playbook: Playbook,
    now: datetime,
    *,
    onboarding_id: str,
    segment_override: str | None = None,
    calendar: Calendar = UTC_CALENDAR,
    catch_up: CatchUp = CatchUp(),
) -> Evaluation:
    """Evaluate one onboarding at ``now`` (aware UTC). See the module docstring."""
    warnings: list[str] = []
    transitions: list[Transition] = []
    new = state is None
    if state is None:
        if not facts.deal.is_won:
            return Evaluation(state=None)
        state = _start(facts, playbook, now, onboarding_id, segment_override, warnings)
        transitions.append(
            Transition(state.id, None, state.phase, None, state.status, TransitionCause.STARTED, state.started_at)
        )
    run = _Run(state, facts, playbook, now, onboarding_id, warnings, transitions, calendar, catch_up)
    if new and catch_up.adopts and joins_late(state.started_at, now, calendar):
        run.adopt()
    run.lifecycle()
    run.manual()
    run.advance()
    run.first_value()
    report = run.health()
    run.status_from_health(report)
    tasks = run.tasks() if run.state.status in OPEN_STATUSES else ()
    return Evaluation(
        state=run.state,
        tasks=tuple(tasks),
        fields=run.fields(tasks),
        transitions=tuple(transitions),
        warnings=tuple(warnings),
        alerts=run.active_alerts(),
        health=run.health(),
        skipped=tuple(run.skipped + run.missed(tasks)),
    )


def _start(
    facts: CustomerFacts,
    playbook: Playbook,
    now: datetime,
    onboarding_id: str,
    segment_override: str | None,
    warnings: list[str],
) -> OnboardingState:
    segment = _choose_segment(facts, playbook, segment_override, warnings)
    close = facts.deal.close_date
    started = close if close is not None and close <= now else now
    first = playbook.phases[0].key
    return OnboardingState(
        id=onboarding_id,
        source=facts.deal.source,
        deal_id=facts.deal.id,
        account_id=facts.account.id if facts.account else None,
        segment=segment.key,
        phase=first,
        status=OnboardingStatus.ACTIVE,
        started_at=started,
        phase_entered_at=started,
        history=(PhaseVisit(first, started, TransitionCause.STARTED),),
        playbook=playbook.name,
    )


def _choose_segment(facts: CustomerFacts, playbook: Playbook, override: str | None, warnings: list[str]) -> Segment:
    if override is not None:
        chosen = playbook.segment(override)
        if chosen is not None:
            return chosen
        warnings.append(f"segment {override!r} from resolve_segment is not in the playbook; using the rules")
    activation = build_activation(deal=facts.deal, account=facts.account)
    for segment in playbook.segments:
        if segment.when is not None and segment.when.evaluate(activation):
            return segment
    return default_segment(playbook)


def default_segment(playbook: Playbook) -> Segment:
    """The first segment without a ``when`` (else the last segment)."""
    return next((s for s in playbook.segments if s.when is None), playbook.segments[-1])


class _Run:
    """One evaluation in progress: the evolving state plus memoised conditions and health."""

    def __init__(
        self,
        state: OnboardingState,
        facts: CustomerFacts,
        playbook: Playbook,
        now: datetime,
        onboarding_id: str,
        warnings: list[str],
        transitions: list[Transition],
        calendar: Calendar,
        catch_up: CatchUp,
    ) -> None:
        self.state, self.facts, self.pb, self.now = state, facts, playbook, now
        self.oid, self.warnings, self.transitions = onboarding_id, warnings, transitions
        self.cal, self.catch_up = calendar, catch_up
        self.skipped: list[SkippedTask] = []
        segment = playbook.segment(state.segment)
        if segment is None:
            segment = default_segment(playbook)
            warnings.append(f"segment {state.segment!r} is not in the playbook; using {segment.key!r}")
        self.segment = segment
        if not playbook.has_phase(state.phase):
            warnings.append(f"phase {state.phase!r} is not in the playbook; restarting at the first phase")
            self._move(playbook.phases[0].key, TransitionCause.RULE, detail="phase no longer in playbook")
        account = facts.account
        self.values = {
            "account.name": account.name if account else facts.deal.name,
            "account.domain": (account.domain or "") if account else "",
            "deal.name": facts.deal.name,
            "deal.stage": facts.deal.stage,
            "segment": segment.key,
            "segment_label": segment.label,
        }
        self._activations: dict[tuple[Any, ...], Mapping[str, Any]] = {}
        self._base: dict[datetime | None, Mapping[str, Any]] = {}
        self._specs: dict[tuple[Any, ...], tuple[list[TaskSpec], list[SkippedTask]]] = {}
        self._visits_key: tuple[Any, ...] | None = None
        self._visits_map: dict[str, Stay] = {}
        self._verdicts: dict[tuple[int, tuple[Any, ...]], bool] = {}
        self._health: dict[tuple[Any, ...], HealthReport] = {}
        self._metrics: dict[datetime | None, dict[str, float]] = {}

    # -- state changes ---------------------------------------------------------------------------
    def _set(self, cause: TransitionCause, detail: str = "", **changes: Any) -> None:
        old = self.state
        self.state = dataclasses.replace(old, **changes)
        self.transitions.append(
            Transition(self.oid, old.phase, self.state.phase, old.status, self.state.status, cause, self.now, detail)
        )

    def _move(self, phase: str, cause: TransitionCause, detail: str = "", **changes: Any) -> None:
        history = moved(self.state, phase, self.now, PhaseVisit(phase, self.now, cause))
        changes.setdefault("manual_phase", None)
        if self.catch_up.adopts:
            shift = plan_shift(self.schedule(), self.pb.phase(phase), self.now)
            if shift != self.state.plan_shift_days:
                detail = "; ".join(filter(None, [detail, _shift_text(shift, self.pb.phase(phase).label)]))
            changes["plan_shift_days"] = shift
        self._set(cause, detail, phase=phase, phase_entered_at=self.now, history=history, **changes)

    def schedule(self) -> Schedule:
        """Due dates as of now, the plan moved by the current shift."""
        return Schedule(
            self.pb,
            self.segment,
            self.cal,
            self.state.started_at,
            self.now,
            self.state.plan_shift_days,
            floor=self.catch_up.adopts,
        )

    def adopt(self) -> None:
        """First seen after its start: join the plan at the phase it says now, skip the phases that
        ended before (their tasks recorded as skipped), and move the plan so the joined phase's tasks
        keep their lead time."""
        original = dataclasses.replace(self.schedule(), shift_days=0)
        elapsed = self.cal.elapsed_days(self.state.started_at, self.now)
        index = joining_phase(original, elapsed)
        phases = self.pb.phases
        target = phases[index]
        self.skipped = passed_phase_tasks(
            original, phases[:index], onboarding_id=self.oid, values=self.values, adopted_at=self.now
        )
        shift = plan_shift(original, target, self.now)
        changes: dict[str, Any] = {}
        live = self.pb.go_live_phase
        if live and self.pb.phase_index(live) < index:
            changes["go_live_at"] = self.now
        if index == len(phases) - 1:
            changes.update(status=OnboardingStatus.COMPLETED, completed_at=self.now)
        parts = [
            f"adopted on day {elapsed} at {target.label}",
            f"{len(self.skipped)} task(s) of {index} earlier phase(s) skipped" if index else "",
            _shift_text(shift, target.label),
        ]
        self._set(
            TransitionCause.ADOPTED,
            "; ".join(p for p in parts if p),
            phase=target.key,
            phase_entered_at=self.now,
            history=(PhaseVisit(target.key, self.now, TransitionCause.ADOPTED),),
            adopted_at=self.now,
            plan_shift_days=shift,
            **changes,
        )

    def lifecycle(self) -> None:
        """Deal lost or reopened → CANCELLED; won again → back to ACTIVE at the same phase."""
        status = self.state.status
        if not self.facts.deal.is_won and status not in _FINISHED:
            self._set(TransitionCause.DEAL_LOST, status=OnboardingStatus.CANCELLED, cancelled_at=self.now)
        elif self.facts.deal.is_won and status == OnboardingStatus.CANCELLED:
            self._set(TransitionCause.DEAL_REWON, status=OnboardingStatus.ACTIVE, cancelled_at=None)

    def manual(self) -> None:
        """Adopt a phase a person set in the CRM field by hand (key or label)."""
        crm = self.facts.crm_phase
        if crm is None or not crm.strip():
            return
        key = self.pb.resolve_phase(crm)
        if key is None:
            if crm != self.facts.written_phase:
                self.warnings.append(f"unknown phase {crm!r} in the CRM phase field; ignored")
            return
        if key == self.pb.resolve_phase(self.facts.written_phase) or key == self.state.phase:
            return
        if self.state.status == OnboardingStatus.CANCELLED:
            self.warnings.append(f"phase {crm!r} set by hand on a cancelled onboarding; ignored")
            return
        changes: dict[str, Any] = {"manual_phase": key}
        index = self.pb.phase_index(key)
        if index == len(self.pb.phases) - 1:
            changes.update(status=OnboardingStatus.COMPLETED, completed_at=self.now)
        elif self.state.status in (OnboardingStatus.COMPLETED, OnboardingStatus.EXTENDED):
            changes.update(status=OnboardingStatus.ACTIVE, completed_at=None)
        live = self.pb.go_live_phase
        if live and self.state.go_live_at is None and index > self.pb.phase_index(live):
            changes["go_live_at"] = self.now
        self._move(key, TransitionCause.MANUAL, detail=f"set by hand in the CRM to {crm!r}", **changes)

    def advance(self) -> None:
        """Move forward while the current phase is done; at most once through the playbook."""
        if self.state.status not in OPEN_STATUSES or self._just_manual():
            return
        last = len(self.pb.phases) - 1
        for _ in range(last):
            index = self.pb.phase_index(self.state.phase)
            if index >= last:
                return
            phase = self.pb.phases[index]
            if not self._done(phase):
                return
            if self._decide(phase):
                if self.state.status == OnboardingStatus.COMPLETED:
                    return
                continue
            if phase.extend_when is not None and self._holds(phase.extend_when):
                if self.state.status != OnboardingStatus.EXTENDED:
                    self._set(TransitionCause.RULE, f"{phase.key} extended", status=OnboardingStatus.EXTENDED)
                return
            changes: dict[str, Any] = {}
            if phase.key == self.pb.go_live_phase and self.state.go_live_at is None:
                changes["go_live_at"] = self.now
            if index + 1 == last:
                changes.update(status=OnboardingStatus.COMPLETED, completed_at=self.now)
            elif self.state.status == OnboardingStatus.EXTENDED:
                changes["status"] = OnboardingStatus.ACTIVE
            self._move(self.pb.phases[index + 1].key, TransitionCause.TASKS_COMPLETED, **changes)
            if index + 1 == last:
                return

    def _decide(self, phase: Phase) -> bool:
        """Take the first of ``phase``'s decision points whose ``when`` holds (jump forward)."""
        decision = next((d for d in phase.decisions if self._holds(d.when)), None)
        if decision is None:
            return False
        target = self.pb.phase_index(decision.goto)
        changes: dict[str, Any] = {}
        live = self.pb.go_live_phase
        if live and self.state.go_live_at is None and self.pb.phase_index(live) < target:
            changes["go_live_at"] = self.now
        if target == len(self.pb.phases) - 1:
            changes.update(status=OnboardingStatus.COMPLETED, completed_at=self.now)
        elif self.state.status == OnboardingStatus.EXTENDED:
            changes["status"] = OnboardingStatus.ACTIVE
        detail = f"decision {phase.key}.{decision.key}: {decision.label}"
        self._move(decision.goto, TransitionCause.RULE, detail=detail, **changes)
        return True

    def first_value(self) -> None:
        """Record ``first_value_at``: when the first task marked ``first_value`` was completed."""
        if self.state.first_value_at is not None:
            return
        done = [
            t.completed_at
            for t in self.facts.tasks.values()
            if t.status == TaskStatus.COMPLETED
            and t.completed_at is not None
            and (template := self.pb.template(t.template_key)) is not None
            and template.first_value
        ]
        if done:
            self.state = dataclasses.replace(self.state, first_value_at=min(done))

    def _just_manual(self) -> bool:
        return any(t.cause == TransitionCause.MANUAL for t in self.transitions)

    def _done(self, phase: Phase) -> bool:
        """Required tasks all completed (as expected now and as created), then ``exit_when``.

        In a phase set by hand, at least one required task must have been completed after
        the change, so the machine does not undo the person's choice at once.
        """
        tasks = self.facts.tasks
        required = [s for s in self._phase_specs(phase) if s.required]
        created = [t for t in tasks.values() if self._required_in(t.template_key, phase)]
        if not required and not created:
            if phase.exit_when is not None:
                return self._holds(phase.exit_when)
            end = self.pb.scaled_day(phase.plan_end_day, self.segment)
            return self._plan_elapsed() >= end
        facts = [tasks.get(s.key) for s in required] + created
        if any(f is None or f.status == TaskStatus.OPEN for f in facts):  # deleted by a person: not needed
            return False
        if self.state.manual_phase == phase.key:
            entered = self.state.phase_entered_at
            # strictly after: a completion at the instant the change was seen happened before it
            if not any(f is not None and f.completed_at and f.completed_at > entered for f in facts):
                return False
        return phase.exit_when is None or self._holds(phase.exit_when)

    def _required_in(self, template_key: str, phase: Phase) -> bool:
        template = self.pb.template(template_key)
        return template is not None and template.phase == phase.key and template.required

    # -- conditions and health -------------------------------------------------------------------
    def _snapshot(self) -> tuple[Any, ...]:
        return (self.state.phase, self.state.status, self.state.go_live_at)

    def _activation(self, health: HealthReport | None) -> Mapping[str, Any]:
        key = (*self._snapshot(), health.score if health else None)
        if key not in self._activations:
            elapsed = self.cal.elapsed_days(self.state.started_at, self.now)
            live = self.state.go_live_at
            if live not in self._base:
                metrics = self._metric_values()
                self._base[live] = build_activation(deal=self.facts.deal, account=self.facts.account, metrics=metrics)
            self._activations[key] = with_scalars(
                self._base[live],
                segment=self.segment.key,
                phase=self.state.phase,
                status=str(self.state.status),
                days_since_start=elapsed,
                plan_day=self.pb.plan_day(self._plan_elapsed(), self.segment),
                days_in_phase=self.cal.elapsed_days(self.state.phase_entered_at, self.now),
                health_score=health.score if health else 100,
                health_status=health.status if health else "healthy",
            )
        return self._activations[key]

    def _holds(self, condition: Condition) -> bool:
        return bool(self._verdict(condition))

    def _verdict(self, condition: Condition) -> bool | None:
        """Evaluate ``condition`` now; memoised per evaluation and, when it reads only scalar
        names and metrics, across evaluations (keyed by exactly the values it reads)."""
        key = (id(condition), self._snapshot())
        if key not in self._verdicts:
            report = self.health() if "health" in condition.names else None
            if condition.memoisable:
                self._verdicts[key] = condition.evaluate_memo(
                    self._scalars(condition, report), lambda: self._activation(report)
                )
            else:
                self._verdicts[key] = condition.evaluate(self._activation(report))
        return self._verdicts[key]

    def _scalars(self, condition: Condition, report: HealthReport | None) -> tuple[Any, ...]:
        values = {
            "segment": self.segment.key,
            "phase": self.state.phase,
            "status": str(self.state.status),
            "days_since_start": self.cal.elapsed_days(self.state.started_at, self.now),
            "plan_day": self.pb.plan_day(self._plan_elapsed(), self.segment),
            "days_in_phase": self.cal.elapsed_days(self.state.phase_entered_at, self.now),
            "health": (report.score, report.status) if report else None,
        }
        metrics = self._metric_values()
        names = tuple(values.get(n) for n in sorted(condition.names) if n != "metrics")
        return names + tuple(metrics.get(m) for m in sorted(condition.metrics))

    def _metric_values(self) -> dict[str, float]:
        live = self.state.go_live_at
        if live not in self._metrics:
            self._metrics[live] = collect_metrics(
                self.pb, self.facts, self.now, go_live_at=live, calendar=self.cal, since=self.state.adopted_at
            )
        return self._metrics[live]

    def health(self) -> HealthReport:
        """Health for the current phase and status (memoised)."""
        key = self._snapshot()
        if key not in self._health:
            self._health[key] = assess(
                self.pb.health,
                self._metric_values(),
                live=self.state.go_live_at is not None,
                holds=self._verdict,
            )
        return self._health[key]

    def status_from_health(self, report: HealthReport) -> None:
        """Store the health and flip ACTIVE ↔ AT_RISK (a status change, not a phase change)."""
        status = self.state.status
        if status in (OnboardingStatus.ACTIVE, OnboardingStatus.AT_RISK):
            risky = report.status in self.pb.health.at_risk_statuses
            wanted = OnboardingStatus.AT_RISK if risky else OnboardingStatus.ACTIVE
            if wanted != status:
                detail = f"health {report.status} ({report.score})"
                self._set(TransitionCause.RULE, detail, status=wanted)
        self.state = dataclasses.replace(
            self.state, health_score=report.score, health_status=report.status, health_reasons=report.reasons
        )

    def _plan_elapsed(self) -> int:
        """Days into the plan: days since the start less the plan shift."""
        return max(0, self.cal.elapsed_days(self.state.started_at, self.now) - self.state.plan_shift_days)

    # -- outputs ---------------------------------------------------------------------------------
    def _phase_specs(self, phase: Phase) -> list[TaskSpec]:
        return self._phase_output(phase)[0]

    def _phase_output(self, phase: Phase) -> tuple[list[TaskSpec], list[SkippedTask]]:
        key = (phase.key, len(self.state.history), self.state.plan_shift_days, *self._snapshot())
        if key not in self._specs:
            self._specs[key] = self._compute_specs(phase)
        return self._specs[key]

    def _visits(self) -> dict[str, Stay]:
        key = (len(self.state.history), self.state.phase, self.state.phase_entered_at)
        if self._visits_key != key:
            self._visits_key, self._visits_map = key, visits(self.state)
        return self._visits_map

    def _compute_specs(self, phase: Phase) -> tuple[list[TaskSpec], list[SkippedTask]]:
        stay = self._visits().get(phase.key)
        if stay is None:
            return [], []
        return phase_specs(
            self.schedule(),
            phase,
            stay=stay,
            onboarding_id=self.oid,
            values=self.values,
            holds=self._holds,
            existing=self.facts.tasks,
        )

    def tasks(self) -> list[TaskSpec]:
        """Every task of every phase entered so far, in playbook order, without duplicates."""
        entered = self._visits()
        seen: set[str] = set()
        out: list[TaskSpec] = []
        for phase in self.pb.phases:
            if phase.key in entered:
                for spec in self._phase_specs(phase):
                    if spec.key not in seen:
                        seen.add(spec.key)
                        out.append(spec)
        return out

    def missed(self, tasks: list[TaskSpec] | tuple[TaskSpec, ...]) -> list[SkippedTask]:
        """Repeated tasks of the entered phases missed while onboard-sync was not running."""
        if self.state.status not in OPEN_STATUSES:
            return []
        wanted = {spec.key for spec in tasks}
        entered = self._visits()
        return [
            skip
            for phase in self.pb.phases
            if phase.key in entered
            for skip in self._phase_output(phase)[1]
            if skip.spec.key not in wanted
        ]

    def fields(self, tasks: tuple[TaskSpec, ...] | list[TaskSpec]) -> dict[ObjectKind, dict[str, str | None]]:
        """Canonical field values (see ``onboarding.fields``), the same for deal and account."""
        return onboarding_fields(
            self.state, self.segment, self.pb, self.now, self.health(), tasks, self.facts.tasks, self.cal
        )

    def active_alerts(self) -> tuple[str, ...]:
        """Keys of the playbook's alert rules whose condition holds now (open onboardings only; none
        during the grace period after adoption)."""
        if self.state.status not in OPEN_STATUSES:
            return ()
        if self.catch_up.holding_alerts(self.state.adopted_at, self.now, self.cal):
            return ()
        return tuple(rule.key for rule in self.pb.alerts if self._holds(rule.when))


def _shift_text(shift: int, label: str) -> str:
    if shift <= 0:
        return ""
    return f"{label} began {shift} day(s) later than planned: the plan moves {shift} day(s)"

"""Which tasks a phase wants, when they are due, and how long the customer has been onboarding.

Pure helpers for :mod:`onboard_sync.onboarding.machine`. A :class:`Schedule` holds what due dates
of one onboarding depend on: the playbook and segment, the people's calendar (time zone, due time,
business days), the start, and the *plan shift* — how many days the plan moved because the current
phase began later than planned (see ``onboarding.catchup``). :func:`phase_specs` turns a phase's
task templates into :class:`~onboarding.state.TaskSpec` objects with deterministic keys
(``"{onboarding id}:{template key}:{episode}"``) and due dates, and lists the tasks it will not
create (missed episodes) as :class:`~onboarding.state.SkippedTask`. :func:`visits` reads the phase
history.

With ``floor`` (catch-up policy "adopt") no task is born overdue: a task not yet created whose
planned due moment has passed is due at the earliest moment a person could still do it, and the
reason is noted on the task. A task already created keeps the due date it was created with.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from onboard_sync.onboarding.calendar import Calendar
from onboard_sync.onboarding.state import OnboardingState, PhaseVisit, SkippedTask, TaskFact, TaskSpec
from onboard_sync.rules.expressions import Condition
from onboard_sync.rules.model import Phase, Playbook, Segment, TaskTemplate


@dataclass(frozen=True, slots=True)
class Stay:
    """When a phase was first entered and (if it is not the current phase) last left."""

    entered_at: datetime
    left_at: datetime | None


def visits(state: OnboardingState) -> dict[str, Stay]:
    """Every phase entered so far (the current one included), from the state's history."""
    stays: dict[str, Stay] = {}
    for visit in state.history:
        first = stays.get(visit.phase)
        stays[visit.phase] = Stay(first.entered_at if first else visit.entered_at, visit.left_at)
    current = stays.get(state.phase)
    stays[state.phase] = Stay(current.entered_at if current else state.phase_entered_at, None)
    return stays


def moved(state: OnboardingState, phase: str, at: datetime, cause: PhaseVisit) -> tuple[PhaseVisit, ...]:
    """The history with the open visit closed at ``at`` and ``cause`` (the new visit) appended."""
    history = list(state.history)
    if history and history[-1].left_at is None:
        last = history[-1]
        history[-1] = PhaseVisit(last.phase, last.entered_at, last.cause, left_at=at)
    history.append(cause)
    return tuple(history)


@dataclass(frozen=True)
class Schedule:
    """The due dates of one onboarding's tasks at ``now``."""

    playbook: Playbook
    segment: Segment
    calendar: Calendar
    started_at: datetime
    now: datetime
    shift_days: int = 0
    """Days the plan moved (start-anchored due dates move by as much)."""
    floor: bool = True
    """A task not yet created is never due before ``now`` (catch-up policy "adopt")."""

    def plan_days(self, template: TaskTemplate, episode: int = 0) -> int | None:
        """Days after the start (scaled for the segment) a day-based task (episode) is due; None for ``due_hours``."""
        if template.due_hours is not None:
            return None
        return math.ceil(self.playbook.due_days(template, self.segment, episode) - 1e-9)

    def planned_due(self, template: TaskTemplate, phase_entered_at: datetime, episode: int = 0) -> datetime:
        """When the plan wants the task (episode) done: from the start (moved by the plan shift) or
        from when its phase was entered (``anchor = "phase"``)."""
        start = template.anchor == "start"
        anchor = self.started_at + timedelta(days=self.shift_days) if start else phase_entered_at
        if template.due_hours is not None:
            return self.calendar.due_after_hours(anchor, template.due_hours)
        return self.calendar.due_on_day(anchor, self.plan_days(template, episode) or 0)

    def phase_start_day(self, phase: Phase) -> int:
        """Days after the start a phase is planned to begin (scaled for the segment)."""
        return math.ceil(self.playbook.scaled_day(phase.plan_start_day, self.segment) - 1e-9)

    def phase_end_day(self, phase: Phase) -> int:
        """Days after the start a phase is planned to end (scaled for the segment)."""
        return math.ceil(self.playbook.scaled_day(phase.plan_end_day, self.segment) - 1e-9)


def phase_specs(
    schedule: Schedule,
    phase: Phase,
    *,
    stay: Stay,
    onboarding_id: str,
    values: Mapping[str, str],
    holds: Callable[[Condition], bool],
    existing: Mapping[str, TaskFact],
) -> tuple[list[TaskSpec], list[SkippedTask]]:
    """The tasks ``phase`` wants to exist by ``now``, and the missed episodes it will not create.

    A template is skipped when its ``segments`` exclude the segment or its ``when`` does not
    hold (``holds``). In a phase already left, templates with a ``when`` are not re-emitted
    (a condition that turns true later creates nothing for a past phase), and repeated
    tasks stop at the time the phase was left.

    A repeated task with a ``when`` is a loop: each episode is decided on its own. The
    newest episode is wanted only while ``when`` holds; earlier ones only if they were
    created (keys in ``existing``), so a week when the condition held keeps its task and a
    week when it did not has none.
    """
    specs: list[TaskSpec] = []
    skipped: list[SkippedTask] = []
    left = stay.left_at
    for template in phase.tasks:
        if template.segments is not None and schedule.segment.key not in template.segments:
            continue
        if template.repeat_every_days and template.when is not None:
            episodes = _episodes(schedule, template, stay, onboarding_id, values, existing)
            newest = episodes[-1].key if episodes and left is None and holds(template.when) else None
            specs.extend(e for e in episodes if e.key in existing or e.key == newest)
            continue
        if template.when is not None and (left is not None or not holds(template.when)):
            continue
        if template.repeat_every_days:
            episodes = _episodes(schedule, template, stay, onboarding_id, values, existing)
            missed = _missed(schedule, episodes, existing)
            skipped.extend(
                SkippedTask(e, f"missed: due {_day(schedule, e.due_at)}, before onboard-sync saw it on "
                            f"{_day(schedule, schedule.now)}; the next one is planned")
                for e in missed
            )  # fmt: skip
            gone = {e.key for e in missed}
            specs.extend(e for e in episodes if e.key not in gone)
        else:
            due = schedule.planned_due(template, stay.entered_at)
            specs.append(_spec(schedule, template, onboarding_id, 0, due, values, existing))
    return specs, skipped


def _episodes(
    schedule: Schedule,
    template: TaskTemplate,
    stay: Stay,
    onboarding_id: str,
    values: Mapping[str, str],
    existing: Mapping[str, TaskFact],
) -> list[TaskSpec]:
    """Episodes 1, 2, … of a repeated task: each appears one interval (in local days) before the
    day it is due, not after the phase was left, and not for a period before the phase was entered."""
    every = template.repeat_every_days or 1
    until = template.repeat_until_day or 0
    calendar = schedule.calendar
    horizon = calendar.local_date(min(schedule.now, stay.left_at) if stay.left_at else schedule.now)
    entered = calendar.local_date(stay.entered_at)
    out: list[TaskSpec] = []
    episode = 1
    while (template.due_day or 0) + (episode - 1) * every <= until:
        due = schedule.planned_due(template, stay.entered_at, episode)
        if calendar.local_date(due) - timedelta(days=every) > horizon:
            break
        if calendar.local_date(due) >= entered:
            out.append(_spec(schedule, template, onboarding_id, episode, due, values, existing))
        episode += 1
    return out


def _missed(schedule: Schedule, episodes: list[TaskSpec], existing: Mapping[str, TaskFact]) -> list[TaskSpec]:
    """Under "adopt", episodes never created whose planned due has passed: they were missed while
    onboard-sync was not running. The newest of them is still created (due as soon as a person can)
    unless a later episode is already planned; the others are skipped."""
    if not schedule.floor:
        return []
    late = [e for e in episodes if e.key not in existing and e.note]
    if not late or late[-1].key != episodes[-1].key:
        return late
    return late[:-1]


def _spec(
    schedule: Schedule,
    template: TaskTemplate,
    onboarding_id: str,
    episode: int,
    due: datetime,
    values: Mapping[str, str],
    existing: Mapping[str, TaskFact],
) -> TaskSpec:
    key = f"{onboarding_id}:{template.key}:{episode}"
    rendered = {**values, "episode": str(episode)} if episode else values
    note = ""
    recorded = existing.get(key)
    if recorded is not None and recorded.due_at is not None:
        due = recorded.due_at  # created: it keeps the due date it was created with
    elif recorded is None and due <= schedule.now:
        if schedule.floor:
            earliest = schedule.calendar.earliest_due(schedule.now)
            note = (
                f"due {_day(schedule, due)} in the plan; onboard-sync first planned it on "
                f"{_day(schedule, schedule.now)}, so it is due {_day(schedule, earliest)}"
            )
            due = earliest
        else:
            note = f'created after its planned due date {_day(schedule, due)} (catch_up = "replay")'
    return TaskSpec(
        key=key,
        template_key=template.key,
        phase=template.phase,
        title=template.title.render(rendered),
        body=template.body.render(rendered),
        owner_role=template.owner,
        due_at=due,
        priority=template.priority,
        required=template.required,
        episode=episode,
        note=note,
    )


def _day(schedule: Schedule, moment: datetime) -> str:
    return schedule.calendar.local_date(moment).isoformat()

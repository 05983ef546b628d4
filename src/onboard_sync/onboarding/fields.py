"""The onboarding's CRM fields: what evaluation writes on the deal and its account.

``onboarding_fields`` turns a settled state into the canonical field values (see
``rules.model.FIELD_NAMES``; a mapping file decides which CRM properties receive them), including
the next step: the earliest open required task, else the next phase and its planned start day.
Dates are local calendar dates of the configured time zone; the planned length and the next
phase's start include the plan shift (``OnboardingState.plan_shift_days``). Pure functions of the
state, the playbook and the tasks, so a re-run with no change writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from onboard_sync.onboarding.calendar import UTC_CALENDAR, Calendar
from onboard_sync.onboarding.health import HealthReport, explain
from onboard_sync.onboarding.state import OPEN_STATUSES, OnboardingState, TaskFact, TaskSpec, onboarding_day
from onboard_sync.records import ObjectKind, TaskStatus
from onboard_sync.rules.model import Playbook, Segment


def planned_days(state: OnboardingState, segment: Segment) -> int:
    """The onboarding's planned length in days, including the plan shift (the M of "day N of M")."""
    return segment.duration_days + state.plan_shift_days


def onboarding_fields(
    state: OnboardingState,
    segment: Segment,
    playbook: Playbook,
    now: datetime,
    report: HealthReport,
    tasks: Sequence[TaskSpec],
    facts: Mapping[str, TaskFact],
    calendar: Calendar = UTC_CALENDAR,
) -> dict[ObjectKind, dict[str, str | None]]:
    """Canonical field values, the same for the deal and the account."""
    end = state.completed_at or state.cancelled_at or now
    step, due = next_step(state, segment, playbook, tasks, facts, calendar)
    values: dict[str, str | None] = {
        "phase": state.phase,
        "phase_label": playbook.phase(state.phase).label,
        "status": str(state.status),
        "segment": segment.key,
        "day": str(onboarding_day(state, now, calendar)),
        "planned_days": str(planned_days(state, segment)),
        "start_date": calendar.local_date(state.started_at).isoformat(),
        "next_step": step,
        "next_step_due": due,
        "go_live_date": calendar.local_date(state.go_live_at).isoformat() if state.go_live_at else None,
        "health_score": str(report.score),
        "health_status": report.status,
        "health_reasons": "; ".join(report.reasons) or None,
        "health_components": explain(report),
        "health_computed": calendar.local_date(end).isoformat(),
    }
    return {ObjectKind.DEAL: values, ObjectKind.ACCOUNT: dict(values)}


def next_step(
    state: OnboardingState,
    segment: Segment,
    playbook: Playbook,
    tasks: Sequence[TaskSpec],
    facts: Mapping[str, TaskFact],
    calendar: Calendar = UTC_CALENDAR,
) -> tuple[str | None, str | None]:
    """``(title, due day)``: the open required task due first (one deleted in the CRM is not open),
    else the next phase and the day it is planned to start; nothing once the onboarding is over."""
    if state.status not in OPEN_STATUSES:
        return None, None
    open_required = [
        s for s in tasks
        if s.required and ((f := facts.get(s.key)) is None or f.status == TaskStatus.OPEN)
    ]  # fmt: skip
    if open_required:  # earliest due day, then playbook order (a CRM may keep only the due day)
        order = {s.key: i for i, s in enumerate(open_required)}
        first = min(open_required, key=lambda s: (calendar.local_date(s.due_at), order[s.key]))
        return first.title, calendar.local_date(first.due_at).isoformat()
    index = playbook.phase_index(state.phase)
    if index + 1 < len(playbook.phases):
        following = playbook.phases[index + 1]
        offset = round(playbook.scaled_day(following.plan_start_day, segment)) + state.plan_shift_days
        planned = calendar.local_date(state.started_at) + timedelta(days=offset)
        return following.label, planned.isoformat()
    return None, None

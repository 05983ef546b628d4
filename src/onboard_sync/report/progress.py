"""How the onboardings move through the playbook: funnel, first value, phase durations, health, at risk.

Called by :func:`onboard_sync.report.data.collect` with the onboardings of one playbook; each
function fills its part of :class:`~onboard_sync.report.model.ReportData` (or returns it). The
plan figures come from the playbook, scaled to each segment exactly as due dates are
(:meth:`Playbook.scaled_day`, :meth:`Playbook.due_offset`). docs/report.md defines every figure.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from statistics import mean

from onboard_sync.onboarding.calendar import UTC_CALENDAR, Calendar
from onboard_sync.onboarding.state import (
    OPEN_STATUSES,
    OnboardingState,
    OnboardingStatus,
    TransitionCause,
    onboarding_day,
)
from onboard_sync.records import Account, Deal
from onboard_sync.report.model import AtRisk, FirstValue, PhaseDuration, ReportData
from onboard_sync.rules import Playbook, Segment
from onboard_sync.store import Store

DAY = timedelta(days=1)


def funnel(data: ReportData, states: list[OnboardingState], playbook: Playbook) -> None:
    """Onboardings that entered each phase at some point, and where those not cancelled are now.

    An onboarding adopted under way (catch-up) is past the phases before the one it joined: it
    counts for them too, so the funnel never widens."""
    reached: Counter[str] = Counter()
    keys = playbook.phase_keys()
    for state in states:
        phases = {v.phase for v in state.history} | {state.phase}
        if state.adopted_at is not None and state.history and state.history[0].phase in keys:
            phases |= set(keys[: keys.index(state.history[0].phase)])
        reached.update(phases)
    data.funnel = [(p.label, reached[p.key]) for p in playbook.phases]
    labels = {p.key: p.label for p in playbook.phases}
    now = Counter(labels.get(s.phase, s.phase) for s in states if s.status != OnboardingStatus.CANCELLED)
    data.current = {p.label: now[p.label] for p in playbook.phases if now[p.label]}
    data.current.update({label: n for label, n in now.items() if label not in data.current})


def _has_first_value_task(playbook: Playbook) -> bool:
    return any(t.first_value for p in playbook.phases for t in p.tasks)


def planned_first_value(playbook: Playbook, segment: Segment) -> int | None:
    """The day after the start on which ``segment``'s plan reaches first value.

    The earliest due day of a ``first_value`` task the segment gets; without such tasks in the
    playbook, the planned end of its go-live phase (completing it records go-live)."""
    if not _has_first_value_task(playbook):
        if playbook.go_live_phase is None:
            return None
        return math.ceil(playbook.scaled_day(playbook.phase(playbook.go_live_phase).plan_end_day, segment) - 1e-9)
    days: list[int] = []
    for phase in playbook.phases:
        for template in phase.tasks:
            if not template.first_value or (template.segments is not None and segment.key not in template.segments):
                continue
            anchor = 0.0 if template.anchor == "start" else playbook.scaled_day(phase.plan_start_day, segment)
            due = anchor + playbook.due_days(template, segment)
            days.append(math.ceil(due - 1e-9))
    return min(days, default=None)


def first_value(data: ReportData, states: list[OnboardingState], playbook: Playbook) -> None:
    """Days from start to first value per onboarding that reached it, and each segment's plan."""
    by_task = _has_first_value_task(playbook)
    data.first_value_source = "first-value task" if by_task else "go-live"
    plan: dict[str, int | None] = {s.key: planned_first_value(playbook, s) for s in playbook.segments}
    for state in states:
        moment = state.first_value_at if by_task else state.go_live_at
        if moment is not None and (state.adopted_at is None or moment > state.adopted_at):
            days = (moment.date() - state.started_at.date()).days
            data.first_value.append(FirstValue(days=days, planned=plan.get(state.segment)))
        elif moment is not None:  # adopted past go-live: it did not go live at adoption, when is unknown
            data.first_value_before_adoption += 1
    present = {s.segment for s in states}
    data.first_value_plan = {
        s.label: day for s in playbook.segments if (day := plan[s.key]) is not None and s.key in present
    }


def durations(data: ReportData, states: list[OnboardingState], playbook: Playbook) -> None:
    """Per segment and phase: the average completed stay in days, against the segment-scaled plan."""
    by_segment: dict[str, list[OnboardingState]] = defaultdict(list)
    for state in states:
        by_segment[state.segment].append(state)
    for segment in playbook.segments:
        members = by_segment.get(segment.key)
        if not members:
            continue
        stays: dict[str, list[float]] = defaultdict(list)
        for state in members:
            for visit in state.history:
                # a stay in the phase an onboarding was adopted in began before onboard-sync saw it
                if visit.left_at is not None and visit.cause is not TransitionCause.ADOPTED:
                    stays[visit.phase].append((visit.left_at - visit.entered_at) / DAY)
        rows: list[PhaseDuration] = []
        previous_end = 0.0
        for phase in playbook.phases[:-1]:  # the last phase is the end: nobody stays in it
            end = playbook.scaled_day(phase.plan_end_day, segment)
            planned = round(max(end - previous_end, 0.0), 1)
            previous_end = max(previous_end, end)
            samples = stays.get(phase.key, [])
            actual = round(mean(samples), 1) if samples else None
            rows.append(PhaseDuration(phase.key, phase.label, planned, actual, len(samples)))
        data.durations[segment.label] = rows


def health_series(store: Store, states: list[OnboardingState], now: datetime) -> list[tuple[date, float, int]]:
    """Per day: the average health score of the onboardings assessed and still open that day.

    Each onboarding's score is its last assessment on or before the day (the store keeps a row
    only when the assessment changed), from its first assessment to the day it completed or was
    cancelled (inclusive)."""
    scores: dict[date, list[int]] = defaultdict(list)
    for state in states:
        points = [(date.fromisoformat(r.day), r.score) for r in store.health_history(state.id)]
        if not points:
            continue
        end = state.completed_at or state.cancelled_at
        last = min(now.date(), end.date()) if end is not None else now.date()
        day, i, score = points[0][0], 0, points[0][1]
        while day <= last:
            while i < len(points) and points[i][0] <= day:
                score = points[i][1]
                i += 1
            scores[day].append(score)
            day += DAY
    return [(day, round(mean(values), 1), len(values)) for day, values in sorted(scores.items())]


def plan_length(playbook: Playbook, segment: Segment) -> int:
    """Days from the start to the planned end of the last phase, for ``segment``."""
    return math.ceil(playbook.scaled_day(playbook.phases[-1].plan_end_day, segment) - 1e-9)


def with_deal_and_account(
    store: Store, states: Sequence[OnboardingState]
) -> Iterator[tuple[OnboardingState, Deal | None, Account | None]]:
    """Each onboarding with its deal and account as last pulled (read by id, one CRM instance at a time)."""
    for source in sorted({s.source for s in states}):
        mine = [s for s in states if s.source == source]
        deals = store.get_deals(source, [s.deal_id for s in mine])
        accounts = store.get_accounts(source, [s.account_id for s in mine if s.account_id])
        for state in mine:
            yield state, deals.get(state.deal_id), accounts.get(state.account_id) if state.account_id else None


def at_risk(
    store: Store,
    states: list[OnboardingState],
    playbook: Playbook,
    now: datetime,
    calendar: Calendar = UTC_CALENDAR,
) -> list[AtRisk]:
    """Open onboardings that are at risk or extended, or whose health is not healthy; worst first."""
    risky = [
        s
        for s in states
        if s.status in (OnboardingStatus.AT_RISK, OnboardingStatus.EXTENDED)
        or (s.status in OPEN_STATUSES and s.health_status not in (None, "healthy"))
    ]
    labels = {p.key: p.label for p in playbook.phases}
    rows: list[AtRisk] = []
    for state, deal, account in with_deal_and_account(store, risky):
        segment = playbook.segment(state.segment)
        rows.append(
            AtRisk(
                deal=deal.name if deal else state.deal_id,
                account=account.name if account else "-",
                segment=segment.label if segment else state.segment,
                phase=labels.get(state.phase, state.phase),
                status=str(state.status),
                health_score=state.health_score,
                health_status=state.health_status,
                reasons=state.health_reasons,
                day=onboarding_day(state, now, calendar),
                planned_days=plan_length(playbook, segment) + state.plan_shift_days if segment else 0,
            )
        )
    return sorted(rows, key=lambda r: (r.health_score if r.health_score is not None else 101, r.deal))

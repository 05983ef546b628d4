"""The numbers of the onboarding report, read from the store (pure reads, no CRM calls).

:func:`collect` is called by ``onboard-sync report`` and the tests. Definitions:

* **funnel**: how many onboardings reached each phase (entered it at some point).
* **time to first value**: days from the start to ``first_value_at`` (the completion of the
  playbook's ``first_value`` task); for an onboarding with no first-value task, its go-live.
  Target: the seeds' < 7 days.
* **phase durations**: average days spent in each phase (completed stays only) per segment,
  against the plan (the segment-scaled days from the previous phase's planned end to this one's).
* **health over time**: the health score onboard-sync wrote to the CRM (the audit log of deal
  field writes), carried forward day by day and averaged over the onboardings open that day.
* **at risk**: open onboardings whose status is at-risk/extended or whose health is not healthy.
* **success metrics**: onboarding completion rate, on-time task completion, feature adoption
  (≥ 80 %, the latest known value, onboardings 30+ days in), tickets a month after go-live —
  ``None`` (shown as "no data") when the store has nothing to compute it from.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from statistics import mean, median

from onboard_sync.onboarding.state import OPEN_STATUSES, OnboardingState, OnboardingStatus
from onboard_sync.records import TaskStatus
from onboard_sync.rules import Playbook
from onboard_sync.store import Store, TaskState

FIRST_VALUE_TARGET_DAYS = 7
ADOPTION_TARGET = 80.0


@dataclass
class PhaseDuration:
    phase: str
    label: str
    planned: float
    actual: float | None  # None: no completed stay in this phase
    samples: int


@dataclass
class AtRisk:
    deal: str
    account: str
    segment: str
    phase: str
    status: str
    health_score: int | None
    health_status: str | None
    reasons: tuple[str, ...]
    day: int


@dataclass
class Metric:
    key: str
    label: str
    value: float | None  # None: no data
    unit: str
    target: str
    detail: str = ""
    short: str = ""  # chart label

    @property
    def display(self) -> str:
        if self.value is None:
            return "no data"
        return f"{self.value:g}{self.unit}"


@dataclass
class ReportData:
    """Everything the HTML report shows."""

    playbook: str
    generated_at: datetime
    onboardings: int
    funnel: list[tuple[str, int]] = field(default_factory=list)  # (phase label, reached)
    current: dict[str, int] = field(default_factory=dict)  # phase label -> onboardings there now
    first_value_days: list[int] = field(default_factory=list)
    first_value_source: str = "first-value task"
    durations: dict[str, list[PhaseDuration]] = field(default_factory=dict)  # segment label -> phases
    health_series: list[tuple[date, float, int]] = field(default_factory=list)  # (day, average, onboardings)
    at_risk: list[AtRisk] = field(default_factory=list)
    metrics: list[Metric] = field(default_factory=list)

    @property
    def first_value_median(self) -> float | None:
        return median(self.first_value_days) if self.first_value_days else None

    @property
    def first_value_within_target(self) -> float | None:
        days = self.first_value_days
        if not days:
            return None
        return round(100 * sum(d < FIRST_VALUE_TARGET_DAYS for d in days) / len(days), 1)


def collect(
    store: Store, playbook: Playbook, now: datetime, *, health_property: str = "onboarding_health_score"
) -> ReportData:
    """Read the store and compute the report (see the module docstring for every definition)."""
    states = [s for s in store.onboardings() if s.playbook == playbook.name] or store.onboardings()
    data = ReportData(playbook=playbook.name, generated_at=now, onboardings=len(states))
    labels = {p.key: p.label for p in playbook.phases}
    reached: dict[str, int] = defaultdict(int)
    for state in states:
        for phase in {v.phase for v in state.history} | {state.phase}:
            reached[phase] += 1
        label = labels.get(state.phase, state.phase)
        data.current[label] = data.current.get(label, 0) + 1
    data.funnel = [(p.label, reached.get(p.key, 0)) for p in playbook.phases]
    _first_value(data, states, playbook)
    _durations(data, states, playbook)
    data.health_series = _health_series(store, states, now, health_property)
    _at_risk(data, store, states, labels, now)
    data.metrics = _metrics(store, states, now)
    return data


def _first_value(data: ReportData, states: list[OnboardingState], playbook: Playbook) -> None:
    has_task = any(t.first_value for p in playbook.phases for t in p.tasks)
    data.first_value_source = "first-value task" if has_task else "go-live"
    for state in states:
        moment = state.first_value_at if has_task else state.go_live_at
        if moment is not None:
            data.first_value_days.append((moment.date() - state.started_at.date()).days)


def _durations(data: ReportData, states: list[OnboardingState], playbook: Playbook) -> None:
    by_segment: dict[str, list[OnboardingState]] = defaultdict(list)
    for state in states:
        by_segment[state.segment].append(state)
    for segment_key, members in by_segment.items():
        segment = playbook.segment(segment_key)
        if segment is None:
            continue
        stays: dict[str, list[int]] = defaultdict(list)
        for state in members:
            for visit in state.history:
                if visit.left_at is not None:
                    stays[visit.phase].append((visit.left_at.date() - visit.entered_at.date()).days)
        rows: list[PhaseDuration] = []
        previous_end = 0.0
        for phase in playbook.phases[:-1]:
            end = playbook.scaled_day(phase.plan_end_day, segment)
            planned = round(max(end - previous_end, 0.0), 1)
            previous_end = max(previous_end, end)
            samples = stays.get(phase.key, [])
            actual = round(mean(samples), 1) if samples else None
            rows.append(PhaseDuration(phase.key, phase.label, planned, actual, len(samples)))
        data.durations[segment.label] = rows


def _health_series(
    store: Store, states: list[OnboardingState], now: datetime, prop: str
) -> list[tuple[date, float, int]]:
    """Daily average of the written health scores, each carried forward from its last write."""
    wanted = {f"{s.id}:deal": s for s in states}
    writes: dict[str, list[tuple[date, int]]] = defaultdict(list)
    for entry in store.audit(limit=10_000_000):
        if entry.action != "update_fields" or entry.key not in wanted or entry.outcome != "ok":
            continue
        value = (entry.after or {}).get(prop)
        if value not in (None, ""):
            writes[entry.key].append((entry.at.date(), int(float(value))))
    if not writes:
        return []
    first = min(d for points in writes.values() for d, _ in points)
    last = now.date()
    series: list[tuple[date, float, int]] = []
    ordered = {k: sorted(v) for k, v in writes.items()}
    day = first
    while day <= last:
        scores: list[int] = []
        for key, points in ordered.items():
            state = wanted[key]
            end = state.completed_at or state.cancelled_at
            if end is not None and day > end.date():
                continue
            known = [score for d, score in points if d <= day]
            if known:
                scores.append(known[-1])
        if scores:
            series.append((day, round(mean(scores), 1), len(scores)))
        day += timedelta(days=1)
    return series


def _at_risk(
    data: ReportData, store: Store, states: list[OnboardingState], labels: dict[str, str], now: datetime
) -> None:
    for state in states:
        risky = state.status in (OnboardingStatus.AT_RISK, OnboardingStatus.EXTENDED) or (
            state.status in OPEN_STATUSES and state.health_status not in (None, "healthy")
        )
        if not risky:
            continue
        deal = store.get_deal(state.source, state.deal_id)
        account = store.get_account(state.source, state.account_id) if state.account_id else None
        data.at_risk.append(
            AtRisk(
                deal=deal.name if deal else state.deal_id,
                account=account.name if account else "-",
                segment=state.segment,
                phase=labels.get(state.phase, state.phase),
                status=str(state.status),
                health_score=state.health_score,
                health_status=state.health_status,
                reasons=state.health_reasons,
                day=(now.date() - state.started_at.date()).days,
            )
        )
    data.at_risk.sort(key=lambda r: (r.health_score if r.health_score is not None else 101, r.deal))


def _metrics(store: Store, states: list[OnboardingState], now: datetime) -> list[Metric]:
    live = [s for s in states if s.status != OnboardingStatus.CANCELLED]
    completed = sum(1 for s in live if s.status == OnboardingStatus.COMPLETED)
    out = [
        Metric(
            "completion_rate",
            "Onboarding completion rate",
            round(100 * completed / len(live), 1) if live else None,
            " %",
            "95 %+ (seed 002)",
            f"{completed} of {len(live)} onboardings completed",
            "Completion rate",
        )
    ]
    due = on_time = 0
    for state in states:
        for task in store.owned_tasks(state.id).values():
            if task.state is not TaskState.CREATED or task.due_at is None or task.due_at > now:
                continue
            due += 1
            done = task.completed_at if task.status is TaskStatus.COMPLETED else None
            if done is not None and done.date() <= task.due_at.date():
                on_time += 1
    out.append(
        Metric(
            "tasks_on_time",
            "Tasks completed on time",
            round(100 * on_time / due, 1) if due else None,
            " %",
            "all commitments on time (seed 002)",
            f"{on_time} of {due} tasks due so far",
            "Tasks on time",
        )
    )
    adoption: list[float] = []
    for state in states:
        if (now.date() - state.started_at.date()).days < 30 or not state.account_id:
            continue
        account = store.get_account(state.source, state.account_id)
        value = (account.properties.get("adoption_rate") if account else None) or ""
        try:
            adoption.append(float(str(value).rstrip("% ")))
        except ValueError:
            continue
    good = sum(1 for v in adoption if v >= ADOPTION_TARGET)
    out.append(
        Metric(
            "feature_adoption",
            "Feature adoption ≥ 80 % (onboardings 30+ days in)",
            round(100 * good / len(adoption), 1) if adoption else None,
            " %",
            "> 80 % within 30 days (seeds 000, 004)",
            f"{good} of {len(adoption)} with adoption data" if adoption else "no adoption data in the store",
            "Feature adoption ≥ 80 %",
        )
    )
    out.append(
        Metric(
            "tickets_per_month",
            "Support tickets a month after go-live",
            None,
            "",
            "< 2 (seed 000)",
            "the store holds no tickets yet (a helpdesk/ticket source feeds them)",
            "Tickets a month",
        )
    )
    return out

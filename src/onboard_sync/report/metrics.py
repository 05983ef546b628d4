"""The report's task figures and success metrics, computed from the store's onboardings, tasks and tickets.

Called by :func:`onboard_sync.report.data.collect`. Task figures are counted by task status in
one place (:data:`STATUS_TEXT`, :data:`DUE_WORK`): a new status shows up in the counts by itself
and stays out of "on time" until it is listed as due work. Targets come from the playbook's
health components where it has them (``adoption_rate``, ``tickets_per_month``), otherwise from
the onboarding SOPs. docs/report.md defines every figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from statistics import mean

from onboard_sync.onboarding.health import collect_metrics
from onboard_sync.onboarding.state import CustomerFacts, OnboardingState, OnboardingStatus
from onboard_sync.records import Account, Deal, TaskStatus, Ticket
from onboard_sync.report.model import Metric, ReportData
from onboard_sync.report.progress import plan_length, with_deal_and_account
from onboard_sync.rules import Playbook
from onboard_sync.store import OwnedTask, Store

STATUS_TEXT: Mapping[TaskStatus, str] = {
    TaskStatus.OPEN: "open",
    TaskStatus.COMPLETED: "completed",
    TaskStatus.DELETED: "deleted in the CRM",
}
"""How the report names each task status (a status missing here is shown by its value)."""

DUE_WORK = frozenset({TaskStatus.OPEN, TaskStatus.COMPLETED})
"""Statuses of tasks someone still owes or has done: only these count for "tasks completed on time"
(a task deleted in the CRM asks nothing of anyone any more)."""

ADOPTION_DAYS = 30  # the SOPs: > 80 % adoption within 30 days
ADOPTION_TARGET = 80.0  # used when the playbook has no health component on adoption_rate
TICKETS_TARGET = 2.0  # the SOPs: < 2 tickets a month after go-live; likewise
COMPLETION_TARGET = "95 % or more"


def task_figures(data: ReportData, tasks: Mapping[str, Sequence[OwnedTask]], now: datetime) -> None:
    """Tasks in the CRM by status, and how many open ones are overdue."""
    counts = {status: 0 for status in TaskStatus}
    for task in (t for group in tasks.values() for t in group):
        counts[task.status] += 1
        if task.status is TaskStatus.OPEN and task.due_at is not None and task.due_at < now:
            data.overdue_tasks += 1
    data.tasks = {STATUS_TEXT.get(status, str(status)): n for status, n in counts.items() if n}


def _component_target(playbook: Playbook, metric: str) -> tuple[str, float] | None:
    """The playbook's bound on ``metric`` (``(">=", 80.0)``, ``("<", 2.0)`` …) from its health components."""
    for c in playbook.health.components:
        if c.metric != metric:
            continue
        for op, bound in ((">=", c.min), (">", c.above), ("<=", c.max), ("<", c.below)):
            if bound is not None:
                return op, bound
    return None


SYMBOL = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}


def _meets(value: float, op: str, bound: float) -> bool:
    return {">=": value >= bound, ">": value > bound, "<=": value <= bound, "<": value < bound}[op]


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def success_metrics(
    store: Store,
    states: Sequence[OnboardingState],
    tasks: Mapping[str, Sequence[OwnedTask]],
    tickets: Mapping[str, Sequence[Ticket]],
    playbook: Playbook,
    now: datetime,
) -> list[Metric]:
    """Completion rate, tasks completed on time, feature adoption, tickets a month after go-live."""
    return [
        completion_rate(states, playbook, now),
        tasks_on_time(tasks, now),
        feature_adoption(store, states, playbook, now),
        tickets_per_month(states, tickets, playbook, now),
    ]


def completion_rate(states: Sequence[OnboardingState], playbook: Playbook, now: datetime) -> Metric:
    """Completed, of the onboardings that have ended (completed or cancelled) or are past their plan's end."""
    ended = due = completed = 0
    for state in states:
        if state.status == OnboardingStatus.COMPLETED:
            completed += 1
            ended += 1
        elif state.status == OnboardingStatus.CANCELLED:
            ended += 1
        elif (segment := playbook.segment(state.segment)) is not None:
            due += (now.date() - state.started_at.date()).days > plan_length(playbook, segment)
    settled = ended + due
    under_way = len(states) - settled
    if settled:
        detail = f"{completed} of {settled} completed (ended, or past the plan's last day)"
        if under_way:
            detail += f"; {under_way} more still within plan"
    else:
        detail = f"none has ended or passed its plan's last day yet ({under_way} within plan)"
    return Metric(
        key="completion_rate",
        label="Onboarding completion rate",
        value=_pct(completed, settled),
        unit=" %",
        target=COMPLETION_TARGET,
        detail=detail,
        short="Completion rate",
    )


def tasks_on_time(tasks: Mapping[str, Sequence[OwnedTask]], now: datetime) -> Metric:
    """Of the due-work tasks whose outcome is known (completed, or open past their due day): done by the due day."""
    settled = on_time = 0
    for task in (t for group in tasks.values() for t in group):
        if task.status not in DUE_WORK or task.due_at is None:
            continue
        if task.status is TaskStatus.COMPLETED and task.completed_at is not None:
            settled += 1
            on_time += task.completed_at.date() <= task.due_at.date()
        elif task.status is TaskStatus.OPEN and task.due_at.date() < now.date():
            settled += 1
    return Metric(
        key="tasks_on_time",
        label="Tasks completed on time",
        value=_pct(on_time, settled),
        unit=" %",
        target="100 %",
        detail=(
            f"{on_time} of {settled} tasks completed by their due day (of those completed, or open past it)"
            if settled
            else "no task is completed or past its due day yet"
        ),
        short="Tasks on time",
    )


def feature_adoption(store: Store, states: Sequence[OnboardingState], playbook: Playbook, now: datetime) -> Metric:
    """Of the onboardings ``ADOPTION_DAYS``+ days in (not cancelled) with adoption data: adoption at target.

    The adoption rate is read as health scoring reads it (``adoption_rate``, or active of licensed
    users; a fraction such as 0.85 is 85 %), from the deal and account properties in the store."""
    op, bound = _component_target(playbook, "adoption_rate") or (">=", ADOPTION_TARGET)
    old_enough = [
        s
        for s in states
        if s.status != OnboardingStatus.CANCELLED and (now.date() - s.started_at.date()).days >= ADOPTION_DAYS
    ]
    rates: list[float] = []
    for _, deal, account in with_deal_and_account(store, old_enough):
        rate = _adoption(playbook, deal, account, now)
        if rate is not None:
            rates.append(rate)
    good = sum(_meets(r, op, bound) for r in rates)
    with_data = _plural(len(rates), "onboarding")
    detail = (
        f"{good} of {with_data} with adoption data ({len(old_enough)} are {ADOPTION_DAYS}+ days in)"
        if old_enough
        else f"no onboarding is {ADOPTION_DAYS} days in yet"
    )
    return Metric(
        key="feature_adoption",
        label=f"Feature adoption {SYMBOL[op]} {bound:g} % ({ADOPTION_DAYS}+ days in)",
        value=_pct(good, len(rates)),
        unit=" %",
        target="every onboarding",
        detail=detail,
        short=f"Adoption {SYMBOL[op]} {bound:g} %",
    )


def _adoption(playbook: Playbook, deal: Deal | None, account: Account | None, now: datetime) -> float | None:
    if deal is None:
        return None
    found = collect_metrics(playbook, CustomerFacts(deal=deal, account=account), now, go_live_at=None)
    return found.get("adoption_rate")


def tickets_per_month(
    states: Sequence[OnboardingState], tickets: Mapping[str, Sequence[Ticket]], playbook: Playbook, now: datetime
) -> Metric:
    """Average over live onboardings (gone live, not cancelled) of the tickets opened since go-live
    per 30 days (at least one month counted), as the health component ``tickets_per_month`` counts them."""
    op, bound = _component_target(playbook, "tickets_per_month") or ("<", TICKETS_TARGET)
    live = [s for s in states if s.go_live_at is not None and s.status != OnboardingStatus.CANCELLED]
    rates: list[float] = []
    total = 0
    for state in live:
        assert state.go_live_at is not None
        since = sum(1 for t in tickets.get(state.id, ()) if t.created_at.date() >= state.go_live_at.date())
        days_live = max((now.date() - state.go_live_at.date()).days, 0)
        rates.append(since * 30 / max(days_live, 30))
        total += since
    within = sum(_meets(r, op, bound) for r in rates)
    detail = (
        f"{_plural(total, 'ticket')} since go-live across {_plural(len(live), 'live onboarding')}; "
        f"{within} of them at {SYMBOL[op]} {bound:g} a month"
        if live
        else "no onboarding has gone live yet"
    )
    return Metric(
        key="tickets_per_month",
        label="Support tickets a month after go-live (average)",
        value=round(mean(rates), 1) if rates else None,
        unit="",
        target=f"{SYMBOL[op]} {bound:g} a month",
        detail=detail,
        short="Tickets a month",
    )


__all__ = ["DUE_WORK", "STATUS_TEXT", "success_metrics", "task_figures"]

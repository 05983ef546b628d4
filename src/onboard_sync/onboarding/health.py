"""Health scoring: metrics from the facts, then a 0-100 score, a status and reasons. Pure code.

:func:`collect_metrics` turns one onboarding's facts into the named metrics of
:data:`onboard_sync.rules.model.METRICS` (task facts, tickets, and optional account/deal
properties or signals such as ``nps`` or ``active_users``). A metric without data is
simply absent. :func:`assess` scores the playbook's ``[health]`` components over them:
a component is scored only when its data exists (missing data is never counted as bad),
the score is the share of the scored weight that passes, and the status is
healthy / at-risk / critical by the playbook's thresholds, lowered by failing components
with a ``cap``. Everything is day-granular (local calendar days of the configured time zone), so
re-evaluating seconds later gives the same answer. Ages that measure lateness (blockers, urgent
tickets) count from adoption at the earliest: onboard-sync does not judge what happened before it
began following the customer (``onboarding.catchup``). Called by :mod:`onboard_sync.onboarding.machine`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from onboard_sync.onboarding.calendar import UTC_CALENDAR, Calendar
from onboard_sync.onboarding.state import CustomerFacts
from onboard_sync.records import TaskStatus
from onboard_sync.rules.expressions import Condition
from onboard_sync.rules.model import HealthComponent, HealthModel, Playbook

#: Metrics read from ``Account.properties`` / ``Deal.properties`` (account first) and signals.
PROPERTY_METRICS = (
    "adoption_rate",
    "active_users",
    "licensed_users",
    "weekly_logins",
    "nps",
    "meeting_attendance",
    "engagement_score",
    "business_outcomes",
    "stakeholder_changes",
)
_PERCENT_METRICS = frozenset({"adoption_rate", "meeting_attendance"})
_CLOSED_TICKET = frozenset({"solved", "closed", "resolved", "deleted"})
_URGENT = frozenset({"urgent", "high", "critical"})
_RANK = {"healthy": 0, "at-risk": 1, "critical": 2}


@dataclass(frozen=True, slots=True)
class ComponentResult:
    """How one health component came out. ``scored`` is false when its data is missing."""

    key: str
    weight: float
    scored: bool
    ok: bool
    value: float | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class HealthReport:
    """A health assessment: ``score`` 0-100, ``status`` healthy/at-risk/critical, ``reasons``."""

    score: int
    status: str
    reasons: tuple[str, ...]
    components: tuple[ComponentResult, ...]


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip().rstrip("%"))
    except ValueError:
        return None
    return number if number == number else None  # drop NaN


def collect_metrics(
    playbook: Playbook,
    facts: CustomerFacts,
    now: datetime,
    *,
    go_live_at: datetime | None,
    calendar: Calendar = UTC_CALENDAR,
    since: datetime | None = None,
) -> dict[str, float]:
    """The metrics that have data for this onboarding, by canonical name.

    ``since`` (the adoption moment) is the earliest moment an age that measures lateness counts from.
    """
    today = calendar.local_date(now)
    model = playbook.health

    def day(moment: datetime) -> date:
        return calendar.local_date(moment)

    def age(moment: datetime) -> int:
        start = max(moment, since) if since is not None else moment
        return (today - day(start)).days

    overdue = late = blockers = 0
    for task in facts.tasks.values():
        if task.status != TaskStatus.OPEN:  # completed, or deleted in the CRM
            continue
        template = playbook.template(task.template_key)
        if template is None:
            continue
        if task.due_at is not None:
            days_late = (today - day(task.due_at)).days
            if template.required and days_late > 0:
                overdue += 1
            if template.milestone and days_late > model.milestone_grace_days:
                late += 1
        opened = task.created_at or task.due_at
        if template.blocker and opened is not None and age(opened) > model.blocker_days:
            blockers += 1
    open_tickets = [t for t in facts.tickets if t.status.lower() not in _CLOSED_TICKET]
    urgent = [t for t in open_tickets if (t.priority or "").lower() in _URGENT]
    stale_days = model.stale_ticket_days
    metrics: dict[str, float] = {
        "overdue_required_tasks": overdue,
        "late_milestones": late,
        "stale_blockers": blockers,
        "open_urgent_tickets": len(urgent),
        "stale_urgent_tickets": sum(1 for t in urgent if age(t.created_at) > stale_days),
        "open_tickets": len(open_tickets),
        "tickets_last_7_days": sum(1 for t in facts.tickets if 0 <= (today - day(t.created_at)).days < 7),
    }
    if go_live_at is not None:
        days_live = max((today - day(go_live_at)).days, 0)
        metrics["days_since_go_live"] = days_live
        since_live = sum(1 for t in facts.tickets if day(t.created_at) >= day(go_live_at))
        metrics["tickets_per_month"] = round(since_live * 30 / max(days_live, 30), 1)
    metrics.update(_property_metrics(facts))
    return metrics


def _property_metrics(facts: CustomerFacts) -> dict[str, float]:
    found: dict[str, float] = {}
    for name in PROPERTY_METRICS:
        for props in (facts.account.properties if facts.account else {}, facts.deal.properties):
            value = _number(props.get(name))
            if value is not None:
                found[name] = value
                break
    latest: dict[str, tuple[datetime, float]] = {}
    for signal in facts.signals:
        if signal.name in PROPERTY_METRICS and (signal.name not in latest or signal.at > latest[signal.name][0]):
            latest[signal.name] = (signal.at, signal.value)
    found.update({name: value for name, (_, value) in latest.items()})
    licensed = found.get("licensed_users")
    if "adoption_rate" not in found and licensed and "active_users" in found:
        found["adoption_rate"] = found["active_users"] * 100.0 / licensed
    for name in _PERCENT_METRICS & found.keys():
        if 0.0 <= found[name] <= 1.0:
            found[name] *= 100.0  # a fraction: 0.85 means 85 %
    return {name: round(value, 1) for name, value in found.items()}


def assess(
    model: HealthModel,
    metrics: Mapping[str, float],
    *,
    live: bool,
    holds: Callable[[Condition], bool | None],
) -> HealthReport:
    """Score ``metrics`` with the playbook's components; ``holds`` evaluates a CEL condition
    (``None`` when it could not be evaluated on this data)."""
    results = tuple(_component(c, metrics, live, holds) for c in model.components)
    scored = [r for r in results if r.scored]
    total = sum(r.weight for r in scored)
    passed = sum(r.weight for r in scored if r.ok)
    score = round(100 * passed / total) if total else 100
    status = model.status_for(score)
    caps = {c.key: c.cap for c in model.components if c.cap}
    for result in scored:
        cap = caps.get(result.key)
        if not result.ok and cap and _RANK[cap] > _RANK[status]:
            status = cap
    failing = sorted((r for r in scored if not r.ok), key=lambda r: (-r.weight, r.key))
    reasons = tuple(r.reason for r in failing if r.reason)
    headline = model.status_reasons.get(status)
    if headline:
        reasons = (headline.replace("{score}", str(score)), *reasons)
    return HealthReport(score=score, status=status, reasons=reasons, components=results)


def explain(report: HealthReport) -> str:
    """Every component in one line for the CRM: ``key ok (value)``, ``key FAIL: reason``, ``key no data``."""
    parts = []
    for c in report.components:
        if not c.scored:
            parts.append(f"{c.key} n/a")
        elif c.ok:
            parts.append(f"{c.key} ok" + (f" ({_fmt(c.value)})" if c.value is not None else ""))
        else:
            parts.append(f"{c.key} FAIL: {c.reason or _fmt(c.value)}")
    return "; ".join(parts)


def component_rows(report: HealthReport) -> tuple[dict[str, object], ...]:
    """The components as plain dicts (for the store's health history and ``status --json``)."""
    return tuple(
        {
            "key": c.key,
            "weight": c.weight,
            "scored": c.scored,
            "ok": c.ok,
            "value": c.value,
            "reason": c.reason,
        }
        for c in report.components
    )


def _component(
    component: HealthComponent,
    metrics: Mapping[str, float],
    live: bool,
    holds: Callable[[Condition], bool | None],
) -> ComponentResult:
    skip = ComponentResult(key=component.key, weight=component.weight, scored=False, ok=True)
    if (component.after_go_live and not live) or not component.metrics <= metrics.keys():
        return skip
    if component.applies_when is not None and not holds(component.applies_when):
        return skip
    value = metrics.get(component.metric) if component.metric else None
    if component.metric is not None and value is not None:
        ok = _within(component, value)
    else:
        verdict = holds(component.ok_when) if component.ok_when else None
        if verdict is None:
            return skip
        ok = verdict
    text = component.reason.render({"value": _fmt(value)}) if not ok else None
    return ComponentResult(component.key, component.weight, scored=True, ok=ok, value=value, reason=text)


def _within(c: HealthComponent, value: float) -> bool:
    return not (
        (c.min is not None and value < c.min)
        or (c.max is not None and value > c.max)
        or (c.above is not None and value <= c.above)
        or (c.below is not None and value >= c.below)
    )


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:g}" if value != int(value) else str(int(value))

"""Health metrics and scoring: missing data is not scored, caps, reasons, tickets after go-live."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from onboarding_sim import T0, at_day, default_pb, facts, make_account, open_

from onboard_sync.onboarding.health import assess, collect_metrics
from onboard_sync.records import Signal, Ticket
from onboard_sync.rules import load_playbook
from onboard_sync.rules.activation import build_activation


def ticket(n: int, created_day: int, priority: str = "normal", status: str = "open") -> Ticket:
    created = at_day(created_day)
    return Ticket("zd", str(n), created, f"t{n}", status, priority, created)


def score(metrics: dict[str, float], *, live: bool = False, phase: str = "adoption"):  # type: ignore[no-untyped-def]
    activation = build_activation(deal=None, account=None, phase=phase, metrics=metrics)
    return assess(default_pb().health, metrics, live=live, holds=lambda c: c.evaluate(activation))


def test_no_data_is_healthy_and_nothing_counts_as_bad() -> None:
    metrics = collect_metrics(default_pb(), facts(), at_day(5), go_live_at=None)
    assert metrics == {
        "overdue_required_tasks": 0,
        "late_milestones": 0,
        "stale_blockers": 0,
        "open_urgent_tickets": 0,
        "stale_urgent_tickets": 0,
        "open_tickets": 0,
        "tickets_last_7_days": 0,
    }
    report = score(metrics)
    assert (report.score, report.status, report.reasons) == (100, "healthy", ())
    scored = {c.key for c in report.components if c.scored}
    assert scored == {"overdue_tasks", "late_milestones", "stale_blockers", "urgent_tickets"}


def test_property_metrics_adoption_percentages_and_signals() -> None:
    account = make_account({"active_users": "45", "licensed_users": "50", "meeting_attendance": "0.75", "nps": "n/a"})
    f = facts(account=account)
    f = type(f)(
        deal=f.deal,
        account=account,
        signals=(
            Signal("pendo", "a1", "weekly_logins", 2.0, at_day(3)),
            Signal("pendo", "a1", "weekly_logins", 4.0, at_day(5)),
        ),
    )
    metrics = collect_metrics(default_pb(), f, at_day(6), go_live_at=None)
    assert metrics["adoption_rate"] == 90.0
    assert metrics["meeting_attendance"] == 75.0  # a fraction read as a percentage
    assert metrics["weekly_logins"] == 4.0  # the latest signal
    assert "nps" not in metrics  # unparseable = no data


def test_tasks_and_tickets_metrics() -> None:
    pb = default_pb()
    tasks = {
        "o:kickoff_call:0": open_("o:kickoff_call:0", due=T0 + timedelta(days=3)),  # milestone, required
        "o:share_timeline:0": open_("o:share_timeline:0", due=at_day(11, 23)),  # due later today: not overdue
        "o:adoption_remediation:0": open_("o:adoption_remediation:0", due=at_day(20), created=at_day(7)),
    }
    tickets = (ticket(1, 2, "urgent"), ticket(2, 4, "high", "solved"), ticket(3, 9), ticket(4, 10))
    metrics = collect_metrics(pb, facts(tasks=tasks, tickets=tickets), at_day(11), go_live_at=at_day(8))
    assert metrics["overdue_required_tasks"] == 1
    assert metrics["late_milestones"] == 1  # 8 days late > 7
    assert metrics["stale_blockers"] == 1  # created 4 days ago > 3
    assert metrics["open_urgent_tickets"] == 1
    assert metrics["days_since_go_live"] == 3
    assert metrics["tickets_per_month"] == 2.0  # 2 tickets since go-live, counted over a 30-day month


def test_failing_components_give_score_status_and_reasons() -> None:
    report = score({"overdue_required_tasks": 2, "late_milestones": 0, "stale_blockers": 0, "stale_urgent_tickets": 0})
    assert report.score == 70
    assert report.status == "healthy"
    assert report.reasons == ("2 required task(s) overdue",)
    report = score({"overdue_required_tasks": 0, "late_milestones": 1, "stale_blockers": 0, "stale_urgent_tickets": 0})
    assert report.score == 70
    assert report.status == "at-risk"
    metrics = {
        "overdue_required_tasks": 1,
        "late_milestones": 1,
        "stale_blockers": 0,
        "stale_urgent_tickets": 1,
    }
    report = score(metrics)
    assert report.status == "critical"
    assert report.score == 20
    assert report.reasons == (  # the status's text first, then heaviest first, then by component key
        "critical (health 20): escalate now",
        "1 milestone(s) late by more than a week",
        "1 required task(s) overdue",
        "1 urgent/high ticket(s) open more than 3 days",
    )


def test_after_go_live_and_applies_when() -> None:
    base = {"overdue_required_tasks": 0, "late_milestones": 0, "stale_blockers": 0, "stale_urgent_tickets": 0}
    low = {**base, "adoption_rate": 40.0, "business_outcomes": 0.0}
    assert score(low, live=False).score == 100  # adoption not scored before go-live; outcomes only in review
    report = score(low, live=True, phase="review")
    assert {c.key for c in report.components if c.scored and not c.ok} == {"adoption", "business_outcome"}
    assert "user adoption 40 % (target 80 %)" in report.reasons


def test_cel_component_with_missing_metric_is_not_scored(tmp_path: Path) -> None:
    text = """
[playbook]
name = "h"
[[segments]]
key = "std"
label = "Std"
duration_days = 30
[[phases]]
key = "only"
label = "Only"
[[phases]]
key = "end"
label = "End"
[health]
healthy_min = 80
[[health.components]]
key = "promoters"
ok_when = "metrics.nps > 7.0"
weight = 1
reason = "NPS too low"
"""
    path = tmp_path / "h.toml"
    path.write_text(text)
    model = load_playbook(path).health
    empty = build_activation(deal=None, account=None)
    report = assess(model, {}, live=True, holds=lambda c: c.evaluate(empty))
    assert report.components[0].scored is False
    assert report.score == 100
    metrics = {"nps": 5.0}
    activation = build_activation(deal=None, account=None, metrics=metrics)
    report = assess(model, metrics, live=True, holds=lambda c: c.evaluate(activation))
    assert (report.score, report.status, report.reasons) == (0, "critical", ("NPS too low",))

"""Scenarios of the simulator: how the synthetic customer and its team behave, day by day.

A :class:`Scenario` says how late the people complete their tasks and what the customer's
usage, NPS, attendance and tickets look like on each day. The runner
(:mod:`onboard_sync.simulate.runner`) writes the metrics onto the company in the sandbox CRM
(read back through the mapping's ``[account.read]`` section under the canonical names the
health rules use) and completes tasks in the CRM as a person would.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

#: Canonical metric name -> the company property the simulator writes it to.
METRIC_PROPERTIES: Mapping[str, str] = {
    "adoption_rate": "sim_adoption_rate",
    "weekly_logins": "sim_weekly_logins",
    "nps": "sim_nps",
    "meeting_attendance": "sim_meeting_attendance",
    "engagement_score": "sim_engagement_score",
    "business_outcomes": "sim_business_outcomes",
}

Curve = Callable[[int], float | None]


def const(value: float | None) -> Curve:
    """The same value every day."""
    return lambda day: value


def step(before: float, after: float, at_day: int) -> Curve:
    """``before`` until ``at_day`` (exclusive), ``after`` from it."""
    return lambda day: before if day < at_day else after


@dataclass(frozen=True)
class Scenario:
    """How one synthetic onboarding goes. Curves map the day (0 = deal won) to a value (None: no data)."""

    name: str
    description: str
    late_days: int = 0  # tasks are completed this many days after they are due
    metrics: Mapping[str, Curve] = field(default_factory=dict)
    tickets_per_month: float = 0.0  # tickets opened on the company in the CRM
    products: str = "A1;R1;E1;R2"  # the deal's products (seed 004's product-specific training)

    def metrics_on(self, day: int) -> dict[str, float]:
        """The metric values the customer shows on ``day`` (only those with data)."""
        values = {name: curve(day) for name, curve in self.metrics.items()}
        return {name: value for name, value in values.items() if value is not None}

    def tickets_on(self, day: int) -> int:
        """Tickets opened on ``day`` (evenly spread at ``tickets_per_month``)."""
        rate = self.tickets_per_month / 30.0
        return int((day + 1) * rate) - int(day * rate)


def _healthy(outcome_day: int = 45) -> dict[str, Curve]:
    return {
        "adoption_rate": const(90.0),
        "weekly_logins": const(5.0),
        "nps": const(9.0),
        "meeting_attendance": const(95.0),
        "engagement_score": const(85.0),
        "business_outcomes": step(0.0, 1.0, outcome_day),
    }


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "on-track",
            "tasks done on their due day; usage 90 %, 5 logins a week, NPS 9, attendance 95 %, "
            "a business outcome by day 45",
            metrics=_healthy(),
        ),
        Scenario(
            "late-tasks",
            "tasks done 10 days after they are due (milestones more than a week late); usage otherwise healthy",
            late_days=10,
            metrics=_healthy(),
        ),
        Scenario(
            "struggling",
            "tasks on time but usage 55 %, 1 login a week, NPS 5, attendance 60 %, engagement 50, "
            "no business outcome, 3 tickets a month",
            metrics={
                "adoption_rate": const(55.0),
                "weekly_logins": const(1.0),
                "nps": const(5.0),
                "meeting_attendance": const(60.0),
                "engagement_score": const(50.0),
                "business_outcomes": const(0.0),
            },
            tickets_per_month=3.0,
        ),
        Scenario(
            "recovering",
            "tasks on time; usage 60 % until day 45, then 90 % after remediation; healthy otherwise",
            metrics={**_healthy(), "adoption_rate": step(60.0, 90.0, 45)},
        ),
    )
}

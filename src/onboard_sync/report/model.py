"""What the onboarding report shows: plain dataclasses filled by :func:`onboard_sync.report.collect`.

:mod:`onboard_sync.report.progress` and :mod:`onboard_sync.report.metrics` fill a
:class:`ReportData`; :mod:`onboard_sync.report.html` draws it. docs/report.md defines every figure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from statistics import median

from onboard_sync.onboarding.state import OPEN_STATUSES, OnboardingStatus


@dataclass(frozen=True)
class PhaseDuration:
    phase: str
    label: str
    planned: float
    actual: float | None  # None: no completed stay in this phase
    samples: int


@dataclass(frozen=True)
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
    planned_days: int


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class FirstValue:
    """One onboarding's time to first value and its segment's planned day (None: no plan)."""

    days: int
    planned: int | None


@dataclass
class ReportData:
    """Everything the HTML report shows."""

    playbook: str
    generated_at: datetime
    onboardings: int
    by_status: dict[str, int] = field(default_factory=dict)  # onboarding status -> onboardings
    funnel: list[tuple[str, int]] = field(default_factory=list)  # (phase label, reached)
    current: dict[str, int] = field(default_factory=dict)  # phase label -> onboardings there now (not cancelled)
    first_value: list[FirstValue] = field(default_factory=list)
    first_value_source: str = "first-value task"
    first_value_before_adoption: int = 0  # adopted already past first value: when it came is unknown
    first_value_plan: dict[str, int] = field(default_factory=dict)  # segment label -> planned day
    durations: dict[str, list[PhaseDuration]] = field(default_factory=dict)  # segment label -> phases
    health_series: list[tuple[date, float, int]] = field(default_factory=list)  # (day, average, onboardings)
    health_bands: tuple[int, int] = (80, 50)  # the playbook's healthy and at-risk minimum scores
    at_risk: list[AtRisk] = field(default_factory=list)
    tasks: dict[str, int] = field(default_factory=dict)  # task status -> tasks in the CRM
    overdue_tasks: int = 0
    adopted: int = 0  # onboardings onboard-sync joined under way (catch-up)
    skipped_tasks: int = 0  # tasks of the phases that ended before their adoption, never created
    metrics: list[Metric] = field(default_factory=list)

    @property
    def completed(self) -> int:
        return self.by_status.get(OnboardingStatus.COMPLETED.value, 0)

    @property
    def cancelled(self) -> int:
        return self.by_status.get(OnboardingStatus.CANCELLED.value, 0)

    @property
    def under_way(self) -> int:
        return sum(self.by_status.get(s.value, 0) for s in OPEN_STATUSES)

    @property
    def first_value_median(self) -> float | None:
        return median(f.days for f in self.first_value) if self.first_value else None

    @property
    def first_value_on_plan(self) -> tuple[int, int]:
        """(reached first value on or before their segment's planned day, onboardings with a plan)."""
        planned = [f for f in self.first_value if f.planned is not None]
        return sum(f.days <= f.planned for f in planned if f.planned is not None), len(planned)

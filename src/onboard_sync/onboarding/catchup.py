"""Catch-up: how an onboarding already under way joins the plan, and how the plan moves when late.

onboard-sync judges a customer only from the moment it began to watch them (DESIGN §14). Under the
default policy, **adopt**:

* an onboarding first seen on a later (local) day than it started — a deal won before onboard-sync
  was installed, before ``onboard_won_since`` moved, or during an outage — is *adopted*: it joins the
  plan at the phase whose planned end has not passed yet; the tasks of the phases before it are not
  created but recorded as skipped with the reason (:func:`passed_phase_tasks`), and its alerts are
  held for ``grace_days`` working days (:meth:`CatchUp.holding_alerts`);
* whenever a phase begins later than the plan says (adoption, a customer behind plan, a sync after
  days of downtime), the plan moves by as many days (:func:`plan_shift`): start-anchored due dates,
  the planned length and ``plan_day`` follow, so the phase's tasks keep their planned lead time
  instead of being born overdue;
* a task still due before the moment it is first planned is due at the earliest moment a person can
  do it, with the reason noted (``onboarding.timeline``).

Policy **replay** keeps the plan fixed to the close date (tasks may be created overdue; each says
so). Pure code, called by :mod:`onboard_sync.onboarding.machine`.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from onboard_sync.onboarding.calendar import Calendar
from onboard_sync.onboarding.state import SkippedTask
from onboard_sync.onboarding.timeline import Schedule, Stay, phase_specs
from onboard_sync.rules.model import Phase


class CatchUpPolicy(enum.StrEnum):
    """``[onboard_sync] catch_up``: how an onboarding already under way is treated."""

    ADOPT = "adopt"
    REPLAY = "replay"


@dataclass(frozen=True)
class CatchUp:
    """The catch-up policy and the alert grace period after adoption (working days)."""

    policy: CatchUpPolicy = CatchUpPolicy.ADOPT
    grace_days: int = 3

    @property
    def adopts(self) -> bool:
        return self.policy is CatchUpPolicy.ADOPT

    def holding_alerts(self, adopted_at: datetime | None, now: datetime, calendar: Calendar) -> bool:
        """Whether alerts of an onboarding adopted at ``adopted_at`` are still held at ``now``."""
        if adopted_at is None or not self.adopts or self.grace_days <= 0:
            return False
        return calendar.local_date(now) < calendar.working_days_after(adopted_at, self.grace_days)


def joins_late(started_at: datetime, now: datetime, calendar: Calendar) -> bool:
    """Whether a new onboarding is first seen on a later local day than it started."""
    return calendar.local_date(started_at) < calendar.local_date(now)


def joining_phase(schedule: Schedule, elapsed_days: int) -> int:
    """Index of the phase an onboarding ``elapsed_days`` into the plan joins: the first whose planned
    end has not passed (the terminal phase when every other one has)."""
    phases = schedule.playbook.phases
    last = len(phases) - 1
    return next((i for i, p in enumerate(phases[:last]) if schedule.phase_end_day(p) >= elapsed_days), last)


def plan_shift(schedule: Schedule, phase: Phase, entered_at: datetime) -> int:
    """Days the plan moves when ``phase`` begins at ``entered_at``: how late that is against the
    original plan (0 when on time or early)."""
    entered_day = schedule.calendar.elapsed_days(schedule.started_at, entered_at)
    return max(0, entered_day - schedule.phase_start_day(phase))


def passed_phase_tasks(
    schedule: Schedule,
    phases: tuple[Phase, ...],
    *,
    onboarding_id: str,
    values: Mapping[str, str],
    adopted_at: datetime,
) -> list[SkippedTask]:
    """The tasks of ``phases`` (all planned to end before adoption) as skipped, with the reason."""
    calendar = schedule.calendar
    adopted = calendar.local_date(adopted_at).isoformat()
    skipped: list[SkippedTask] = []
    for phase in phases:
        start = schedule.started_at + timedelta(days=schedule.phase_start_day(phase))
        end = schedule.started_at + timedelta(days=schedule.phase_end_day(phase))
        planned = Schedule(schedule.playbook, schedule.segment, calendar, schedule.started_at, end, 0, floor=False)
        specs, _ = phase_specs(
            planned,
            phase,
            stay=Stay(start, end),
            onboarding_id=onboarding_id,
            values=values,
            holds=lambda _condition: False,
            existing={},
        )
        reason = (
            f"{phase.label} was planned to end on {calendar.local_date(end).isoformat()}, before "
            f"onboard-sync began following this customer on {adopted}"
        )
        skipped.extend(SkippedTask(dataclasses.replace(spec, note=""), reason) for spec in specs)
    return skipped

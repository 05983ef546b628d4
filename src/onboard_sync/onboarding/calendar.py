"""People's dates: the time zone, the local hour tasks are due, and (optionally) business days.

A playbook speaks in days ("the discovery call is due on day 8"). :class:`Calendar` turns those
into the moments a person would pick: the local calendar day 8 in the configured time zone, at
the configured local due time, moved to the next business day when it falls on a weekend or a
holiday (with ``business_days``). Elapsed days ("day N of M", ``days_in_phase``, ticket and task
ages) are counted on local calendar dates, so nothing changes between two evaluations a few
seconds apart and nothing flips at midnight UTC.

Pure code: the holiday calendar comes in as a membership test (the config layer builds it from
the ``holidays`` library, a maintained calendar by country and subdivision). Used by the state
machine (``onboarding.machine``, ``onboarding.timeline``, ``onboarding.health``) and built once per
run by ``config.OnboardSyncSettings.calendar``.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

#: Saturday and Sunday (``date.weekday()``).
WEEKEND = frozenset({5, 6})


@dataclass(frozen=True)
class Calendar:
    """Dates as people in one place see them. The default is UTC, every day a working day."""

    zone: tzinfo = UTC
    due_time: time = time(17, 0)
    """Local time a task with a day-based due date is due (end of the working day by default)."""
    business_days: bool = False
    """Move due dates off weekends and holidays to the next business day."""
    holidays: Container[date] = field(default_factory=frozenset)
    weekend: frozenset[int] = WEEKEND

    # -- dates -------------------------------------------------------------------------------
    def local(self, moment: datetime) -> datetime:
        """``moment`` in the calendar's time zone."""
        return moment.astimezone(self.zone)

    def local_date(self, moment: datetime) -> date:
        """The local calendar date of ``moment``."""
        return moment.astimezone(self.zone).date()

    def elapsed_days(self, start: datetime, now: datetime) -> int:
        """Whole local calendar days from ``start`` to ``now`` (0 on the start date, never negative)."""
        return max((self.local_date(now) - self.local_date(start)).days, 0)

    # -- business days -----------------------------------------------------------------------
    def is_business_day(self, day: date) -> bool:
        """A weekday that is not a holiday (every day is one without ``business_days``)."""
        if not self.business_days:
            return True
        return day.weekday() not in self.weekend and day not in self.holidays

    def next_business_day(self, day: date) -> date:
        """``day`` itself when it is a business day, else the first business day after it."""
        for _ in range(366):
            if self.is_business_day(day):
                return day
            day += timedelta(days=1)
        raise ValueError("no business day within a year: check the weekend and holiday settings")

    def working_days_after(self, start: datetime, count: int) -> date:
        """The local date ``count`` working days (weekdays that are not holidays) after ``start``'s
        local date, whether or not due dates follow business days (grace periods count these)."""
        day = self.local_date(start)
        for _ in range(count):
            day += timedelta(days=1)
            while day.weekday() in self.weekend or day in self.holidays:
                day += timedelta(days=1)
        return day

    # -- due moments -------------------------------------------------------------------------
    def at(self, day: date, at: time | None = None) -> datetime:
        """The aware UTC moment of local ``day`` at ``at`` (the due time by default).

        A wall time that does not exist on a DST change (02:30 on a spring-forward night) is
        read as the moment just after the gap, as ``zoneinfo`` does.
        """
        local = datetime.combine(day, at or self.due_time, tzinfo=self.zone)
        return local.astimezone(UTC)

    def due_on_day(self, start: datetime, days: int) -> datetime:
        """Due on the local day ``days`` after ``start``'s local date, at the due time, on a business day."""
        day = self.local_date(start) + timedelta(days=days)
        return self.at(self.next_business_day(day))

    def due_after_hours(self, anchor: datetime, hours: float) -> datetime:
        """``hours`` after ``anchor``; on a non-business day moved to the next business day, same local time."""
        due = anchor + timedelta(hours=hours)
        day = self.local_date(due)
        moved = self.next_business_day(day)
        if moved == day:
            return due
        return self.at(moved, self.local(due).time().replace(tzinfo=None))

    def earliest_due(self, now: datetime) -> datetime:
        """The first due moment a task created at ``now`` can have: today at the due time if that
        is still ahead (and today is a business day), else the next business day at the due time."""
        today = self.local_date(now)
        due = self.at(self.next_business_day(today))
        if due <= now:
            due = self.at(self.next_business_day(today + timedelta(days=1)))
        return due


UTC_CALENDAR = Calendar()
"""The calendar of a configuration that sets nothing: UTC, due at 17:00, every day a working day."""

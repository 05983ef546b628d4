"""The ``[onboard_sync]`` keys that decide people's dates and catch-up, and what they build.

``timezone``, ``due_time``, ``business_days`` and ``holidays`` become an
:class:`~onboard_sync.onboarding.calendar.Calendar`; ``catch_up`` and ``catch_up_grace_days`` a
:class:`~onboard_sync.onboarding.catchup.CatchUp`. Holidays come from the ``holidays`` library (a
maintained calendar of public holidays by country and subdivision) plus the company's own days
off. ``config.load_config`` validates them (errors name file:line); the engine builds both once
per run (:func:`calendar_of`, :func:`catch_up_of`). Documented in docs/configuration.md.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Container
from datetime import date, time
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from onboard_sync.onboarding.calendar import Calendar
from onboard_sync.onboarding.catchup import CatchUp, CatchUpPolicy

if TYPE_CHECKING:
    from onboard_sync.config import CoreSettings


class HolidaySettings(BaseModel):
    """``holidays = { country = "US", subdivision = "CA", extra = [2026-12-24] }``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    country: str | None = Field(None, description="ISO 3166 country code of the public holidays (e.g. US, DE, GB).")
    subdivision: str | None = Field(None, description="State or region within the country (e.g. CA, BY, SCT).")
    extra: tuple[date, ...] = Field((), description="The company's own days off.")

    def check(self) -> str | None:
        """Why the country or subdivision is not in the holiday calendar (``None`` when it is)."""
        if self.country is None:
            return "subdivision needs a country" if self.subdivision else None
        import holidays  # only when configured: keeps the CLI's start-up light

        supported = holidays.list_supported_countries()
        if self.country.upper() not in supported:
            return f"unknown holiday country {self.country!r} (an ISO 3166 code such as US, DE, GB)"
        subdivisions = supported[self.country.upper()]
        if self.subdivision is not None and self.subdivision.upper() not in {s.upper() for s in subdivisions}:
            shown = ", ".join(subdivisions[:12]) + (" …" if len(subdivisions) > 12 else "")
            return f"unknown subdivision {self.subdivision!r} of {self.country.upper()} (known: {shown})"
        return None

    def days_off(self) -> Container[date]:
        """A membership test for every holiday (the library's calendar grows by year on demand)."""
        public: Container[date] = frozenset()
        if self.country is not None:
            import holidays

            public = holidays.country_holidays(self.country.upper(), subdiv=self.subdivision)
        return _DaysOff(public, frozenset(self.extra))


class _DaysOff(Container[date]):
    """Public holidays and the company's own days off, as one ``in`` test."""

    def __init__(self, public: Container[date], extra: frozenset[date]) -> None:
        self.public, self.extra = public, extra

    def __contains__(self, day: object) -> bool:
        return day in self.extra or day in self.public


class ScheduleSettings(BaseModel):
    """The ``[onboard_sync]`` keys of dates and catch-up (mixed into ``config.CoreSettings``)."""

    timezone: str = Field("UTC", description="Time zone of due dates, days and dates shown to people (IANA name).")
    due_time: time = Field(
        time(17, 0), description='Local time a task with a day-based due date is due ("17:00" or 17:00:00).'
    )
    business_days: bool = Field(False, description="Move due dates off weekends and holidays.")
    holidays: HolidaySettings = Field(default_factory=HolidaySettings, description="Holiday calendar.")
    catch_up: CatchUpPolicy = Field(
        CatchUpPolicy.ADOPT,
        description='"adopt": onboardings already under way join the plan where it says, late phases move '
        'the plan; "replay": the plan stays fixed to the close date.',
    )
    catch_up_grace_days: int = Field(3, ge=0, le=60, description="Working days alerts are held after adoption.")

    @field_validator("due_time", mode="before")
    @classmethod
    def _a_time(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return time.fromisoformat(value.strip())
            except ValueError:
                raise ValueError(f'expected a local time such as "17:00", got {value!r}') from None
        if isinstance(value, time) and value.tzinfo is not None:
            raise ValueError("due_time is a local time in `timezone`; leave out the offset")
        return value

    @field_validator("timezone")
    @classmethod
    def _a_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as America/Los_Angeles)") from None
        return value

    @field_validator("holidays")
    @classmethod
    def _known_calendar(cls, value: HolidaySettings) -> HolidaySettings:
        problem = value.check()
        if problem:
            raise ValueError(problem)
        return value


def calendar_of(core: CoreSettings) -> Calendar:
    """The people's calendar the configuration describes."""
    return Calendar(
        zone=zoneinfo.ZoneInfo(core.timezone),
        due_time=core.due_time,
        business_days=core.business_days,
        holidays=core.holidays.days_off(),
    )


def catch_up_of(core: CoreSettings) -> CatchUp:
    """The catch-up policy the configuration describes."""
    return CatchUp(policy=core.catch_up, grace_days=core.catch_up_grace_days)


def describe(core: CoreSettings) -> dict[str, Any]:
    """The settings as plain values (``status --json`` and the report show them)."""
    return {
        "timezone": core.timezone,
        "due_time": core.due_time.strftime("%H:%M"),
        "business_days": core.business_days,
        "holidays": core.holidays.model_dump(mode="json", exclude_defaults=True),
        "catch_up": core.catch_up.value,
        "catch_up_grace_days": core.catch_up_grace_days,
    }

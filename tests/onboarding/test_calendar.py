"""People's dates: a task due "day N" lands on the local day N at the due time, off weekends and holidays."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import holidays
import pytest
from onboarding_sim import OID, default_pb, facts, make_deal

from onboard_sync.onboarding.calendar import Calendar
from onboard_sync.onboarding.catchup import CatchUp, CatchUpPolicy
from onboard_sync.onboarding.machine import evaluate
from onboard_sync.onboarding.state import OnboardingState, OnboardingStatus, PhaseVisit, TransitionCause

LA = ZoneInfo("America/Los_Angeles")
REPLAY = CatchUp(CatchUpPolicy.REPLAY)


def la_calendar(*, business_days: bool = True) -> Calendar:
    days_off = holidays.country_holidays("US", subdiv="CA")
    return Calendar(zone=LA, due_time=time(17, 0), business_days=business_days, holidays=days_off)


def test_day_n_is_the_local_day_at_the_due_time() -> None:
    cal = Calendar(zone=LA, due_time=time(9, 30))
    # 23:00 in Los Angeles on Monday 2026-03-02 is already Tuesday in UTC
    start = datetime(2026, 3, 3, 7, 0, tzinfo=UTC)
    assert cal.local_date(start) == date(2026, 3, 2)
    due = cal.due_on_day(start, 8)
    assert due.astimezone(LA).date() == date(2026, 3, 10)
    assert due.astimezone(LA).time() == time(9, 30)


@pytest.mark.parametrize(
    ("start_day", "label"),
    [(date(2026, 3, 2), "before the spring-forward change (2026-03-08)"), (date(2026, 10, 27), "before fall-back")],
)
def test_day_8_lands_on_local_day_8_across_a_dst_change(start_day: date, label: str) -> None:
    cal = Calendar(zone=LA, due_time=time(17, 0))
    start = datetime.combine(start_day, time(16, 0), tzinfo=LA).astimezone(UTC)
    due = cal.due_on_day(start, 8).astimezone(LA)
    assert due.date() == date.fromordinal(start_day.toordinal() + 8), label
    assert due.time() == time(17, 0), f"the wall-clock due time survives the change ({label})"
    # and the UTC offset did change in between: the due time is not simply start + 8 × 24 h
    assert due.utcoffset() != datetime.combine(start_day, time(16, 0), tzinfo=LA).utcoffset()


def test_saturday_and_a_holiday_move_to_the_next_business_day() -> None:
    cal = la_calendar()
    saturday = date(2026, 11, 21)
    assert cal.next_business_day(saturday) == date(2026, 11, 23)  # Monday
    thanksgiving, friday_after = date(2026, 11, 26), date(2026, 11, 27)  # both California holidays
    assert cal.next_business_day(thanksgiving) == date(2026, 11, 30)
    assert not cal.is_business_day(friday_after)
    start = datetime.combine(date(2026, 11, 18), time(10, 0), tzinfo=LA).astimezone(UTC)  # a Wednesday
    assert cal.due_on_day(start, 3).astimezone(LA) == datetime(2026, 11, 23, 17, 0, tzinfo=LA)  # Sat -> Mon
    assert cal.due_on_day(start, 8).astimezone(LA) == datetime(2026, 11, 30, 17, 0, tzinfo=LA)  # Thu -> Mon
    assert Calendar(zone=LA).due_on_day(start, 3).astimezone(LA).date() == saturday, "off by default"


def test_hour_based_due_on_a_weekend_keeps_its_local_time_on_monday() -> None:
    cal = la_calendar()
    friday_2pm = datetime(2026, 11, 20, 14, 0, tzinfo=LA)
    assert cal.due_after_hours(friday_2pm, 24).astimezone(LA) == datetime(2026, 11, 23, 14, 0, tzinfo=LA)
    assert cal.due_after_hours(friday_2pm, 2).astimezone(LA) == datetime(2026, 11, 20, 16, 0, tzinfo=LA)


def test_earliest_due_is_today_while_the_due_time_is_ahead_else_the_next_business_day() -> None:
    cal = la_calendar()
    friday_morning = datetime(2026, 11, 20, 9, 0, tzinfo=LA)
    assert cal.earliest_due(friday_morning).astimezone(LA) == datetime(2026, 11, 20, 17, 0, tzinfo=LA)
    friday_evening = datetime(2026, 11, 20, 18, 0, tzinfo=LA)
    assert cal.earliest_due(friday_evening).astimezone(LA) == datetime(2026, 11, 23, 17, 0, tzinfo=LA)


def test_working_days_skip_weekends_and_holidays_even_without_business_day_due_dates() -> None:
    cal = la_calendar(business_days=False)
    wednesday = datetime(2026, 11, 25, 12, 0, tzinfo=LA)
    assert cal.working_days_after(wednesday, 3) == date(2026, 12, 2)  # Thu/Fri holidays, weekend


def _in(phase: str, started: datetime) -> OnboardingState:
    return OnboardingState(
        id=OID,
        source="hs",
        deal_id="d1",
        account_id="a1",
        segment="mid_market",
        phase=phase,
        status=OnboardingStatus.ACTIVE,
        started_at=started,
        phase_entered_at=started,
        history=(PhaseVisit(phase, started, TransitionCause.STARTED),),
    )


def test_the_machine_puts_playbook_days_on_local_business_days() -> None:
    """A deal won on Wednesday 2026-11-18 in Los Angeles: discovery's day-7 task ("success metrics")
    falls on Wednesday the 25th; day 8 would be Thanksgiving and moves to Monday the 30th."""
    cal = la_calendar()
    won = datetime(2026, 11, 18, 15, 0, tzinfo=LA).astimezone(UTC)
    now = datetime(2026, 11, 22, 12, 0, tzinfo=LA).astimezone(UTC)
    ev = evaluate(_in("discovery", won), facts(make_deal(close=won)), default_pb(), now, onboarding_id=OID,
                  calendar=cal, catch_up=REPLAY)  # fmt: skip
    due = {t.template_key: t.due_at.astimezone(LA) for t in ev.tasks}
    assert due["success_metrics"] == datetime(2026, 11, 25, 17, 0, tzinfo=LA)
    tweaked = dataclasses.replace(cal, holidays=frozenset({date(2026, 11, 25)}))
    ev = evaluate(_in("discovery", won), facts(make_deal(close=won)), default_pb(), now, onboarding_id=OID,
                  calendar=tweaked, catch_up=REPLAY)  # fmt: skip
    assert {t.template_key: t.due_at.astimezone(LA) for t in ev.tasks}["success_metrics"] == datetime(
        2026, 11, 26, 17, 0, tzinfo=LA
    ), "a configured company holiday moves it to the next business day"


def test_days_count_local_calendar_days() -> None:
    """Won at 20:00 in Los Angeles (04:00 UTC the next day): the next local morning is day 1."""
    cal = Calendar(zone=LA)
    won = datetime(2026, 11, 18, 20, 0, tzinfo=LA).astimezone(UTC)
    morning = datetime(2026, 11, 19, 8, 0, tzinfo=LA).astimezone(UTC)
    assert won.date() == morning.date(), "the same UTC day"
    ev = evaluate(_in("kickoff", won), facts(make_deal(close=won)), default_pb(), morning, onboarding_id=OID,
                  calendar=cal, catch_up=REPLAY)  # fmt: skip
    assert ev.fields
    assert next(iter(ev.fields.values()))["day"] == "1"
    assert next(iter(ev.fields.values()))["start_date"] == "2026-11-18"

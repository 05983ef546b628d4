"""``onboard_won_since``: customers won before onboard-sync was installed get no onboarding.

The HubSpot sandbox over real HTTP; its won deals closed over the last 21 days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from e2e_support import created_tasks


def _won_close_days(project: Any) -> dict[str, date]:
    deals = project.sandbox.backend.deals
    return {
        deal_id: datetime.fromisoformat(deal.properties["closedate"].replace("Z", "+00:00")).astimezone(UTC).date()
        for deal_id, deal in deals.items()
        if deal.properties.get("dealstage") == "closedwon"
    }


def _set_won_since(project: Any, day: date | None) -> None:
    config = project.config_path
    lines = [line for line in config.read_text().splitlines() if not line.startswith("onboard_won_since")]
    if day is not None:
        lines.insert(lines.index("[onboard_sync]") + 1, f"onboard_won_since = {day.isoformat()}")
    config.write_text("\n".join(lines) + "\n")


def _split_day(days: dict[str, date]) -> date:
    """A cutoff with won deals on both sides of it."""
    ordered = sorted(set(days.values()))
    assert len(ordered) >= 3, "the sandbox spreads close dates over several days"
    return ordered[len(ordered) // 2]


def test_won_deals_that_closed_before_the_cutoff_get_no_onboarding(project: Any) -> None:
    days = _won_close_days(project)
    cutoff = _split_day(days)
    _set_won_since(project, cutoff)

    report = project.sync()

    assert report.ok, report.as_dict()
    early = {deal_id for deal_id, day in days.items() if day < cutoff}
    with project.store() as store:
        onboarded = {o.deal_id for o in store.onboardings(source="hubspot")}
    assert onboarded == set(days) - early
    assert report.instances["hubspot"].won_before_cutoff == len(early)
    assert report.as_dict()["connectors"]["hubspot"]["won_before_cutoff"] == len(early)
    assert not {t.onboarding_id.split(":", 1)[1] for t in created_tasks(project).values()} & early


def test_an_onboarding_that_exists_goes_on_when_a_cutoff_is_set_later(project: Any) -> None:
    days = _won_close_days(project)
    assert project.sync().ok
    with project.store() as store:
        before = {o.id: o.status for o in store.onboardings(source="hubspot")}
    assert {key.split(":", 1)[1] for key in before} == set(days)

    _set_won_since(project, _split_day(days))
    report = project.sync(full=True)

    assert report.ok, report.as_dict()
    with project.store() as store:
        after = {o.id: o.status for o in store.onboardings(source="hubspot")}
    assert after == before, "no onboarding is dropped or cancelled by a cutoff"
    assert report.instances["hubspot"].won_before_cutoff == 0
    assert report.totals()["created"] == 0

"""What the report tests draw: a simulated onboarding (the real engine), the known book, a stress case."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from report_book import SEED004, build

from onboard_sync.report import collect, render_html
from onboard_sync.report.model import FirstValue, Metric, PhaseDuration, ReportData
from onboard_sync.rules import load_playbook
from onboard_sync.simulate import simulate
from onboard_sync.store import Store


@pytest.fixture(scope="session")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Any]:
    """(store URL, timeline) of 95 days of a struggling customer on seed 004's playbook."""
    url = f"sqlite:///{tmp_path_factory.mktemp('sim') / 'sim.db'}"
    timeline = simulate(SEED004, days=95, scenario="struggling", store_url=url)
    return url, timeline


@pytest.fixture(scope="session")
def book_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of a store holding report_book's known onboardings, tasks, tickets and health."""
    url = f"sqlite:///{tmp_path_factory.mktemp('book') / 'book.db'}"
    build(url)
    return url


def stress_data() -> ReportData:
    """A report with what makes charts hard: long phase and segment names, a plan line at day 0 and
    one far right, first values far past the plan, long metric texts, hundreds of health days."""
    long = "Technical onboarding and custom integration workshop with the customer's IT department"
    data = ReportData(playbook="a playbook with a rather long name", generated_at=datetime(2026, 3, 2, tzinfo=UTC),
                      onboardings=12345, by_status={"active": 12000, "completed": 300, "cancelled": 45})  # fmt: skip
    data.funnel = [(long, 12345), ("Kickoff", 9000), ("Go-live", 1)]
    data.current = {long: 3345, "Kickoff": 8999, "Go-live": 1}
    data.first_value = [FirstValue(days=d, planned=0) for d in (0, 1, 5, 400)]
    data.first_value_plan = {"Self-service small business accounts": 0, "Strategic enterprise accounts": 3}
    start = date(2025, 1, 1)
    data.health_series = [(start + timedelta(days=i), 50 + (i % 50), 100 + i) for i in range(400)]
    data.durations = {
        "Strategic enterprise accounts with a dedicated technical account manager": [
            PhaseDuration("a", long, 12345.6, 99999.9, 3),
            PhaseDuration("b", "Kickoff", 0.0, None, 0),
        ]
    }
    data.metrics = [Metric("m", long, 99.9, " %", "100 %", long, long)]
    return data


@pytest.fixture(scope="session")
def pages(simulated: tuple[str, Any], book_url: str) -> dict[str, str]:
    """Rendered report pages: the simulation, the known book, and the stress case."""
    from report_book import NOW, playbook

    with Store.open(simulated[0], read_only=True) as store:
        simulation = render_html(collect(store, load_playbook(SEED004), store.runs(limit=1)[0].started_at))
    with Store.open(book_url, read_only=True) as store:
        book = render_html(collect(store, playbook(), NOW))
    return {"simulation": simulation, "book": book, "stress": render_html(stress_data())}

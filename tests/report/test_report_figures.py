"""Every figure the report shows, one test each, from a store with known contents (report_book.py).

Each expected number is worked out by hand from the book in the test's comment and checked in
the rendered HTML (tiles, chart marks, table cells), not only in the collected data.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from report_book import NOW, playbook
from report_page import charts, marks, metric, section, text_of, tile, values

from onboard_sync.report import collect, render_html
from onboard_sync.store import Store


@pytest.fixture(scope="module")
def page(book_url: str) -> str:
    with Store.open(book_url, read_only=True) as store:
        return render_html(collect(store, playbook(), NOW))


# -- headline tiles -----------------------------------------------------------------------------


def test_tile_onboardings_counts_the_playbooks_onboardings(page: str) -> None:
    # A-F; the seventh onboarding belongs to another playbook
    assert tile(page, "onboardings") == "6"


def test_tile_under_way_counts_active_at_risk_and_extended(page: str) -> None:
    # B, E, F active; C at-risk
    assert tile(page, "under way") == "4"


def test_tile_completed_counts_completed_onboardings(page: str) -> None:
    assert tile(page, "completed") == "1"  # A


def test_tile_cancelled_counts_cancelled_onboardings(page: str) -> None:
    assert tile(page, "cancelled") == "1"  # D


def test_tile_at_risk_counts_open_onboardings_at_risk_or_not_healthy(page: str) -> None:
    # C (status at-risk), B (active, health at-risk); D's at-risk health does not count: it is cancelled
    assert tile(page, "at risk") == "2"


def test_tile_median_days_to_first_value(page: str) -> None:
    # the default playbook has no first-value task, so first value is go-live: F day 1, A day 12, B day 35
    assert tile(page, "median days to first value") == "12"


# -- funnel ---------------------------------------------------------------------------------------


def test_funnel_counts_onboardings_that_entered_each_phase(page: str) -> None:
    funnel = charts(page)["funnel"][0]
    assert values(funnel) == {
        "Sales handoff": "6",  # all
        "Kickoff": "4",  # A B C D
        "Discovery": "2",  # A B
        "Configuration": "2",
        "Training": "2",
        "Go-live": "2",
        "Adoption": "3",  # A B, and F set there by hand
        "Business review": "1",  # A
        "Completed": "1",
    }
    assert [m["data-label"] for m in marks(funnel)][:2] == ["Sales handoff", "Kickoff"]  # in playbook order


def test_funnel_note_says_where_the_onboardings_not_cancelled_are_now(page: str) -> None:
    note = text_of(section(page, "chart-funnel"))
    assert "Now (not cancelled): Sales handoff 1, Kickoff 1, Adoption 2, Completed 1. Cancelled: 1." in note


# -- time to first value --------------------------------------------------------------------------


def test_first_value_histogram_counts_each_onboarding_in_its_days_bucket(page: str) -> None:
    # plans: SMB day 14, Mid-market 30, Enterprise 75 -> axis to ceil(76 x 1.25) = 95 days in 19 columns of 5
    chart = charts(page)["first-value"][0]
    columns = marks(chart)
    assert len(columns) == 19
    assert columns[0]["data-label"] == "days 0–4"
    assert columns[-1]["data-label"] == "days 90–94"
    assert {c["data-label"]: c["data-value"] for c in columns if c["data-value"] != "0"} == {
        "days 0–4": "1",  # F, day 1
        "days 10–14": "1",  # A, day 12
        "days 35–39": "1",  # B, day 35
    }


def test_first_value_axis_is_scaled_to_each_segments_planned_day(page: str) -> None:
    chart = charts(page)["first-value"][0]
    assert [m["data-value"] for m in marks(chart, "marker")] == ["14", "30", "75"]
    labels = [t.text or "" for t in chart.iter("{http://www.w3.org/2000/svg}text")]
    assert "SMB plan: day 14" in labels
    assert "Mid-market plan: day 30" in labels
    assert "Enterprise plan: day 75" in labels


def test_first_value_note_gives_median_and_share_on_plan(page: str) -> None:
    # on plan: F (1 <= 14), A (12 <= 14); late: B (35 > 30)
    note = text_of(section(page, "chart-first-value"))
    assert "3 onboardings reached first value, median 12 days; 2 of 3 on or before their segment's planned day" in note
    assert "First value = the go-live completed" in note


# -- phase durations --------------------------------------------------------------------------


def test_phase_durations_average_the_completed_stays_of_each_segment(page: str) -> None:
    found = {svg.attrib["data-chart"] + str(i): svg for i, svg in enumerate(charts(page)["durations"])}
    smb, mid, enterprise = found.values()  # in the playbook's segment order
    assert values(smb, series="actual") == {
        "Sales handoff": "1",  # A 1, D 1, F 1
        "Kickoff": "1.5",  # A (D's stay never ended)
        "Discovery": "3",
        "Configuration": "4",
        "Training": "2",
        "Go-live": "1",
        "Adoption": "30",  # A (F is still there)
        "Business review": "7.5",
    }
    assert values(mid, series="actual") == {
        "Sales handoff": "2",  # B (E is still there)
        "Kickoff": "3",
        "Discovery": "7",
        "Configuration": "10",
        "Training": "8",
        "Go-live": "5",
    }
    assert {m["data-label"] for m in marks(mid, "nodata")} == {"Adoption", "Business review"}
    assert values(enterprise, series="actual") == {"Sales handoff": "4"}  # C


def test_phase_durations_plan_is_the_playbook_scaled_to_the_segment(page: str) -> None:
    smb, mid, enterprise = charts(page)["durations"]
    # mid-market runs the base plan: phases end on days 1, 3, 10, 20, 28, 30, 60, 90
    assert values(mid, series="plan") == {
        "Sales handoff": "1",
        "Kickoff": "2",
        "Discovery": "7",
        "Configuration": "10",
        "Training": "8",
        "Go-live": "2",
        "Adoption": "30",
        "Business review": "30",
    }
    # enterprise stretches the implementation by 75/30 = 2.5; after go-live the distances stay
    assert values(enterprise, series="plan")["Discovery"] == "17.5"
    assert values(enterprise, series="plan")["Adoption"] == "30"
    # SMB shrinks it by 14/30: discovery is days 1.4 to 4.67 = 3.3 days
    assert values(smb, series="plan")["Discovery"] == "3.3"
    # SMB: A left 8 phases, D and F one each
    assert "over the 10 completed stays" in text_of(section(page, "chart-durations"))


# -- health over time -------------------------------------------------------------------------


def test_health_over_time_averages_the_open_onboardings_each_day(page: str) -> None:
    health = charts(page)["health"][0]
    points = [(p["data-label"], p["data-value"]) for p in marks(health, "point")]
    # D alone Jan 20-25 (cancelled on the 25th), nobody assessed Jan 26 - Feb 17, then:
    # Feb 18 A80 B50; Feb 19 A85 B50 C30; Feb 20 + F75 (A completes that day); Feb 21 B55 C30 F75; Feb 25 + E90
    assert points[:6] == [(f"Jan {d}", "60") for d in range(20, 26)]
    assert points[6:] == [
        ("Feb 18", "65"),
        ("Feb 19", "55"),
        ("Feb 20", "60"),
        ("Feb 21", "53.3"),
        ("Feb 22", "53.3"),
        ("Feb 23", "53.3"),
        ("Feb 24", "53.3"),
        ("Feb 25", "62.5"),
        ("Feb 26", "62.5"),  # the refused write of 99 that day is not an assessment
        ("Feb 27", "62.5"),
        ("Feb 28", "62.5"),
        ("Mar 01", "62.5"),
        ("Mar 02", "62.5"),
    ]
    assert "(4 on the last day, at most 4 on one day;" in text_of(section(page, "chart-health"))


def test_health_chart_places_days_by_date_and_breaks_the_line_over_gaps(page: str) -> None:
    health = charts(page)["health"][0]
    xs = [float(p["cx"]) for p in marks(health, "point")]
    per_day = (xs[-1] - xs[0]) / 41  # Jan 20 -> Mar 02
    assert xs[6] - xs[5] == pytest.approx(24 * per_day, abs=0.2)  # Jan 25 -> Feb 18
    lines = list(health.iter("{http://www.w3.org/2000/svg}polyline"))
    assert len(lines) == 2


def test_health_bands_follow_the_playbooks_thresholds(page: str) -> None:
    # default playbook: healthy from 70, at risk from 40
    health = charts(page)["health"][0]
    ticks = [t.text for t in health.iter("{http://www.w3.org/2000/svg}text") if t.attrib.get("text-anchor") == "end"]
    assert ticks == ["0", "40", "70", "100"]
    assert "Healthy from 70, at risk from 40, critical below." in text_of(section(page, "chart-health"))


# -- at risk ------------------------------------------------------------------------------------


def test_at_risk_table_lists_worst_health_first_with_day_of_plan(page: str) -> None:
    table = section(page, "at-risk")
    rows = [text_of(r) for r in table.split("<tr>")[2:]]
    # C: enterprise plan runs to day 75 + 60 = 135; B: mid-market to 90
    assert rows[0].startswith("Cedar Co - plan Cedar Co Enterprise Kickoff at-risk day 29 of 135 30 critical")
    assert "critical (health 30): escalate now 2 required task(s) overdue" in rows[0]
    assert rows[1].startswith("Birch Co - plan Birch Co Mid-market Adoption active day 41 of 90 55 at-risk")
    assert len(rows) == 2


# -- tasks and success metrics ------------------------------------------------------------------


def test_task_counts_by_status_with_overdue(page: str) -> None:
    # created in the CRM: open t5 t6 t8, completed t1 t2 t4 t7 t10, deleted t3 (t9 never reached the CRM);
    # overdue: t5 (Feb 20) and t8 (this morning)
    counts = text_of(page.split('id="task-counts">')[1].split("</p>")[0])
    assert counts == ("Tasks in the CRM: 3 open, 5 completed, 1 deleted in the CRM, 2 of the open ones overdue.")


def test_tasks_completed_on_time(page: str) -> None:
    # settled: t1 (same day, on time), t2 (late), t4 (early), t5 (open past its day: late), t7 (done before a
    # future due day); not settled: t6, t8 (its day is not over); left out: t3 deleted, t10 without a due date
    assert metric(page, "tasks_on_time")[1:3] == ["60 %", "100 %"]
    assert "3 of 5 tasks completed by their due day" in metric(page, "tasks_on_time")[3]
    assert values(charts(page)["success"][0])["Tasks on time"] == "60"


def test_completion_rate_counts_onboardings_that_ended_or_passed_their_plan(page: str) -> None:
    # ended: A completed, D cancelled; past the plan's last day: F (121 days in, SMB plan 74 days);
    # B, C, E are still within plan
    row = metric(page, "completion_rate")
    assert row[1:3] == ["33.3 %", "95 % or more"]
    assert row[3] == "1 of 3 completed (ended, or past the plan's last day); 3 more still within plan"
    assert values(charts(page)["success"][0])["Completion rate"] == "33.3"


def test_feature_adoption_share_at_target_among_onboardings_30_days_in(page: str) -> None:
    # 30+ days in, not cancelled: A (85 %), B (0.92 = 92 %), F (7 of 10 seats = 70 %); C is 29 days in
    row = metric(page, "feature_adoption")
    assert row[0] == "Feature adoption ≥ 80 % (30+ days in)"  # the playbook's adoption component: min 80
    assert row[1] == "66.7 %"
    assert row[3] == "2 of 3 onboardings with adoption data (3 are 30+ days in)"


def test_tickets_a_month_after_go_live_from_the_crm_and_linked_helpdesks(page: str) -> None:
    # A: 2 CRM tickets since Jan 13, live 48 days -> 2 x 30 / 48 = 1.25
    # B: 3 helpdesk tickets of its linked organization since Feb 24, live 6 days (counted as a month) -> 3
    # F: none -> 0; average (1.25 + 3 + 0) / 3 = 1.42; C's ticket (never live) and org-x's (unlinked) not counted
    row = metric(page, "tickets_per_month")
    assert row[1:3] == ["1.4", "< 2 a month"]  # the playbook's ticket_volume component: below 2
    assert row[3] == "5 tickets since go-live across 3 live onboardings; 2 of them at < 2 a month"
    assert "Tickets a month" not in values(charts(page)["success"][0])  # not a percentage: table only


def test_generated_at_is_the_moment_given(page: str) -> None:
    assert "as of 2026-03-02 12:00 UTC" in page


def test_an_empty_store_shows_no_data_not_zeros(tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'empty.db'}") as store:
        html = render_html(collect(store, playbook(), NOW))
    assert tile(html, "onboardings") == "0"
    assert tile(html, "median days to first value") == "no data"
    for key in ("completion_rate", "tasks_on_time", "feature_adoption", "tickets_per_month"):
        assert metric(html, key)[1] == "no data"
    assert metric(html, "completion_rate")[3] == "none has ended or passed its plan's last day yet (0 within plan)"
    assert metric(html, "tasks_on_time")[3] == "no task is completed or past its due day yet"
    assert "funnel" not in charts(html)
    assert "success" not in charts(html)

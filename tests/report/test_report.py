"""The HTML report, rendered from stores produced by a real simulation and a real sync: every chart is
checked structurally (bars/points, labels, values) against what the engine did."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from report_book import SEED004
from report_page import charts, marks, metric

from onboard_sync.report import collect, render_html
from onboard_sync.rules import load_playbook


def test_report_from_a_simulation_store_draws_the_real_data(simulated: tuple[str, Any], tmp_path: Path) -> None:
    url, timeline = simulated
    out = tmp_path / "report.html"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "onboard_sync.cli",
            "report",
            "--store",
            url,
            "--rules",
            str(SEED004),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    html = out.read_text(encoding="utf-8")
    assert "<script" not in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    found = charts(html)
    assert sorted(found) == ["durations", "first-value", "funnel", "health", "success"]

    # funnel: one bar per phase, in playbook order; this customer reached all but the healthy path
    funnel = marks(found["funnel"][0])
    pb = load_playbook(SEED004)
    assert [b["data-label"] for b in funnel] == [p.label for p in pb.phases]
    reached = {"Handoff to account manager": "0", "Onboarding complete": "0"}
    assert [b["data-value"] for b in funnel] == [reached.get(p.label, "1") for p in pb.phases]

    # time to first value: scaled to the plan (first value due day 7) -> one-day columns 0..9, the one
    # onboarding in column 7 (data flowing on day 7), the plan's line after it
    first = found["first-value"][0]
    columns = marks(first)
    assert [c["data-label"] for c in columns] == [f"day {i}" for i in range(10)]
    assert [c["data-label"] for c in columns if c["data-value"] != "0"] == ["day 7"]
    assert [m["data-value"] for m in marks(first, "marker")] == ["7"]
    assert timeline.completed()["data_integration_check"] == 7

    # health over time: one point per simulated day, the values the engine assessed (50 → 25 at go-live → 20)
    points = marks(found["health"][0], "point")
    assert len(points) == 96
    values = [float(p["data-value"]) for p in points]
    assert values[0] == 50
    assert values[30] == 25
    assert values[-1] == 20
    assert [float(p["data-value"]) for p in points] == [float(r.health_score) for r in timeline.days]

    # durations: actual vs plan for every non-terminal phase; phases never left show "no data"
    durations = found["durations"][0]
    actual = {b["data-label"]: b["data-value"] for b in marks(durations) if b["data-series"] == "actual"}
    plan = {b["data-label"]: b["data-value"] for b in marks(durations) if b["data-series"] == "plan"}
    assert list(plan) == [p.label for p in pb.phases[:-1]]
    assert actual == {
        "Sales handoff": "1",
        "Kickoff": "2",
        "Data integration": "4",
        "Training": "23",
        "Driving usage": "30",
        "Business review": "30",
    }
    assert plan["Kickoff"] == "2"
    assert plan["Driving usage"] == "30"
    assert {e["data-label"] for e in marks(durations, "nodata")} == {
        "Extended onboarding",
        "Handoff to account manager",
    }

    # success metrics: the percentages as bars; tickets a month after go-live computed from the tickets the
    # simulated customer opened (the store holds them as HubSpot tickets)
    success = {b["data-label"]: b["data-value"] for b in marks(found["success"][0])}
    assert sorted(success) == ["Adoption ≥ 80 %", "Completion rate", "Tasks on time"]
    assert success["Completion rate"] == success["Adoption ≥ 80 %"] == "0"
    assert 90 <= float(success["Tasks on time"]) <= 100
    live = next(r.day for r in timeline.days if r.phase == "driving_usage")  # training done: live
    since = sum(r.tickets_opened for r in timeline.days if r.day >= live)
    assert since > 0
    expected = round(since * 30 / max(timeline.days[-1].day - live, 30), 1)
    assert metric(html, "tickets_per_month")[1] == f"{expected:g}"
    assert metric(html, "tickets_per_month")[3].startswith(f"{since} tickets since go-live across 1 live onboarding")

    # at-risk list with its reasons
    at_risk = html[html.index('id="at-risk"') :]
    assert "Simulated Customer" in at_risk
    assert "user adoption 55 %" in at_risk
    assert "NPS 5" in at_risk


def test_report_after_a_real_sync_counts_every_onboarding(sandbox_project: Any) -> None:
    sandbox_project.setup_crm()
    sandbox_project.sync()
    with sandbox_project.store() as store:
        for task in list(store.owned_tasks_for("hubspot").values())[::2]:
            if task.remote_id:
                sandbox_project.sandbox.backend.complete_task(task.remote_id)
    sandbox_project.sync()
    rt = sandbox_project.runtime()
    with sandbox_project.store(read_only=True) as store:
        data = collect(store, rt.playbook, datetime.now(UTC))
        states = store.onboardings()
    found = charts(render_html(data))
    funnel = marks(found["funnel"][0])
    assert funnel[0]["data-value"] == str(len(states)) > "0"
    values = [int(b["data-value"]) for b in funnel]
    assert values == sorted(values, reverse=True)  # a funnel never widens
    assert values[1] == sum(1 for s in states if s.phase != "handoff")
    assert len(found["durations"]) == len({s.segment for s in states})
    assert marks(found["health"][0], "point")

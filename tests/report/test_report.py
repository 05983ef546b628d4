"""The HTML report, rendered from stores produced by a real simulation and a real sync: every chart is
checked structurally (bars/points, labels, values); a headless Chromium screenshot when Chromium is installed."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from onboard_sync.report import collect, render_html
from onboard_sync.rules import example_playbooks, load_playbook
from onboard_sync.simulate import simulate
from onboard_sync.store import Store

SEED004 = example_playbooks()["seed004_fnb_30_60_90"]


def charts(html: str) -> dict[str, list[ElementTree.Element]]:
    """Every <svg data-chart> of the page, parsed (several charts may share an id, e.g. durations)."""
    out: dict[str, list[ElementTree.Element]] = {}
    for match in re.finditer(r"<svg data-chart=.*?</svg>", html, re.S):
        svg = ElementTree.fromstring(match.group(0))
        out.setdefault(svg.attrib["data-chart"], []).append(svg)
    return out


def marks(svg: ElementTree.Element, cls: str = "bar") -> list[dict[str, str]]:
    return [e.attrib for e in svg.iter() if e.attrib.get("class") == cls]


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Any]:
    folder = tmp_path_factory.mktemp("sim")
    url = f"sqlite:///{folder / 'sim.db'}"
    timeline = simulate(SEED004, days=95, scenario="struggling", store_url=url)
    return url, timeline


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

    # time to first value: 15 day buckets, the one onboarding in bucket 7 (data flowing on day 7), target at 7
    first = found["first-value"][0]
    columns = marks(first)
    assert [c["data-label"] for c in columns] == [str(i) for i in range(14)] + ["14+"]
    assert [c["data-label"] for c in columns if c["data-value"] != "0"] == ["7"]
    assert marks(first, "target")[0]["data-value"] == "7"
    assert timeline.completed()["data_integration_check"] == 7

    # health over time: one point per simulated day, the values the engine wrote (50 → 25 at go-live → 20 at review)
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

    # success metrics: the three with data as bars, tickets as "no data" in the table
    success = {b["data-label"]: b["data-value"] for b in marks(found["success"][0])}
    assert sorted(success) == ["Completion rate", "Feature adoption ≥ 80 %", "Tasks on time"]
    assert success["Completion rate"] == success["Feature adoption ≥ 80 %"] == "0"
    assert 90 <= float(success["Tasks on time"]) <= 100
    assert "Support tickets a month after go-live" in html
    assert "no data" in html

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


def test_empty_store_says_no_data(tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'empty.db'}") as store:
        html = render_html(collect(store, load_playbook(SEED004), datetime.now(UTC)))
    assert html.count("no data") >= 3
    assert "funnel" not in charts(html)


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed (apt-get install chromium)")
def test_report_renders_in_headless_chromium(simulated: tuple[str, Any], tmp_path: Path) -> None:
    url, _ = simulated
    with Store.open(url, read_only=True) as store:
        html = render_html(collect(store, load_playbook(SEED004), store.runs(limit=1)[0].started_at))
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    shot = tmp_path / "report.png"
    subprocess.run(
        [
            "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--window-size=1360,1800", f"--screenshot={shot}", page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    assert shot.exists()
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1360, 1800)
    assert len(data) > 50_000  # a blank page compresses to a few kB; charts and text do not

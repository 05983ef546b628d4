"""No chart text leaves its chart: every <text> of every chart, measured with the report's own
(upper-bound) text widths, lies inside its SVG's viewBox. The browser test checks the same with the
boxes Chromium really draws (test_report_browser.py)."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest
from report_page import charts

from onboard_sync.report import svg as charts_svg
from onboard_sync.report.text import FONT_SIZE, text_width
from onboard_sync.rules import default_playbook_path, example_playbooks, load_playbook

SVG = "{http://www.w3.org/2000/svg}"


def text_boxes(html: str) -> list[tuple[str, str, float, float, float, float]]:
    """(chart, text, left, right, top, bottom) of every chart text, and the viewBox as the last four of a
    row whose text is ``"<viewBox>"``."""
    rows = []
    for chart_id, found in charts(html).items():
        for svg in found:
            _, _, vb_w, vb_h = (float(v) for v in svg.attrib["viewBox"].split())
            rows.append((chart_id, "<viewBox>", 0.0, vb_w, 0.0, vb_h))
            for t in svg.iter(f"{SVG}text"):
                label = t.text or ""  # a <title> child holds the full text of a shortened label
                w = text_width(label)
                x, y = float(t.attrib["x"]), float(t.attrib["y"])
                left = {"start": x, "middle": x - w / 2, "end": x - w}[t.attrib.get("text-anchor", "start")]
                rows.append((chart_id, label, left, left + w, y - FONT_SIZE, y + FONT_SIZE * 0.3))
    return rows


@pytest.mark.parametrize("name", ["simulation", "book", "stress"])
def test_every_chart_text_lies_inside_its_viewbox(pages: dict[str, str], name: str) -> None:
    outside = []
    box = (0.0, 0.0, 0.0, 0.0)
    for chart_id, label, left, right, top, bottom in text_boxes(pages[name]):
        if label == "<viewBox>":
            box = (left, right, top, bottom)
            continue
        if left < box[0] or right > box[1] or top < box[2] or bottom > box[3]:
            outside.append(f"{chart_id}: {label!r} spans x {left:.0f}..{right:.0f}, y {top:.0f}..{bottom:.0f}")
    assert not outside, "\n".join(outside)
    assert len(text_boxes(pages[name])) > 20


def test_long_labels_are_shortened_and_keep_their_full_text_as_a_tooltip(pages: dict[str, str]) -> None:
    funnel = charts(pages["stress"])["funnel"][0]
    label = next(t for t in funnel.iter(f"{SVG}text") if t.find(f"{SVG}title") is not None)
    assert (label.text or "").startswith("Technical onboarding")
    assert (label.text or "").endswith("…")
    assert label.find(f"{SVG}title").text.startswith("Technical onboarding and custom integration workshop")  # type: ignore[union-attr]


def test_a_plan_line_at_day_zero_keeps_its_label_inside_the_chart(pages: dict[str, str]) -> None:
    chart = charts(pages["stress"])["first-value"][0]
    labels = [t for t in chart.iter(f"{SVG}text") if "plan: day" in "".join(t.itertext())]
    assert len(labels) == 2
    for t in labels:
        assert float(t.attrib["x"]) >= 0


def test_health_dates_carry_the_year_when_the_series_spans_years(pages: dict[str, str]) -> None:
    points = [p.attrib["data-label"] for p in charts(pages["stress"])["health"][0].iter(f"{SVG}circle")]
    assert points[0] == "Jan 01 2025"
    assert points[-1] == "Feb 04 2026"
    book = [p.attrib["data-label"] for p in charts(pages["book"])["health"][0].iter(f"{SVG}circle")]
    assert book[0] == "Jan 20"


def test_tiles_group_thousands(pages: dict[str, str]) -> None:
    assert "<b>12,345</b>onboardings" in pages["stress"]


@pytest.mark.parametrize("rules", [default_playbook_path(), *example_playbooks().values()], ids=lambda p: p.stem)
def test_the_shipped_playbooks_phase_labels_are_shown_in_full(rules: Path) -> None:
    labels = [p.label for p in load_playbook(rules).phases]
    for chart in (charts_svg.hbar_chart("funnel", [(label, 3) for label in labels]),
                  charts_svg.paired_bars("durations", [(label, 2.5, 3.0) for label in labels])):  # fmt: skip
        shown = [t.text for t in ElementTree.fromstring(chart).iter(f"{SVG}text")]
        assert set(labels) <= set(shown)
        assert not [t for t in shown if "…" in (t or "")]

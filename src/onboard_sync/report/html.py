"""Render :class:`~onboard_sync.report.data.ReportData` as one self-contained HTML page.

Inline CSS and inline SVG (:mod:`onboard_sync.report.svg`): the file opens offline in any
browser, needs no JavaScript and loads nothing from the network. Called by
``onboard-sync report``.
"""

from __future__ import annotations

from html import escape

from onboard_sync.report import svg
from onboard_sync.report.data import FIRST_VALUE_TARGET_DAYS, ReportData

FIRST_VALUE_BUCKETS = 15  # 0 … 13 days, then "14+"
CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;max-width:1320px;color:#222;
background:#f6f7f9}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:0 0 8px}.sub{color:#666;margin:0 0 18px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(640px,1fr));gap:16px}
.card{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:14px 16px}
.note{color:#666;font-size:12px;margin:6px 0 0}.nodata{color:#888;font-style:italic}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:5px 8px;
border-bottom:1px solid #eceef1;vertical-align:top}th{color:#555;font-weight:600}
.tiles{display:flex;gap:12px;flex-wrap:wrap;margin-bottom:16px}.tile{background:#fff;border:1px solid #dde1e6;
border-radius:8px;padding:10px 14px;min-width:150px}.tile b{display:block;font-size:22px}
.healthy{color:#2e7d32}.at-risk{color:#b26a00}.critical{color:#c62828}
"""


def render_html(data: ReportData) -> str:
    """The whole report page."""
    sections = [
        _card("Onboardings by phase (funnel)", _funnel(data), "chart-funnel"),
        _card("Time to first value", _first_value(data), "chart-first-value"),
        _card("Health over time", _health(data), "chart-health"),
        _card("Seed success metrics", _metrics(data), "chart-success"),
    ]
    sections += [
        _card(f"Phase durations: {escape(segment)} (average days vs plan)", _durations(rows), "chart-durations")
        for segment, rows in data.durations.items()
    ]
    sections.append(_card(f"At risk ({len(data.at_risk)})", _at_risk(data), "at-risk"))
    median = data.first_value_median
    tiles = [
        ("onboardings", str(data.onboardings)),
        ("at risk", str(len(data.at_risk))),
        ("completed", str(data.current.get(_last_label(data), 0))),
        ("median days to first value", "no data" if median is None else f"{median:g}"),
    ]
    tiles_html = "".join(f'<div class="tile"><b>{escape(v)}</b>{escape(k)}</div>' for k, v in tiles)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Onboarding report: {escape(data.playbook)}</title><style>{CSS}</style></head><body>"
        f"<h1>Onboarding report</h1><p class='sub'>playbook <b>{escape(data.playbook)}</b> · generated "
        f"{data.generated_at:%Y-%m-%d %H:%M} UTC · from the onboard-sync store</p>"
        f"<div class='tiles'>{tiles_html}</div><div class='grid'>{''.join(sections)}</div></body></html>\n"
    )


def _last_label(data: ReportData) -> str:
    return data.funnel[-1][0] if data.funnel else ""


def _card(title: str, body: str, section_id: str) -> str:
    return f'<section class="card" id="{section_id}"><h2>{title}</h2>{body}</section>'


def _nodata(text: str) -> str:
    return f'<p class="nodata">no data: {escape(text)}</p>'


def _funnel(data: ReportData) -> str:
    if not data.onboardings:
        return _nodata("the store has no onboardings yet; run `onboard-sync sync` or `simulate --store`")
    now = ", ".join(f"{escape(k)} {v}" for k, v in data.current.items())
    note = f'<p class="note">Onboardings that reached each phase. Now: {now}.</p>'
    return svg.hbar_chart("funnel", data.funnel) + note


def _first_value(data: ReportData) -> str:
    days = data.first_value_days
    if not days:
        return _nodata(f"no onboarding has reached first value ({data.first_value_source}) yet")
    buckets = [0] * FIRST_VALUE_BUCKETS
    for d in days:
        buckets[min(d, FIRST_VALUE_BUCKETS - 1)] += 1
    labels = [str(i) for i in range(FIRST_VALUE_BUCKETS - 1)] + [f"{FIRST_VALUE_BUCKETS - 1}+"]
    chart = svg.column_chart(
        "first-value",
        list(zip(labels, buckets, strict=True)),
        target_index=FIRST_VALUE_TARGET_DAYS,
        target_label=f"target < {FIRST_VALUE_TARGET_DAYS} days",
        x_title="days from start to first value",
    )
    return chart + (
        f'<p class="note">First value = {escape(data.first_value_source)} completed. Median '
        f"{data.first_value_median:g} days; {data.first_value_within_target:g} % within the seeds' target "
        f"(&lt; {FIRST_VALUE_TARGET_DAYS} days, seed 000 aims for 5); {len(days)} onboardings.</p>"
    )


def _health(data: ReportData) -> str:
    if not data.health_series:
        return _nodata("no health scores have been written yet")
    points = [(d.strftime("%b %d"), avg) for d, avg, _ in data.health_series]
    chart = svg.line_chart("health", points, bands=((70, 100, "#e8f5e9"), (40, 70, "#fff8e1"), (0, 40, "#ffebee")))
    most = max(n for _, _, n in data.health_series)
    return chart + (
        f'<p class="note">Average health score of the open onboardings, day by day (up to {most} at once), from the '
        "scores written to the CRM.</p>"
    )


def _durations(rows: list) -> str:  # type: ignore[type-arg]
    if not any(r.actual is not None for r in rows):
        note = _nodata("no phase of this segment has been completed yet")
    else:
        note = '<p class="note">Average days in each completed phase stay, against the segment-scaled plan.</p>'
    return svg.paired_bars("durations", [(r.label, r.actual, r.planned) for r in rows]) + note


def _at_risk(data: ReportData) -> str:
    if not data.at_risk:
        return '<p class="nodata">No onboarding is at risk.</p>'
    rows = "".join(
        f"<tr><td>{escape(r.deal)}</td><td>{escape(r.account)}</td><td>{escape(r.segment)}</td>"
        f"<td>{escape(r.phase)} ({escape(r.status)})</td><td>day {r.day}</td>"
        f"<td class='{escape(r.health_status or '')}'>{r.health_score if r.health_score is not None else '-'} "
        f"{escape(r.health_status or '')}</td><td>{'<br>'.join(escape(x) for x in r.reasons) or '-'}</td></tr>"
        for r in data.at_risk
    )
    return (
        "<table><tr><th>deal</th><th>account</th><th>segment</th><th>phase</th><th>day</th><th>health</th>"
        f"<th>reasons</th></tr>{rows}</table>"
    )


def _metrics(data: ReportData) -> str:
    with_data = [(m.short or m.label, m.value) for m in data.metrics if m.value is not None]
    chart = svg.hbar_chart("success", with_data, unit=" %") if with_data else ""
    rows = "".join(
        f"<tr><td>{escape(m.label)}</td><td class='{'' if m.value is not None else 'nodata'}'>{escape(m.display)}</td>"
        f"<td>{escape(m.target)}</td><td>{escape(m.detail)}</td></tr>"
        for m in data.metrics
    )
    table = f"<table><tr><th>metric</th><th>value</th><th>target</th><th>from</th></tr>{rows}</table>"
    return chart + table

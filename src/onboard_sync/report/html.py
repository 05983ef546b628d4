"""Render :class:`~onboard_sync.report.model.ReportData` as one self-contained HTML page.

Inline CSS and inline SVG (:mod:`onboard_sync.report.svg`): the file opens offline in any
browser, needs no JavaScript and loads nothing from the network. Called by
``onboard-sync report``. Every number on the page comes from the data; docs/report.md
defines each one.
"""

from __future__ import annotations

import math
from html import escape

from onboard_sync.report import svg
from onboard_sync.report.model import PhaseDuration, ReportData

MAX_COLUMNS = 24  # time to first value: at most this many day buckets (then a "later" column)
BUCKET_DAYS = (1, 2, 3, 5, 7, 10, 14, 15, 20, 30, 60, 90)
CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;max-width:1320px;padding:0 12px;
color:#222;background:#f6f7f9}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:0 0 8px}.sub{color:#555;margin:0 0 18px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(640px,1fr));gap:16px}
.card{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:14px 16px;min-width:0}
.wide{grid-column:1/-1}svg{max-width:100%;height:auto;display:block}
.note{color:#555;font-size:12px;margin:6px 0 0}.nodata{color:#777;font-style:italic}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:5px 8px;
border-bottom:1px solid #eceef1;vertical-align:top}th{color:#555;font-weight:600}td.num{white-space:nowrap}
ul.reasons{margin:0;padding-left:16px}
.tiles{display:flex;gap:12px;flex-wrap:wrap;margin-bottom:16px}.tile{background:#fff;border:1px solid #dde1e6;
border-radius:8px;padding:10px 14px;min-width:130px}.tile b{display:block;font-size:22px}
.healthy{color:#2e7d32}.at-risk{color:#9a5b00}.critical{color:#c62828}
"""


def render_html(data: ReportData) -> str:
    """The whole report page."""
    sections = [
        _card("Onboardings by phase", _funnel(data), "chart-funnel"),
        _card("Time to first value", _first_value(data), "chart-first-value"),
        _card("Health over time", _health(data), "chart-health"),
        _card("Success metrics", _metrics(data), "chart-success"),
    ]
    sections += [
        _card(f"Phase durations: {escape(segment)} (average days vs plan)", _durations(rows), "chart-durations")
        for segment, rows in data.durations.items()
    ]
    sections.append(_card(f"At risk ({len(data.at_risk)})", _at_risk(data), "at-risk", wide=True))
    median = data.first_value_median
    tiles = [
        ("onboardings", f"{data.onboardings:,}"),
        ("under way", f"{data.under_way:,}"),
        ("at risk", f"{len(data.at_risk):,}"),
        ("completed", f"{data.completed:,}"),
        ("cancelled", f"{data.cancelled:,}"),
        ("median days to first value", "no data" if median is None else f"{median:g}"),
    ]
    tiles_html = "".join(
        f'<div class="tile" data-tile="{escape(k)}"><b>{escape(v)}</b>{escape(k)}</div>' for k, v in tiles
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>Onboarding report: {escape(data.playbook)}</title><style>{CSS}</style></head><body>"
        f"<h1>Onboarding report</h1><p class='sub'>playbook <b>{escape(data.playbook)}</b> · as of "
        f"{data.generated_at:%Y-%m-%d %H:%M} UTC (the last sync) · from the onboard-sync store</p>"
        f"<div class='tiles'>{tiles_html}</div><div class='grid'>{''.join(sections)}</div></body></html>\n"
    )


def _card(title: str, body: str, section_id: str, *, wide: bool = False) -> str:
    cls = "card wide" if wide else "card"
    return f'<section class="{cls}" id="{section_id}"><h2>{title}</h2>{body}</section>'


def _nodata(text: str) -> str:
    return f'<p class="nodata">no data: {escape(text)}</p>'


def _funnel(data: ReportData) -> str:
    if not data.onboardings:
        return _nodata("the store has no onboardings yet; run `onboard-sync sync` or `simulate --store`")
    now = ", ".join(f"{escape(k)} {v}" for k, v in data.current.items()) or "none"
    cancelled = f" Cancelled: {data.cancelled}." if data.cancelled else ""
    note = (
        f'<p class="note">How many onboardings entered each phase (a phase set by hand in the CRM can skip some). '
        f"Now (not cancelled): {now}.{cancelled}</p>"
    )
    return svg.hbar_chart("funnel", data.funnel) + note


def _first_value(data: ReportData) -> str:
    days = [f.days for f in data.first_value]
    if not days:
        before = data.first_value_before_adoption
        if before:  # they did reach it, before onboard-sync followed them: say so, not "none has"
            return _nodata(
                f"none has reached first value ({data.first_value_source}) since onboard-sync began following it; "
                f"{before} {'was' if before == 1 else 'were'} adopted past it, when it came is not known"
            )
        return _nodata(f"no onboarding has reached first value ({data.first_value_source}) yet")
    plan = data.first_value_plan
    horizon = max(plan.values()) + 1 if plan else max(days) + 1
    span = min(max(max(days) + 1, math.ceil(horizon * 1.25)), 2 * horizon)
    width = next((w for w in BUCKET_DAYS if math.ceil(span / w) <= MAX_COLUMNS), BUCKET_DAYS[-1])
    n = math.ceil(span / width)
    counts = [0] * n
    later = 0
    for d in days:
        if d >= n * width:
            later += 1
        else:
            counts[d // width] += 1
    items: list[tuple[str, float]] = [
        (f"day {i * width}" if width == 1 else f"days {i * width}–{(i + 1) * width - 1}", c)
        for i, c in enumerate(counts)
    ]
    # one-day columns are labelled in their middle, wider ones at their edges
    axis = [(i + 0.5, str(i)) for i in range(n)] if width == 1 else [(float(i), str(i * width)) for i in range(n + 1)]
    if later:
        items.append((f"day {n * width} or later", later))
        axis.append((n + 0.5, "later"))
    by_day: dict[int, list[str]] = {}
    for segment, day in plan.items():
        by_day.setdefault(day, []).append(segment)
    markers = [
        ((day + 1) / width, f"{', '.join(names)} plan: day {day}" if len(plan) > 1 else f"plan: day {day}", str(day))
        for day, names in sorted(by_day.items())
    ]
    chart = svg.column_chart(
        "first-value",
        items,
        axis=axis,
        markers=markers,
        x_title=f"days from start to first value ({data.first_value_source})",
    )
    on_plan, planned = data.first_value_on_plan
    reached = f"{len(days)} onboarding{'s' if len(days) != 1 else ''} reached first value"
    versus = f"; {on_plan} of {planned} on or before their segment's planned day" if planned else ""
    return chart + (
        f'<p class="note">First value = the {escape(data.first_value_source)} completed. {reached}, median '
        f"{data.first_value_median:g} days{versus}. The dashed line marks the plan: first value by the end of that "
        "day.</p>"
    )


def _health(data: ReportData) -> str:
    if not data.health_series:
        return _nodata("no health has been assessed yet (each sync assesses every open onboarding)")
    healthy, at_risk = data.health_bands
    first, last_day = data.health_series[0][0], data.health_series[-1][0]
    fmt = "%b %d" if first.year == last_day.year else "%b %d %Y"
    points = [((d - first).days, d.strftime(fmt), avg) for d, avg, _ in data.health_series]
    bands = ((healthy, 100, "#e8f5e9"), (at_risk, healthy, "#fff8e1"), (0, at_risk, "#ffebee"))
    chart = svg.line_chart("health", points, y_ticks=sorted({0, at_risk, healthy, 100}), bands=bands)
    last = data.health_series[-1][2]
    most = max(n for _, _, n in data.health_series)
    return chart + (
        f'<p class="note">Average health score (0–100) of the open onboardings assessed each day ({last:,} on the last '
        f"day, at most {most:,} on one day; a gap is a stretch of days with none). Healthy from {healthy}, at risk "
        f"from {at_risk}, critical below.</p>"
    )


def _durations(rows: list[PhaseDuration]) -> str:
    if not any(r.actual is not None for r in rows):
        note = _nodata(
            "no phase of this segment has been completed since onboard-sync began following it "
            "(a stay in the phase an onboarding was adopted in began before it and is left out)"
        )
    else:
        stays = sum(r.samples for r in rows)
        note = (
            f'<p class="note">Average days in each phase over the {stays} completed stays, against the plan '
            "scaled to this segment.</p>"
        )
    return svg.paired_bars("durations", [(r.label, r.actual, r.planned) for r in rows]) + note


def _day(day: int, planned: int) -> str:
    return f"day {day} of {planned}" if planned else f"day {day}"


def _at_risk(data: ReportData) -> str:
    if not data.at_risk:
        return '<p class="nodata">No onboarding is at risk.</p>'
    rows = "".join(
        f"<tr><td>{escape(r.deal)}</td><td>{escape(r.account)}</td><td>{escape(r.segment)}</td>"
        f"<td>{escape(r.phase)}<br><small>{escape(r.status)}</small></td>"
        f"<td class='num'>{_day(r.day, r.planned_days)}</td>"
        f"<td class='num {escape(r.health_status or '')}'>{r.health_score if r.health_score is not None else '-'} "
        f"{escape(r.health_status or '')}</td>"
        f"<td><ul class='reasons'>{''.join(f'<li>{escape(x)}</li>' for x in r.reasons) or '-'}</ul></td></tr>"
        for r in data.at_risk
    )
    return (
        "<table><tr><th>deal</th><th>account</th><th>segment</th><th>phase</th><th>day</th><th>health</th>"
        f"<th>reasons</th></tr>{rows}</table>"
        '<p class="note">Open onboardings at risk or extended, or whose health is not healthy; worst health first. '
        "Day N of M: days since the onboarding started, of the days its segment's plan runs to the end.</p>"
    )


def _metrics(data: ReportData) -> str:
    charted = [(m.short or m.label, m.value) for m in data.metrics if m.value is not None and m.unit == " %"]
    chart = svg.hbar_chart("success", charted, unit=" %") if charted else ""
    rows = "".join(
        f"<tr data-metric='{escape(m.key)}'><td>{escape(m.label)}</td>"
        f"<td class='num{'' if m.value is not None else ' nodata'}'>{escape(m.display)}</td>"
        f"<td>{escape(m.target)}</td><td>{escape(m.detail)}</td></tr>"
        for m in data.metrics
    )
    table = f"<table><tr><th>metric</th><th>value</th><th>target</th><th>from</th></tr>{rows}</table>"
    counts = [f"{n} {escape(status)}" for status, n in data.tasks.items()]
    if data.overdue_tasks:
        counts.append(f"{data.overdue_tasks} of the open ones overdue")
    tasks = f'<p class="note" id="task-counts">Tasks in the CRM: {", ".join(counts) or "none yet"}.</p>'
    if data.adopted:
        tasks += (
            f'<p class="note" id="catch-up">{data.adopted} onboarding(s) were already under way when '
            f"onboard-sync began following them: {data.skipped_tasks} task(s) of the phases that had ended "
            "were skipped, not created (<code>onboard-sync status --json</code> lists each with its reason).</p>"
        )
    return chart + table + tasks

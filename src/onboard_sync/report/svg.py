"""Inline SVG charts for the HTML report, generated in Python (no JavaScript, no network).

Every chart is an ``<svg data-chart="ID">``; every bar is a ``<rect class="bar">`` and every
point a ``<circle class="point">`` carrying ``data-label`` and ``data-value`` attributes, so
tests (and people reading the source) can check exactly what is drawn. Called by
:mod:`onboard_sync.report.html`.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

PALETTE = ("#2f6fb3", "#b9c7d8", "#d9822b", "#3a9d5d", "#c0392b")
FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12"'


def _fmt(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))


def _attr(value: object) -> str:
    return escape(str(value), quote=True)


def hbar_chart(
    chart_id: str, items: Sequence[tuple[str, float]], *, unit: str = "", width: int = 620, note: str = ""
) -> str:
    """Horizontal bars (a funnel when the values shrink), one row per item."""
    label_w, row_h, top = 190, 26, 8
    height = top + row_h * len(items) + (22 if note else 8)
    biggest = max((v for _, v in items), default=0) or 1
    span = width - label_w - 60
    parts = [f'<svg data-chart="{chart_id}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'role="img" {FONT} xmlns="http://www.w3.org/2000/svg">']  # fmt: skip
    for i, (label, value) in enumerate(items):
        y = top + i * row_h
        w = max(value / biggest * span, 0 if value == 0 else 2)
        parts.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end">{escape(label)}</text>')
        parts.append(
            f'<rect class="bar" data-label="{_attr(label)}" data-value="{_fmt(value)}" x="{label_w}" y="{y + 4}" '
            f'width="{w:.1f}" height="{row_h - 8}" rx="3" fill="{PALETTE[0]}"/>'
        )
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 16}">{_fmt(value)}{escape(unit)}</text>')
    if note:
        parts.append(f'<text x="{label_w}" y="{height - 6}" fill="#555">{escape(note)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def column_chart(
    chart_id: str,
    items: Sequence[tuple[str, float]],
    *,
    target_index: float | None = None,
    target_label: str = "",
    x_title: str = "",
    width: int = 620,
    height: int = 230,
) -> str:
    """Vertical bars (a histogram) with an optional dashed target line before column ``target_index``."""
    left, bottom, top = 36, 40, 16
    plot_h = height - bottom - top
    n = max(len(items), 1)
    col_w = (width - left - 10) / n
    biggest = max((v for _, v in items), default=0) or 1
    parts = [f'<svg data-chart="{chart_id}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'role="img" {FONT} xmlns="http://www.w3.org/2000/svg">',
             f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" stroke="#999"/>',
             ]  # fmt: skip
    for i, (label, value) in enumerate(items):
        x = left + i * col_w
        h = value / biggest * plot_h
        y = top + plot_h - h
        parts.append(
            f'<rect class="bar" data-label="{_attr(label)}" data-value="{_fmt(value)}" x="{x + 3:.1f}" y="{y:.1f}" '
            f'width="{col_w - 6:.1f}" height="{h:.1f}" fill="{PALETTE[0]}"/>'
        )
        if value:
            parts.append(f'<text x="{x + col_w / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle">{_fmt(value)}</text>')
        parts.append(
            f'<text x="{x + col_w / 2:.1f}" y="{top + plot_h + 15}" text-anchor="middle">{escape(label)}</text>'
        )
    if target_index is not None:
        tx = left + target_index * col_w
        parts.append(
            f'<line class="target" data-value="{_fmt(target_index)}" x1="{tx:.1f}" y1="{top - 6}" x2="{tx:.1f}" '
            f'y2="{top + plot_h}" stroke="{PALETTE[4]}" stroke-width="2" stroke-dasharray="5 4"/>'
        )
        parts.append(
            f'<text x="{tx - 4:.1f}" y="{top + 6}" text-anchor="end" fill="{PALETTE[4]}">{escape(target_label)}</text>'
        )
    if x_title:
        parts.append(
            f'<text x="{width / 2:.0f}" y="{height - 6}" text-anchor="middle" fill="#555">{escape(x_title)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def paired_bars(
    chart_id: str,
    rows: Sequence[tuple[str, float | None, float]],
    *,
    series: tuple[str, str] = ("actual", "plan"),
    unit: str = " d",
    width: int = 620,
) -> str:
    """Per row an ``actual`` bar (or "no data") above a ``plan`` bar, on one scale."""
    label_w, row_h, top = 200, 34, 26
    height = top + row_h * len(rows) + 8
    biggest = max([v for _, a, p in rows for v in (a, p) if v is not None] or [1]) or 1
    span = width - label_w - 70
    parts = [f'<svg data-chart="{chart_id}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'role="img" {FONT} xmlns="http://www.w3.org/2000/svg">']  # fmt: skip
    for j, name in enumerate(series):
        x = label_w + j * 90
        parts.append(f'<rect x="{x}" y="6" width="12" height="10" fill="{PALETTE[j]}"/>')
        parts.append(f'<text x="{x + 16}" y="15">{escape(name)}</text>')
    for i, (label, actual, plan) in enumerate(rows):
        y = top + i * row_h
        parts.append(f'<text x="{label_w - 8}" y="{y + 18}" text-anchor="end">{escape(label)}</text>')
        for j, value in enumerate((actual, plan)):
            by = y + 3 + j * 14
            if value is None:
                parts.append(
                    f'<text class="nodata" data-label="{_attr(label)}" data-series="{series[j]}" x="{label_w}" '
                    f'y="{by + 10}" fill="#888">no data</text>'
                )
                continue
            w = max(value / biggest * span, 0 if value == 0 else 2)
            parts.append(
                f'<rect class="bar" data-label="{_attr(label)}" data-series="{series[j]}" data-value="{_fmt(value)}" '
                f'x="{label_w}" y="{by}" width="{w:.1f}" height="12" fill="{PALETTE[j]}"/>'
            )
            parts.append(f'<text x="{label_w + w + 5:.1f}" y="{by + 10}">{_fmt(value)}{escape(unit)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def line_chart(
    chart_id: str,
    points: Sequence[tuple[str, float]],
    *,
    y_max: float = 100,
    bands: Sequence[tuple[float, float, str]] = (),
    width: int = 620,
    height: int = 230,
) -> str:
    """A line over ``points`` (label, value) with optional horizontal bands (low, high, colour)."""
    left, bottom, top, right = 36, 34, 12, 12
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(points)

    def xy(i: int, v: float) -> tuple[float, float]:
        x = left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)
        return x, top + plot_h - v / y_max * plot_h

    parts = [f'<svg data-chart="{chart_id}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'role="img" {FONT} xmlns="http://www.w3.org/2000/svg">']  # fmt: skip
    for low, high, colour in bands:
        y1, y2 = xy(0, high)[1], xy(0, low)[1]
        parts.append(f'<rect x="{left}" y="{y1:.1f}" width="{plot_w}" height="{y2 - y1:.1f}" fill="{colour}"/>')
    for tick in (0, y_max / 2, y_max):
        y = xy(0, tick)[1]
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#555">{_fmt(tick)}</text>')
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#999"/>')
    coords = [xy(i, v) for i, (_, v) in enumerate(points)]
    if n > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{PALETTE[0]}" stroke-width="2"/>')
    step = max(1, n // 8)
    for i, ((label, value), (x, y)) in enumerate(zip(points, coords, strict=True)):
        parts.append(
            f'<circle class="point" data-label="{_attr(label)}" data-value="{_fmt(value)}" cx="{x:.1f}" cy="{y:.1f}" '
            f'r="{2.5 if n > 30 else 3.5}" fill="{PALETTE[0]}"/>'
        )
        if i % step == 0 or i == n - 1:
            parts.append(
                f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle" fill="#555">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)

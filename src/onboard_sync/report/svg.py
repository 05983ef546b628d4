"""Inline SVG charts for the HTML report, generated in Python (no JavaScript, no network).

Every chart is an ``<svg data-chart="ID">``; every bar is a ``<rect class="bar">`` and every
point a ``<circle class="point">`` carrying ``data-label`` and ``data-value`` attributes, and
every plan or target line a ``<line class="marker">`` with ``data-value``, so tests (and people
reading the source) can check exactly what is drawn. Text never leaves the viewBox: labels are
measured (:mod:`onboard_sync.report.text`), shortened with "…" when they must be (the full text
in a ``<title>``) and kept inside the chart's edges. Called by :mod:`onboard_sync.report.html`.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from onboard_sync.report.text import FONT_SIZE, fit, text_width

PALETTE = ("#2f6fb3", "#b9c7d8", "#d9822b", "#3a9d5d", "#c0392b")
FONT = f'font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="{FONT_SIZE}"'
EDGE = 2  # px kept free at the chart's left and right edges


def _fmt(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))


def _attr(value: object) -> str:
    return escape(str(value), quote=True)


class _Chart:
    """An SVG being built: its size and parts, and text that always stays inside it."""

    def __init__(self, chart_id: str, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.parts = [
            f'<svg data-chart="{chart_id}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
            f'role="img" {FONT} xmlns="http://www.w3.org/2000/svg">'
        ]

    def add(self, markup: str) -> None:
        self.parts.append(markup)

    def text(
        self, x: float, y: float, label: str, *, anchor: str = "start", room: float | None = None, extra: str = ""
    ) -> float:
        """Draw ``label`` at (x, y), shortened to ``room`` px if given, moved inside the chart.

        Returns the drawn width. ``extra`` holds more attributes (class, fill …)."""
        room = self.width - 2 * EDGE if room is None else min(room, self.width - 2 * EDGE)
        shown = fit(label, room)
        w = text_width(shown)
        left = {"start": x, "middle": x - w / 2, "end": x - w}[anchor]
        left = min(max(left, EDGE), self.width - EDGE - w)
        x = left + {"start": 0, "middle": w / 2, "end": w}[anchor]
        tip = f"<title>{escape(label)}</title>" if shown != label else ""
        anchor_attr = "" if anchor == "start" else f' text-anchor="{anchor}"'
        self.add(f'<text x="{x:.1f}" y="{y:.1f}"{anchor_attr}{extra}>{escape(shown)}{tip}</text>')
        return w

    def svg(self) -> str:
        return "".join(self.parts) + "</svg>"


def _label_column(labels: Sequence[str], width: int) -> float:
    """Room for the row labels left of the bars: the longest label, at most 45 % of the chart."""
    return min(max((text_width(label) for label in labels), default=0) + 8 + EDGE + 2, 0.45 * width)


def hbar_chart(chart_id: str, items: Sequence[tuple[str, float]], *, unit: str = "", width: int = 620) -> str:
    """Horizontal bars (a funnel when the values shrink), one row per item."""
    row_h, top = 26, 8
    label_w = round(max(_label_column([label for label, _ in items], width), 120))
    chart = _Chart(chart_id, width, top + row_h * len(items) + 8)
    biggest = max((v for _, v in items), default=0) or 1
    span = width - label_w - EDGE - max((text_width(f" {_fmt(v)}{unit}") for _, v in items), default=0) - 6
    for i, (label, value) in enumerate(items):
        y = top + i * row_h
        w = max(value / biggest * span, 0 if value == 0 else 2)
        chart.text(label_w - 8, y + 16, label, anchor="end", room=label_w - 8 - EDGE)
        chart.add(
            f'<rect class="bar" data-label="{_attr(label)}" data-value="{_fmt(value)}" x="{label_w}" y="{y + 4}" '
            f'width="{w:.1f}" height="{row_h - 8}" rx="3" fill="{PALETTE[0]}"/>'
        )
        chart.text(label_w + w + 6, y + 16, f"{_fmt(value)}{unit}")
    return chart.svg()


def column_chart(
    chart_id: str,
    items: Sequence[tuple[str, float]],
    *,
    axis: Sequence[tuple[float, str]] = (),
    markers: Sequence[tuple[float, str, str]] = (),
    x_title: str = "",
    width: int = 620,
    plot_height: int = 150,
) -> str:
    """Vertical bars (a histogram), one per item, with labels under the axis and dashed markers.

    ``axis`` places labels at positions in column units (0 is the left edge of the first column,
    ``i + 0.5`` the middle of column ``i``). ``markers`` are ``(position, label, value)``: a dashed
    line at that position with its label in a row of its own above the plot, and ``value`` in
    its ``data-value``."""
    left, right = 10, 10
    top = 10 + 16 * len(markers) + 14  # one row per marker label, then room for the bars' counts
    bottom = 22 + (18 if x_title else 0)
    chart = _Chart(chart_id, width, top + plot_height + bottom)
    n = max(len(items), 1)
    col_w = (width - left - right) / n
    base = top + plot_height
    biggest = max((v for _, v in items), default=0) or 1
    chart.add(f'<line x1="{left}" y1="{base}" x2="{width - right}" y2="{base}" stroke="#999"/>')
    for i, (label, value) in enumerate(items):
        x = left + i * col_w
        h = value / biggest * plot_height
        chart.add(
            f'<rect class="bar" data-label="{_attr(label)}" data-value="{_fmt(value)}" x="{x + 2:.1f}" '
            f'y="{base - h:.1f}" width="{max(col_w - 4, 1):.1f}" height="{h:.1f}" fill="{PALETTE[0]}">'
            f"<title>{escape(label)}: {_fmt(value)}</title></rect>"
        )
        if value:
            chart.text(x + col_w / 2, base - h - 3, _fmt(value), anchor="middle")
    for position, label in axis:
        chart.text(left + position * col_w, base + 15, label, anchor="middle", extra=' fill="#555"')
    for row, (position, label, value) in enumerate(markers):
        x = left + position * col_w
        y = 10 + 16 * row + 11
        chart.add(
            f'<line class="marker" data-value="{_attr(value)}" x1="{x:.1f}" y1="{y - 10}" x2="{x:.1f}" y2="{base}" '
            f'stroke="{PALETTE[4]}" stroke-width="2" stroke-dasharray="5 4"/>'
        )
        fits_right = x + 4 + text_width(label) <= width - EDGE
        chart.text(
            x + 4 if fits_right else x - 4,
            y,
            label,
            anchor="start" if fits_right else "end",
            extra=f' fill="{PALETTE[4]}"',
        )
    if x_title:
        chart.text(width / 2, chart.height - 6, x_title, anchor="middle", extra=' fill="#555"')
    return chart.svg()


def paired_bars(
    chart_id: str,
    rows: Sequence[tuple[str, float | None, float]],
    *,
    series: tuple[str, str] = ("actual", "plan"),
    unit: str = " d",
    width: int = 620,
) -> str:
    """Per row an ``actual`` bar (or "no data") above a ``plan`` bar, on one scale."""
    row_h, top = 34, 26
    label_w = round(max(_label_column([label for label, _, _ in rows], width), 120))
    chart = _Chart(chart_id, width, top + row_h * len(rows) + 8)
    values = [v for _, a, p in rows for v in (a, p) if v is not None]
    biggest = max(values or [1]) or 1
    span = width - label_w - EDGE - max((text_width(f" {_fmt(v)}{unit}") for v in values), default=0) - 5
    for j, name in enumerate(series):
        x = label_w + j * 90
        chart.add(f'<rect x="{x}" y="6" width="12" height="10" fill="{PALETTE[j]}"/>')
        chart.text(x + 16, 15, name)
    for i, (label, actual, plan) in enumerate(rows):
        y = top + i * row_h
        chart.text(label_w - 8, y + 18, label, anchor="end", room=label_w - 8 - EDGE)
        for j, value in enumerate((actual, plan)):
            by = y + 3 + j * 14
            if value is None:
                chart.text(
                    label_w,
                    by + 10,
                    "no data",
                    extra=f' class="nodata" data-label="{_attr(label)}" data-series="{series[j]}" fill="#888"',
                )
                continue
            w = max(value / biggest * span, 0 if value == 0 else 2)
            chart.add(
                f'<rect class="bar" data-label="{_attr(label)}" data-series="{series[j]}" data-value="{_fmt(value)}" '
                f'x="{label_w}" y="{by}" width="{w:.1f}" height="12" fill="{PALETTE[j]}"/>'
            )
            chart.text(label_w + w + 5, by + 10, f"{_fmt(value)}{unit}")
    return chart.svg()


def line_chart(
    chart_id: str,
    points: Sequence[tuple[float, str, float]],
    *,
    y_max: float = 100,
    y_ticks: Sequence[float] = (0, 50, 100),
    bands: Sequence[tuple[float, float, str]] = (),
    width: int = 620,
    height: int = 230,
) -> str:
    """A line over ``points`` (x, label, value), placed by x (days), broken where x jumps by more
    than 1 (days without data), with horizontal bands (low, high, colour) and y ticks."""
    left = EDGE + 6 + max((text_width(_fmt(t)) for t in y_ticks), default=0)
    right, top, bottom = 12, 12, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    x_lo = min((x for x, _, _ in points), default=0.0)
    x_span = max((x for x, _, _ in points), default=0.0) - x_lo
    chart = _Chart(chart_id, width, height)

    def xy(x: float, v: float) -> tuple[float, float]:
        return left + (plot_w * (x - x_lo) / x_span if x_span else plot_w / 2), top + plot_h - v / y_max * plot_h

    for low, high, colour in bands:
        y1, y2 = xy(x_lo, high)[1], xy(x_lo, low)[1]
        chart.add(f'<rect x="{left}" y="{y1:.1f}" width="{plot_w}" height="{y2 - y1:.1f}" fill="{colour}"/>')
    for tick in y_ticks:
        chart.text(left - 6, xy(x_lo, tick)[1] + 4, _fmt(tick), anchor="end", extra=' fill="#555"')
    chart.add(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#999"/>')
    coords = [xy(x, v) for x, _, v in points]
    runs: list[list[tuple[float, float]]] = []
    for i, c in enumerate(coords):
        if i and points[i][0] - points[i - 1][0] <= 1:
            runs[-1].append(c)
        else:
            runs.append([c])
    for run in runs:
        if len(run) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
            chart.add(f'<polyline points="{path}" fill="none" stroke="{PALETTE[0]}" stroke-width="2"/>')
    n = len(points)
    for (_, label, value), (x, y) in zip(points, coords, strict=True):
        chart.add(
            f'<circle class="point" data-label="{_attr(label)}" data-value="{_fmt(value)}" cx="{x:.1f}" cy="{y:.1f}" '
            f'r="{2.5 if n > 30 else 3.5}" fill="{PALETTE[0]}"><title>{escape(label)}: {_fmt(value)}</title></circle>'
        )
    for i in _spaced([(x, text_width(points[i][1])) for i, (x, _) in enumerate(coords)], gap=10):
        chart.text(coords[i][0], top + plot_h + 16, points[i][1], anchor="middle", extra=' fill="#555"')
    return chart.svg()


def _spaced(labels: Sequence[tuple[float, float]], gap: float) -> list[int]:
    """Indexes of centred labels (x, width) to draw, left to right without overlaps; the last always."""

    def clear(i: int, j: int) -> bool:  # label j starts far enough right of label i
        return labels[j][0] - labels[j][1] / 2 >= labels[i][0] + labels[i][1] / 2 + gap

    chosen: list[int] = []
    for i in range(len(labels)):
        if not chosen or clear(chosen[-1], i):
            chosen.append(i)
    last = len(labels) - 1
    if chosen and chosen[-1] != last:
        while chosen and not clear(chosen[-1], last):
            chosen.pop()
        chosen.append(last)
    return chosen


__all__ = ["column_chart", "hbar_chart", "line_chart", "paired_bars"]

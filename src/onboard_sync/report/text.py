"""How wide a line of chart text will be, so labels are placed and shortened to fit their chart.

An SVG chart has a fixed ``viewBox``: text that runs past it is cut off by the browser. The
charts (:mod:`onboard_sync.report.svg`) measure each label with :func:`text_width` (per-character
widths of a sans-serif face at the chart's font size, rounded up, so the estimate is never
narrower than the real text) and shorten what does not fit with :func:`fit` (an ellipsis; the
full text stays in a ``<title>`` tooltip). The report tests check every text element against its
viewBox with these widths, and the browser test checks the real rendered boxes.
"""

from __future__ import annotations

FONT_SIZE = 12
"""The charts' font size in px (``svg.FONT``)."""

# Advance widths in em of a typical sans-serif face (DejaVu Sans, Segoe UI, Helvetica), rounded up.
_NARROW = frozenset("iljtf.,:;'!|()[]{} ")
_WIDE = frozenset("mwMW%@&")
_EM_NARROW = 0.36
_EM_WIDE = 1.0
_EM_UPPER = 0.76
_EM_DIGIT = 0.66
_EM_OTHER = 0.64


def _em(char: str) -> float:
    if char in _NARROW:
        return _EM_NARROW
    if char in _WIDE:
        return _EM_WIDE
    if char.isdigit():
        return _EM_DIGIT
    if char.isupper():
        return _EM_UPPER
    return _EM_OTHER


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """An upper estimate of the rendered width of ``text`` in px at font size ``size``."""
    return sum(_em(c) for c in text) * size


def fit(text: str, room: float, size: float = FONT_SIZE) -> str:
    """``text``, or its longest prefix with "…" that is at most ``room`` px wide."""
    if text_width(text, size) <= room:
        return text
    kept = text
    while kept and text_width(kept.rstrip() + "…", size) > room:
        kept = kept[:-1]
    return kept.rstrip() + "…" if kept else ""


__all__ = ["FONT_SIZE", "fit", "text_width"]

"""Onboarding analytics: a self-contained HTML report built from the store.

``onboard-sync report`` (:mod:`onboard_sync.cli.report`) calls :func:`collect` (the numbers,
from the store after any sync or simulation) and :func:`render_html` (inline SVG charts, no
network, no JavaScript). docs/report.md defines every figure.
"""

from onboard_sync.report.data import collect
from onboard_sync.report.html import render_html
from onboard_sync.report.model import ReportData

__all__ = ["ReportData", "collect", "render_html"]

"""Reading a rendered report page in tests: its charts, their marks, the tiles and the metric rows."""

from __future__ import annotations

import re
from html import unescape
from xml.etree import ElementTree


def charts(html: str) -> dict[str, list[ElementTree.Element]]:
    """Every <svg data-chart> of the page, parsed (several charts may share an id, e.g. durations)."""
    out: dict[str, list[ElementTree.Element]] = {}
    for match in re.finditer(r"<svg data-chart=.*?</svg>", html, re.S):
        svg = ElementTree.fromstring(match.group(0))
        out.setdefault(svg.attrib["data-chart"], []).append(svg)
    return out


def marks(svg: ElementTree.Element, cls: str = "bar") -> list[dict[str, str]]:
    """The attributes of every element of class ``cls`` (bar, point, marker, nodata) in a chart."""
    return [e.attrib for e in svg.iter() if e.attrib.get("class") == cls]


def values(svg: ElementTree.Element, cls: str = "bar", series: str | None = None) -> dict[str, str]:
    """data-label -> data-value of the marks of class ``cls`` (of one ``series`` if given)."""
    return {
        m["data-label"]: m["data-value"] for m in marks(svg, cls) if series is None or m.get("data-series") == series
    }


def tile(html: str, name: str) -> str:
    """The figure shown on the headline tile ``name``."""
    match = re.search(rf'<div class="tile" data-tile="{re.escape(name)}"><b>(.*?)</b>', html)
    assert match, f"no tile {name!r}"
    return unescape(match.group(1))


def metric(html: str, key: str) -> list[str]:
    """The cells (metric, value, target, from) of the success-metric row ``key``."""
    match = re.search(rf"<tr data-metric='{re.escape(key)}'>(.*?)</tr>", html, re.S)
    assert match, f"no metric row {key!r}"
    return [unescape(re.sub(r"<.*?>", "", cell)) for cell in re.findall(r"<td[^>]*>(.*?)</td>", match.group(1), re.S)]


def section(html: str, section_id: str) -> str:
    """The HTML of the card ``section_id``."""
    start = html.index(f'id="{section_id}"')
    return html[start : html.index("</section>", start)]


def text_of(fragment: str) -> str:
    """The visible text of an HTML fragment, tags removed and spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", fragment)).split())

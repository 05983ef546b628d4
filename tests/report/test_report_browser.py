"""The report in a real browser: headless Chromium lays the pages out and takes a screenshot.

* Layout: a script added to a copy of each page measures, after Chromium has laid it out, the box of
  every chart text (inside its SVG's viewBox?), its real width (never wider than the report's own
  estimate, which the charts use to place and shorten labels), and whether any card or the page
  overflows sideways.
* Screenshot: the pixels where Chromium placed each chart's first bar are that bar's colour, so the
  picture shows the charts, not a blank or broken page.

CI installs Debian's chromium (.ci/run); there a missing browser fails these tests instead of
skipping them. The flags are those that work on a machine with no network (see the module constants).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from onboard_sync.report.svg import PALETTE
from onboard_sync.report.text import text_width

CHROMIUM = shutil.which("chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # no network here: without these it keeps dialling out
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)
WINDOW = (1360, 2400)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="chromium is not installed (apt-get install chromium; CI installs it)",
)

MEASURE = """<script>
addEventListener('load', () => {
  const out = {outside: [], texts: [], bars: [], overflow: []};
  const own = (t) => Array.from(t.childNodes).filter((n) => n.nodeType === 3).map((n) => n.data).join('');
  for (const svg of document.querySelectorAll('svg[data-chart]')) {
    const chart = svg.dataset.chart, vb = svg.viewBox.baseVal;
    for (const t of svg.querySelectorAll('text')) {
      const b = t.getBBox();
      out.texts.push([chart, own(t), t.getComputedTextLength()]);
      if (b.x < -0.5 || b.y < -0.5 || b.x + b.width > vb.width + 0.5 || b.y + b.height > vb.height + 0.5)
        out.outside.push([chart, own(t), [b.x, b.y, b.x + b.width, b.y + b.height], [vb.width, vb.height]]);
    }
    const bar = Array.from(svg.querySelectorAll('rect.bar'))
      .find((r) => r.width.baseVal.value >= 8 && r.height.baseVal.value >= 8);
    if (bar) {
      const r = bar.getBoundingClientRect();
      out.bars.push([chart, r.x + r.width / 2 + scrollX, r.y + r.height / 2 + scrollY, bar.getAttribute('fill')]);
    }
  }
  for (const el of [document.documentElement, ...document.querySelectorAll('.card')])
    if (el.scrollWidth > el.clientWidth + 1) out.overflow.push([el.id || el.tagName, el.scrollWidth, el.clientWidth]);
  const pre = document.createElement('pre');
  pre.id = 'layout';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None, "CI must have chromium: .ci/run installs it"
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"--window-size={WINDOW[0]},{WINDOW[1]}", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def measure(html: str, tmp_path: Path) -> dict[str, Any]:
    page = tmp_path / "measured.html"
    page.write_text(html.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    done = chromium(tmp_path, "--dump-dom", page.as_uri())
    found = re.search(r'<pre id="layout">(.*?)</pre>', done.stdout, re.S)
    assert found, f"chromium printed no layout: {done.stderr[-2000:]}"
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<"))


@pytest.mark.parametrize("name", ["simulation", "book", "stress"])
def test_chromium_draws_every_chart_text_inside_its_chart(pages: dict[str, str], name: str, tmp_path: Path) -> None:
    layout = measure(pages[name], tmp_path)
    assert len(layout["texts"]) > 20
    assert layout["outside"] == []
    assert layout["overflow"] == []
    wider = [(chart, text, round(w, 1)) for chart, text, w in layout["texts"] if w > text_width(text) + 0.5]
    assert wider == [], "the report's text width estimate is narrower than the rendered text"


def test_screenshot_shows_the_charts_where_the_browser_laid_them_out(pages: dict[str, str], tmp_path: Path) -> None:
    html = pages["book"]
    bars = measure(html, tmp_path)["bars"]
    assert {chart for chart, *_ in bars} >= {"funnel", "first-value", "durations", "success"}
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    shot = tmp_path / "report.png"
    done = chromium(tmp_path, f"--screenshot={shot}", page.as_uri())
    assert shot.exists(), done.stderr[-2000:]
    with Image.open(shot) as image:
        assert image.size == WINDOW
        pixels = image.convert("RGB")
        checked = 0
        for chart, x, y, fill in bars:
            if y >= WINDOW[1]:
                continue  # below the fold
            want = tuple(int(fill[i : i + 2], 16) for i in (1, 3, 5))
            got = pixels.getpixel((int(x), int(y)))
            assert got == want, f"{chart}: the screenshot has {got} where its first bar ({fill}) should be"
            checked += 1
        assert checked >= 4
        colours = pixels.getcolors(maxcolors=1 << 16) or []
        blue = next(n for n, c in colours if c == tuple(int(PALETTE[0][i : i + 2], 16) for i in (1, 3, 5)))
        assert blue > 5_000  # the bars are drawn at their size, not as slivers

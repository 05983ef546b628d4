"""The bench's peak RSS of a CLI run is that process's own, not its parent's (``bench.measure``)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the bench is not installed with the package
from bench.measure import run_cli

PARENT_MB = 400


def test_peak_rss_is_the_childs_own_not_the_parents_before_exec(tmp_path: Path) -> None:
    # a child's ru_maxrss on Linux counts the parent's peak before exec: a bench that had parsed a
    # big report made a 200 MB sync look like 724 MB
    ballast = bytearray(PARENT_MB * 2**20)
    for offset in range(0, len(ballast), 4096):
        ballast[offset] = 1
    measured = run_cli(tmp_path, {}, "sync", "--help")
    del ballast
    assert measured.returncode == 0, measured.stderr
    assert 0 < measured.peak_rss_mb < PARENT_MB / 2

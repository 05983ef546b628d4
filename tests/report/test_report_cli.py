"""``onboard-sync report`` on bad input: one line naming what and where, exit code 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from report_book import SEED004


def report(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "onboard_sync.cli", "report", "--rules", str(SEED004), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_store_file_that_does_not_exist_is_an_error_not_an_empty_report(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    done = report("--store", f"sqlite:///{missing}", "--out", str(tmp_path / "r.html"))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: {missing}: no store here; run `onboard-sync sync` (or `simulate --store URL`) first, or check --store"
    ]
    assert not (tmp_path / "r.html").exists()
    assert not missing.exists()


def test_an_output_folder_that_does_not_exist_is_named(book_url: str, tmp_path: Path) -> None:
    out = tmp_path / "no-such-folder" / "r.html"
    done = report("--store", book_url, "--out", str(out))
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: {out}: cannot write the report: No such file or directory"

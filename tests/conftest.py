"""Settings every test shares: the CLI's output is checked as a process off a terminal sees it.

pytest-xdist's workers inherit ``COLUMNS=80`` and ``LINES=24`` from their launcher, and a developer's
shell may export either: rich would then wrap the CLI's lines at that width in some runs and not in
others. A test that checks a width sets ``COLUMNS`` itself (``tests/cli/test_cli_status.py``).
"""

from __future__ import annotations

import os

for _name in ("COLUMNS", "LINES"):
    os.environ.pop(_name, None)

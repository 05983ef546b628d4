"""The plugin tests run the real CLI with the helpers of tests/cli (``cli_run``)."""

from __future__ import annotations

import sys
from pathlib import Path

CLI_TESTS = Path(__file__).resolve().parents[1] / "cli"

if str(CLI_TESTS) not in sys.path:
    sys.path.insert(0, str(CLI_TESTS))

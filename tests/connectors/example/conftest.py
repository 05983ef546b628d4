"""Make the example plugin of docs/writing-a-connector.md importable here, as `pip install -e` would."""

from __future__ import annotations

import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "examples" / "toycrm"

for folder in (EXAMPLE / "src", EXAMPLE / "tests"):  # the package, and its own contract test
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

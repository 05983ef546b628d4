"""Fixtures of the fault suite: a sandbox project with the CRM set up, and the soak switch.

``ONBOARD_SYNC_SOAK=1`` runs many more random seeds (minutes); CI runs a few.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

SOAK = os.environ.get("ONBOARD_SYNC_SOAK") == "1"


@pytest.fixture
def project(sandbox_project: Any) -> Any:
    sandbox_project.setup_crm()
    return sandbox_project

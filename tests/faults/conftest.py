"""Fixtures of the fault suite: a sandbox project with the CRM set up."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def project(sandbox_project: Any) -> Any:
    sandbox_project.setup_crm()
    return sandbox_project

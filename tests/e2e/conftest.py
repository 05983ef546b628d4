"""Fixtures of the end-to-end tests: the engine against the HubSpot and Salesforce sandboxes over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def project(sandbox_project: Any) -> Any:
    """A sandbox project with the CRM properties created (as `onboard-sync setup` does)."""
    sandbox_project.setup_crm()
    return sandbox_project


@pytest.fixture
def sf_project(salesforce_project: Any) -> Any:
    """A Salesforce sandbox project with the custom fields created (as `onboard-sync setup` does)."""
    salesforce_project.setup_crm()
    return salesforce_project

"""Stores the report tests draw from: a simulated onboarding (the real engine) and the known book."""

from __future__ import annotations

from typing import Any

import pytest
from report_book import build

from onboard_sync.rules import example_playbooks
from onboard_sync.simulate import simulate

SEED004 = example_playbooks()["seed004_fnb_30_60_90"]


@pytest.fixture(scope="session")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Any]:
    """(store URL, timeline) of 95 days of a struggling customer on seed 004's playbook."""
    url = f"sqlite:///{tmp_path_factory.mktemp('sim') / 'sim.db'}"
    timeline = simulate(SEED004, days=95, scenario="struggling", store_url=url)
    return url, timeline


@pytest.fixture(scope="session")
def book_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of a store holding report_book's known onboardings, tasks, tickets and health."""
    url = f"sqlite:///{tmp_path_factory.mktemp('book') / 'book.db'}"
    build(url)
    return url

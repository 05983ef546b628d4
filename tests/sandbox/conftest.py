"""Fixtures for the HubSpot sandbox's own tests (project-wide fixtures live in onboard_sync.testing)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hubspot import HubSpot

from onboard_sync.sandbox import SandboxClock
from onboard_sync.sandbox.hubspot import HubSpotSandbox

FROZEN_AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., HubSpotSandbox]]:
    """Start sandboxes with any options; all are stopped after the test."""
    started: list[HubSpotSandbox] = []

    def make(**kwargs: Any) -> HubSpotSandbox:
        kwargs.setdefault("deals", 40)
        sb = HubSpotSandbox(**kwargs).start()
        started.append(sb)
        return sb

    yield make
    for sb in started:
        sb.stop()


@pytest.fixture
def clock() -> SandboxClock:
    return SandboxClock(frozen_at=FROZEN_AT)


@pytest.fixture
def sb(make_sandbox: Callable[..., HubSpotSandbox], clock: SandboxClock) -> HubSpotSandbox:
    return make_sandbox(seed=7, deals=40, clock=clock)


@pytest.fixture
def client(sb: HubSpotSandbox) -> HubSpot:
    return HubSpot(access_token=sb.token, host=sb.base_url)


@pytest.fixture
def http(sb: HubSpotSandbox) -> Iterator[httpx.Client]:
    """A raw HTTP client for wire-level assertions (headers, exact bodies)."""
    with httpx.Client(base_url=sb.base_url, headers={"Authorization": f"Bearer {sb.token}"}) as c:
        yield c

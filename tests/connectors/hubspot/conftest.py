"""Fixtures for the HubSpot connector tests: the HubSpot sandbox over real HTTP, and a core-like caller."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

from onboard_sync.connectors.hubspot import HubSpotConnector, HubSpotSettings

R = TypeVar("R")


class RecordingCaller:
    """What the core's gate does, minus rate limits and retries: run ``fn``, count the endpoint."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.log: list[tuple[str, bool]] = []
        self.limits: dict[str, str | None] = {}

    def __call__(self, endpoint: str, fn: Callable[[], R], *, write: bool = False, limit: str | None = None) -> R:
        self.calls[endpoint] += 1
        self.limits[endpoint] = limit
        self.log.append((endpoint, write))
        return fn()

    def reset(self) -> None:
        self.calls.clear()
        self.log.clear()


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., Any]]:
    from onboard_sync.sandbox.hubspot import HubSpotSandbox

    started: list[Any] = []

    def make(**kwargs: Any) -> Any:
        options = {"seed": 0, "deals": 60, "latency": 0.0, "rate_limit": None, "search_lag": 0.0, **kwargs}
        sb = HubSpotSandbox(**options)
        sb.start()
        started.append(sb)
        return sb

    yield make
    for sb in started:
        sb.stop()


@pytest.fixture
def sandbox(make_sandbox: Callable[..., Any]) -> Any:
    return make_sandbox()


def _connect(sb: Any, caller: Any = None, secrets: dict[str, str] | None = None, **settings: Any) -> HubSpotConnector:
    """A connector on the sandbox ``sb`` (search pacing off, so tests run fast)."""
    options = {"base_url": sb.base_url, "search_requests_per_second": 1000.0, **settings}
    return HubSpotConnector(
        "hubspot",
        HubSpotSettings(**options),
        {"HUBSPOT_TOKEN": sb.token} if secrets is None else secrets,
        caller or RecordingCaller(),
    )


@pytest.fixture
def connect() -> Iterator[Callable[..., HubSpotConnector]]:
    """``connect(sb, caller=None, secrets=None, **settings)``: a connector on a sandbox."""
    made: list[HubSpotConnector] = []

    def make(sb: Any, caller: Any = None, secrets: dict[str, str] | None = None, **settings: Any) -> HubSpotConnector:
        made.append(_connect(sb, caller, secrets, **settings))
        return made[-1]

    yield make
    for conn in made:
        conn.close()


@pytest.fixture
def connector(sandbox: Any, connect: Callable[..., HubSpotConnector]) -> HubSpotConnector:
    return connect(sandbox)

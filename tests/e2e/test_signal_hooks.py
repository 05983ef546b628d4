"""Plugin hooks of the helpdesk issue on the HubSpot sandbox: register_signals feeds health and alerts,
alert_raised tells notifiers once per episode."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from onboard_sync.hookspecs import hookimpl
from onboard_sync.plugins import get_plugin_manager
from onboard_sync.records import Account, Deal, Signal


class LowEngagement:
    def __init__(self) -> None:
        self.raised: list[tuple[str, str, int, str]] = []
        self.cleared: list[tuple[str, str, int]] = []
        self.score = 55.0

    @hookimpl
    def register_signals(self, register: Any) -> None:
        def source(*, deal: Deal, account: Account | None, now: datetime) -> list[Signal]:
            if account is None:
                return []
            return [Signal("product", account.id, "engagement_score", self.score, now)]

        register(source)

    @hookimpl
    def alert_raised(self, onboarding: Any, alert: str, episode: int, title: str, task_key: str) -> None:
        self.raised.append((onboarding.id, alert, episode, title))

    @hookimpl
    def alert_cleared(self, onboarding: Any, alert: str, episode: int) -> None:
        self.cleared.append((onboarding.id, alert, episode))


@pytest.fixture
def plugin() -> Iterator[LowEngagement]:
    pm = get_plugin_manager()
    impl = LowEngagement()
    pm.register(impl, name="test-low-engagement")
    try:
        yield impl
    finally:
        pm.unregister(name="test-low-engagement")


@pytest.mark.parametrize("chunk_size", [None, 4], ids=["whole", "chunked"])
def test_plugin_signals_score_health_and_raise_one_alert_per_episode(
    project: Any, plugin: LowEngagement, chunk_size: int | None
) -> None:
    if chunk_size is not None:  # episodes loaded and recorded chunk by chunk, hooks called once at the end
        text = project.config_path.read_text()
        project.config_path.write_text(text.replace("[onboard_sync]\n", f"[onboard_sync]\nchunk_size = {chunk_size}\n"))
        assert project.runtime().config.core.chunk_size == chunk_size
    first = project.sync()
    assert first.ok
    engaged = {oid for oid, alert, _, _ in plugin.raised if alert == "engagement_low"}
    assert engaged, "every onboarding with an account gets the low-engagement alert"
    assert all(
        title.startswith("Engagement below 70 at ") for _, alert, _, title in plugin.raised if alert == "engagement_low"
    )
    with project.store() as store:
        some = sorted(engaged)[0]
        history = store.health_history(some)
    engagement = next(c for c in history[-1].components if c["key"] == "engagement")
    assert (engagement["scored"], engagement["ok"], engagement["value"]) == (True, False, 55.0)

    before = len(plugin.raised)
    project.sync()
    assert len(plugin.raised) == before, "an open episode is not raised again"

    plugin.score = 90.0
    project.sync()
    assert {oid for oid, alert, _ in plugin.cleared if alert == "engagement_low"} == engaged

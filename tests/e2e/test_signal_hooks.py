"""Plugin hooks of the helpdesk issue on the HubSpot sandbox: register_signals feeds health and alerts,
alert_raised tells notifiers once per episode."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from e2e_support import replay_history

from onboard_sync.hookspecs import hookimpl
from onboard_sync.plugins import get_plugin_manager
from onboard_sync.records import Account, Deal, Signal, TaskStatus
from onboard_sync.sync.engine import Engine


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


@pytest.fixture(autouse=True)
def _judged_by_history(project: Any) -> None:
    replay_history(project.config_path)


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


def _engagement_tasks(project: Any) -> dict[str, Any]:
    backend = project.sandbox.backend
    return {
        key: task
        for task in backend.tasks.values()
        if ":alert.engagement_low:" in (key := task.properties.get("onboard_sync_key") or "")
    }


def test_a_cleared_alert_leaves_its_task_to_the_person_by_default(project: Any, plugin: LowEngagement) -> None:
    assert project.sync().ok
    assert _engagement_tasks(project)
    plugin.score = 90.0
    assert project.sync().ok
    assert plugin.cleared
    statuses = {t.properties.get("hs_task_status") for t in _engagement_tasks(project).values()}
    assert statuses == {"NOT_STARTED"}


def _close_engagement_alerts_when_cleared(project: Any) -> None:
    from onboard_sync.rules import default_playbook_path

    rules = project.path / "rules"
    rules.mkdir()
    for source in default_playbook_path().glob("*.toml"):
        text = source.read_text(encoding="utf-8")
        text = text.replace('key = "engagement_low"\n', 'key = "engagement_low"\nclose_when_cleared = true\n')
        (rules / source.name).write_text(text, encoding="utf-8")
    assert any(a.close_when_cleared for a in project.runtime().playbook.alerts)


def test_close_when_cleared_completes_the_alert_task_once_in_plan_and_sync(project: Any, plugin: LowEngagement) -> None:
    _close_engagement_alerts_when_cleared(project)

    assert project.sync().ok
    tasks = _engagement_tasks(project)
    assert tasks

    plugin.score = 90.0
    with project.store(read_only=True) as store:
        planned = Engine(project.runtime(), store, plan_mode=True).run()
    rows = planned.instances["hubspot"].plan.as_rows("hubspot")
    closes = {row["key"] for row in rows if row["action"] == "close"}
    assert closes == set(tasks), "plan shows exactly the closes sync will make"

    report = project.sync()
    assert report.ok, report.as_dict()
    statuses = {t.properties.get("hs_task_status") for t in _engagement_tasks(project).values()}
    assert statuses == {"COMPLETED"}
    with project.store() as store:
        owned = store.owned_tasks_for("hubspot")
        audit = [e for e in store.audit(run_id=report.run_id, limit=100_000) if e.action == "close_task"]
    assert {owned[key].status for key in tasks} == {TaskStatus.COMPLETED}
    assert {e.key for e in audit} == set(tasks)
    assert {e.outcome for e in audit} == {"ok"}

    again = project.sync()
    assert again.totals() == {"created": 0, "updated": 0, "failed": 0}, "closed once"


class Killed(BaseException):
    """Stands in for SIGKILL: nothing after the crash point runs (not even ``except Exception``)."""


def test_a_close_whose_answer_is_lost_is_sent_again_and_recorded_once(
    project: Any, plugin: LowEngagement, monkeypatch: pytest.MonkeyPatch
) -> None:
    from onboard_sync.sync import apply as apply_module

    _close_engagement_alerts_when_cleared(project)
    assert project.sync().ok
    tasks = _engagement_tasks(project)
    plugin.score = 90.0

    def crash(name: str) -> None:
        if name == "after-task-update":
            raise Killed(name)

    project.sandbox.backend.search_lag = 600.0  # the completion stays invisible to the task search
    with monkeypatch.context() as patched:
        patched.setattr(apply_module, "crash_point", crash)
        with pytest.raises(Killed):
            project.sync()
    assert {t.properties.get("hs_task_status") for t in _engagement_tasks(project).values()} == {"COMPLETED"}
    with project.store() as store:
        owned = store.owned_tasks_for("hubspot")
    assert {owned[key].status for key in tasks} == {TaskStatus.OPEN}, "the CRM answered, the store never heard"

    project.sandbox.requests.clear()
    assert project.sync().ok
    with project.store() as store:
        owned = store.owned_tasks_for("hubspot")
        closes = [e for e in store.audit(limit=100_000) if e.action == "close_task"]
    assert {owned[key].status for key in tasks} == {TaskStatus.COMPLETED}
    # the search does not show the completion yet, so the close is planned from the store and sent
    # again (setting a status twice is harmless), then recorded once
    resent = sum(1 for r in project.sandbox.requests if r.template == "/crm/v3/objects/tasks/batch/update")
    assert resent >= 1
    assert sorted(e.key for e in closes) == sorted(tasks)
    assert {e.outcome for e in closes} == {"ok"}
    project.sandbox.backend.clock.advance(seconds=601)  # the search catches up
    assert project.sync().totals() == {"created": 0, "updated": 0, "failed": 0}

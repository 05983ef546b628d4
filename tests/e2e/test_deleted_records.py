"""Records deleted in the CRM. A deleted deal's onboarding is cancelled with nothing written, and a
restore reopens it; a deleted task stops blocking its phase and is not created again.

The HubSpot sandbox over real HTTP (``archive`` and ``restore`` as the recycle bin does them).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from e2e_support import created_tasks

from onboard_sync.onboarding.state import OnboardingStatus, TransitionCause
from onboard_sync.records import TaskStatus
from onboard_sync.sync.engine import Engine

DAY = timedelta(hours=24)


def _sync_at(project: Any, at: datetime, **kwargs: Any) -> Any:
    """A sync at ``at``, with the sandbox's clock moved there too (its records are stamped by it)."""
    project.sandbox.backend.clock.set(at)
    with project.store() as store:
        return Engine(project.runtime(), store, clock=lambda: at, **kwargs).run()


def _won(project: Any) -> list[str]:
    deals = project.sandbox.backend.deals
    return sorted(d for d, deal in deals.items() if deal.properties.get("dealstage") == "closedwon")


def _status(project: Any, deal_id: str) -> OnboardingStatus:
    with project.store() as store:
        state = store.get_onboarding(f"hubspot:{deal_id}")
    assert state is not None
    return state.status


def _by_id_reads(project: Any) -> int:
    return sum(1 for r in project.sandbox.requests if r.template.endswith("/deals/batch/read"))


def test_a_deleted_deal_cancels_its_onboarding_at_the_daily_check_and_a_restore_reopens_it(project: Any) -> None:
    start = datetime.now(UTC)
    assert _sync_at(project, start).ok
    won = _won(project)
    deleted = won[0]
    project.sandbox.backend.archive("deals", deleted)

    project.sandbox.requests.clear()
    report = _sync_at(project, start + timedelta(hours=1))
    assert report.ok
    assert _status(project, deleted) is not OnboardingStatus.CANCELLED, "checked once a day"
    assert _by_id_reads(project) == 0, "no by-id reads between checks"

    project.sandbox.requests.clear()
    report = _sync_at(project, start + DAY)
    assert report.ok, report.as_dict()
    assert report.instances["hubspot"].deals_deleted == 1
    assert report.as_dict()["connectors"]["hubspot"]["deals_deleted"] == 1
    assert _status(project, deleted) is OnboardingStatus.CANCELLED
    with project.store() as store:
        last = store.transitions(f"hubspot:{deleted}")[-1]
    assert last.cause is TransitionCause.DEAL_DELETED
    assert last.new_status is OnboardingStatus.CANCELLED
    with project.store() as store:
        audit = store.audit(run_id=report.run_id, limit=100_000)
    assert audit, "the other onboardings moved on a day (the check is not all the run did)"
    about_deleted = [e for e in audit if e.remote_id == deleted or (e.key or "").startswith(f"hubspot:{deleted}:")]
    assert about_deleted == [], "nothing is written for a deal that is gone"
    open_onboardings = len(won) - 1
    assert _by_id_reads(project) >= 1
    assert _by_id_reads(project) <= -(-open_onboardings // 100) + 1, "one read per 100 open onboardings"
    assert all(_status(project, d) is not OnboardingStatus.CANCELLED for d in won[1:])

    assert _sync_at(project, start + DAY + timedelta(hours=1)).instances["hubspot"].deals_deleted == 0

    project.sandbox.backend.restore("deals", deleted)
    report = _sync_at(project, start + DAY + timedelta(hours=2))
    assert report.ok
    assert _status(project, deleted) is not OnboardingStatus.CANCELLED, "won again after the restore"
    with project.store() as store:
        causes = [t.cause for t in store.transitions(f"hubspot:{deleted}")]
    assert causes[causes.index(TransitionCause.DEAL_DELETED) + 1] is TransitionCause.DEAL_REWON


def test_plan_counts_deleted_deals_and_changes_nothing(project: Any) -> None:
    start = datetime.now(UTC)
    assert _sync_at(project, start).ok
    deleted = _won(project)[0]
    project.sandbox.backend.archive("deals", deleted)

    report = _sync_at(project, start + DAY, plan_mode=True)

    assert report.instances["hubspot"].deals_deleted == 1
    assert _status(project, deleted) is not OnboardingStatus.CANCELLED
    with project.store() as store:
        assert store.get_cursor("hubspot", "deals-exist") == start, "plan leaves the check due"


def test_a_deal_deletion_webhook_cancels_at_once(project: Any) -> None:
    assert project.sync().ok
    deleted = _won(project)[0]
    project.sandbox.backend.archive("deals", deleted)

    with project.store() as store:
        report = Engine(project.runtime(), store).run(deal_ids={"hubspot": [deleted]})

    assert report.ok, report.as_dict()
    assert report.instances["hubspot"].deals_deleted == 1
    assert _status(project, deleted) is OnboardingStatus.CANCELLED


def test_a_task_deleted_in_the_crm_stops_blocking_its_phase_and_is_not_created_again(project: Any) -> None:
    start = datetime.now(UTC)
    assert _sync_at(project, start).ok
    backend = project.sandbox.backend
    deal_id = _won(project)[0]
    onboarding = f"hubspot:{deal_id}"
    mine = {k: t for k, t in created_tasks(project).items() if t.onboarding_id == onboarding}
    handoff = sorted(k for k, t in mine.items() if t.phase == "handoff")
    assert len(handoff) >= 2, handoff
    deleted, *others = handoff
    backend.archive("tasks", mine[deleted].remote_id)

    plan = _sync_at(project, start + DAY, plan_mode=True)
    assert plan.instances["hubspot"].tasks_deleted == 1
    assert created_tasks(project)[deleted].status is TaskStatus.OPEN, "plan records nothing"

    report = _sync_at(project, start + DAY)
    assert report.ok, report.as_dict()
    assert report.instances["hubspot"].tasks_deleted == 1
    assert created_tasks(project)[deleted].status is TaskStatus.DELETED

    for key in others:
        backend.complete_task(mine[key].remote_id)
    report = _sync_at(project, start + DAY + timedelta(hours=1))
    assert report.ok, report.as_dict()
    assert report.instances["hubspot"].tasks_deleted == 0, "counted once"
    assert created_tasks(project)[deleted].status is TaskStatus.DELETED
    with project.store() as store:
        state = store.get_onboarding(onboarding)
    assert state is not None
    assert state.phase != "handoff", "the deleted task no longer blocks the phase"
    keyed = [t for t in backend.tasks.values() if t.properties.get("onboard_sync_key") == deleted]
    assert [t.archived for t in keyed] == [True], "never created again"

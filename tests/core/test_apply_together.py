"""sync/apply.py: a plan's task creates, task closes and field writes of each kind are in flight
together (the last batches of a run went one after another, each waiting for the one before), and
each answer is still recorded: the task created, the alert task closed, the fields written."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from onboard_sync.connector import FieldWrite, TaskPatch, TaskWrite, WriteResult
from onboard_sync.mappings import MappingSet
from onboard_sync.onboarding.state import TaskSpec
from onboard_sync.records import ObjectKind, TaskStatus
from onboard_sync.store import OwnedTask, Store, TaskState
from onboard_sync.sync.apply import Applier
from onboard_sync.sync.plan import PlannedClose, PlannedFields, PlannedTask, WritePlan
from onboard_sync.sync.report import InstanceReport

NOW = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)
ONBOARDING = "hubspot:42"
ALERT_KEY = f"{ONBOARDING}:alert.blockers:1"


class MeetingCrm:
    """Every write call waits until all ``calls`` of the plan are in flight (or the barrier breaks)."""

    max_write_batch = 100
    max_read_batch = 100
    write_concurrency = 4

    def __init__(self, calls: int) -> None:
        self.together = threading.Barrier(calls, timeout=5)

    def _met(self, keys: Sequence[str]) -> list[WriteResult]:
        self.together.wait()
        return [WriteResult(k, True, f"R-{k}") for k in keys]

    def create_tasks(self, batch: Sequence[TaskWrite]) -> list[WriteResult]:
        return self._met([w.key for w in batch])

    def update_tasks(self, batch: Sequence[TaskPatch]) -> list[WriteResult]:
        return self._met([p.key for p in batch])

    def write_fields(self, kind: ObjectKind, batch: Sequence[FieldWrite]) -> list[WriteResult]:
        return self._met([w.key for w in batch])


def _plan() -> WritePlan:
    due = NOW + timedelta(days=2)
    spec = TaskSpec(f"{ONBOARDING}:kickoff:0", "kickoff", "kickoff", "Kick off Acme", "", "csm", due)
    deal = FieldWrite(f"{ONBOARDING}:deal", ObjectKind.DEAL, "42", {"onboarding_phase": "kickoff"})
    account = FieldWrite(f"{ONBOARDING}:account", ObjectKind.ACCOUNT, "7", {"onboarding_phase": "kickoff"})
    return WritePlan(
        tasks=[PlannedTask(ONBOARDING, spec, TaskWrite(spec.key, spec.title, "", due, "o1", deal_id="42"))],
        closes=[PlannedClose(ONBOARDING, ALERT_KEY, "T-9", "Blocker cleared")],
        fields=[
            PlannedFields(ONBOARDING, deal, {"onboarding_phase": "handoff"}),
            PlannedFields(ONBOARDING, account, {"onboarding_phase": "handoff"}),
        ],
    )


@pytest.mark.parametrize("final", [True, False], ids=["last batches", "full batches"])
def test_every_kind_of_write_of_one_apply_is_in_flight_at_once(tmp_path: Path, final: bool) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'store.db'}") as store:
        store.record_task_intents([OwnedTask(ALERT_KEY, ONBOARDING, "hubspot", "alert.blockers", "kickoff", 1)])
        store.mark_tasks_created("hubspot", {ALERT_KEY: "T-9"})
        crm = MeetingCrm(calls=4)
        report = InstanceReport("hubspot")
        applier = Applier(store, crm, "hubspot", store.start_run("sync", NOW), lambda: NOW, report)  # type: ignore[arg-type]
        if not final:
            crm.max_write_batch = 1  # one write of each kind is a full batch: sent without a final flush
        written = applier.apply(_plan(), MappingSet("hubspot", "mappings/hubspot.toml", {}), final=final)

        owned = store.owned_tasks_for("hubspot")
        assert owned[f"{ONBOARDING}:kickoff:0"].state is TaskState.CREATED
        assert owned[ALERT_KEY].status is TaskStatus.COMPLETED
        assert {p.write.kind for p in written} == {ObjectKind.DEAL, ObjectKind.ACCOUNT}
        assert (report.writes_created, report.writes_updated, report.writes_failed) == (1, 3, 0)

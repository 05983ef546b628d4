"""sync/writes.py: a plan's rows (``plan --json``) equal the rows read back from the audit of the
same writes applied (``sync --json``), for every kind of write; failed writes are left out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from onboard_sync.connector import FieldWrite, TaskPatch, TaskWrite, WriteResult
from onboard_sync.mappings import MappingSet
from onboard_sync.onboarding.state import TaskSpec
from onboard_sync.records import Account, ObjectKind, Owner, TaskStatus
from onboard_sync.store import OwnedTask, Store, TaskState
from onboard_sync.sync import writeback
from onboard_sync.sync.apply import Applier
from onboard_sync.sync.plan import PlannedClose, PlannedFields, PlannedTask, WritePlan
from onboard_sync.sync.report import InstanceReport
from onboard_sync.sync.writes import helpdesk_write_key, run_changes

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
ONBOARDING = "hubspot:42"
ALERT_KEY = f"{ONBOARDING}:alert.blockers:1"


class FakeCrm:
    """Accepts every write except those whose key is in ``refuse``."""

    max_write_batch = 100
    max_read_batch = 100
    write_concurrency = 1

    def __init__(self, instance: str, refuse: Sequence[str] = ()) -> None:
        self.instance = instance
        self.refuse = set(refuse)

    def _results(self, keys: Sequence[str]) -> list[WriteResult]:
        return [WriteResult(k, k not in self.refuse, f"R-{k}", "refused" if k in self.refuse else None) for k in keys]

    def create_tasks(self, batch: Sequence[TaskWrite]) -> list[WriteResult]:
        return self._results([w.key for w in batch])

    def update_tasks(self, batch: Sequence[TaskPatch]) -> list[WriteResult]:
        return self._results([p.key for p in batch])

    def write_fields(self, kind: ObjectKind, batch: Sequence[FieldWrite]) -> list[WriteResult]:
        return self._results([w.key for w in batch])


def _plan() -> WritePlan:
    due = NOW + timedelta(days=2)
    spec = TaskSpec(f"{ONBOARDING}:kickoff:0", "kickoff", "kickoff", "Kick off Acme", "", "csm", due)
    task = TaskWrite(spec.key, spec.title, "", due, "o1", deal_id="42", account_id="7")
    deal = FieldWrite(
        f"{ONBOARDING}:deal", ObjectKind.DEAL, "42", {"onboarding_phase": "kickoff", "onboarding_score": "75"}
    )
    failing = FieldWrite(f"{ONBOARDING}:account", ObjectKind.ACCOUNT, "7", {"onboarding_phase": "kickoff"})
    return WritePlan(
        tasks=[PlannedTask(ONBOARDING, spec, task)],
        closes=[PlannedClose(ONBOARDING, ALERT_KEY, "T-9", "Blocker open more than 3 days at Acme")],
        fields=[
            PlannedFields(ONBOARDING, deal, {"onboarding_phase": "handoff", "onboarding_score": None}),
            PlannedFields(ONBOARDING, failing, {"onboarding_phase": None}),
        ],
    )


def _helpdesk_write() -> PlannedFields:
    org = FieldWrite(helpdesk_write_key(ONBOARDING, "zendesk", "360"), ObjectKind.ACCOUNT, "360", {"phase": "kickoff"})
    return PlannedFields(ONBOARDING, org, {"phase": None}, instance="zendesk")


def _open_alert_task(store: Store) -> None:
    store.record_task_intents(
        [OwnedTask(ALERT_KEY, ONBOARDING, "hubspot", "alert.blockers", "kickoff", 1, subject="Blocker")]
    )
    store.mark_tasks_created("hubspot", {ALERT_KEY: "T-9"})


def test_the_rows_of_a_plan_are_the_rows_sync_reads_back_from_the_audit(tmp_path: Path) -> None:
    plan = _plan()
    helpdesk = _helpdesk_write()
    with Store.open(f"sqlite:///{tmp_path / 'store.db'}") as store:
        store.put_owners("hubspot", [Owner("hubspot", "o1", "ann@example.test", "Ann Lee")])
        _open_alert_task(store)
        run_id = store.start_run("sync", NOW)
        crm = FakeCrm("hubspot", refuse=[f"{ONBOARDING}:account"])
        applier = Applier(store, crm, "hubspot", run_id, lambda: NOW, InstanceReport("hubspot"))  # type: ignore[arg-type]
        applier.apply(plan, MappingSet("hubspot", "mappings/hubspot.toml", {}), final=True)
        engine: Any = SimpleNamespace(clock=lambda: NOW, store=store)
        zendesk = FakeCrm("zendesk")
        org = Account("zendesk", "360", NOW, "Acme")
        writeback._apply(engine, zendesk, [(helpdesk, org)], {"updated": 0, "failed": 0}, run_id)  # type: ignore[arg-type]
        synced = list(run_changes(store, run_id, ["hubspot"]))
        assert store.owned_tasks_for("hubspot")[ALERT_KEY].status is TaskStatus.COMPLETED
        assert store.owned_tasks_for("hubspot")[f"{ONBOARDING}:kickoff:0"].state is TaskState.CREATED

    plan.fields.append(helpdesk)
    planned = {(r["action"], r["key"]): r for r in plan.as_rows("hubspot", {"o1": "Ann Lee"})}
    made = {(r["action"], r["key"]): r for r in synced}
    refused = ("update", f"{ONBOARDING}:account")
    assert set(planned) - set(made) == {refused}, "a refused write is planned, and not listed as made"
    del planned[refused]
    assert made == planned

    assert made[("create", f"{ONBOARDING}:kickoff:0")] == {
        "action": "create",
        "object": "task",
        "instance": "hubspot",
        "key": f"{ONBOARDING}:kickoff:0",
        "onboarding": ONBOARDING,
        "subject": "Kick off Acme",
        "owner_id": "o1",
        "owner": "Ann Lee",
        "due": "2026-11-25",
        "deal_id": "42",
        "account_id": "7",
    }
    assert made[("update", f"{ONBOARDING}:deal")]["changes"] == {
        "onboarding_phase": {"from": "handoff", "to": "kickoff"},
        "onboarding_score": {"from": None, "to": "75"},
    }
    assert made[("close", ALERT_KEY)]["changes"] == {"status": {"from": "open", "to": "completed"}}
    organization = made[("update", helpdesk.write.key)]
    assert (organization["instance"], organization["onboarding"], organization["remote_id"]) == (
        "zendesk",
        ONBOARDING,
        "360",
    )

"""The store's contract, on SQLite and (marked ``postgres``) on PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from store_samples import CET, T0, deal, intent, onboarding

from onboard_sync.onboarding.state import (
    OnboardingStatus,
    Transition,
    TransitionCause,
)
from onboard_sync.records import Account, Contact, ObjectKind, Owner, Task, TaskStatus
from onboard_sync.store import AuditEntry, OwnedTask, Store, TaskState

# -- onboardings and transitions ---------------------------------------------------------


def test_onboarding_round_trips_exactly(store: Store) -> None:
    state = onboarding()
    store.save_onboarding(state)
    got = store.get_onboarding("hs:42")
    assert got == state
    assert got is not None
    assert isinstance(got.history, tuple)
    assert isinstance(got.history[0].cause, TransitionCause)
    assert got.status is OnboardingStatus.AT_RISK
    assert got.started_at.tzinfo is UTC
    assert store.get_onboarding("hs:nope") is None


def test_non_utc_datetimes_come_back_as_the_same_instant_in_utc(store: Store) -> None:
    state = onboarding(started_at=datetime(2026, 3, 1, 10, 0, tzinfo=CET))
    store.save_onboarding(state)
    got = store.get_onboarding(state.id)
    assert got is not None
    assert got.started_at == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert got.started_at.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        store.set_cursor("hs", "deals", datetime(2026, 1, 1))


def test_save_onboarding_upserts_and_filters(store: Store) -> None:
    store.save_onboarding(onboarding("hs:1"))
    store.save_onboarding(onboarding("hs:2", status=OnboardingStatus.COMPLETED))
    store.save_onboarding(onboarding("sf:3", status=OnboardingStatus.ACTIVE))
    store.save_onboarding(onboarding("hs:1", phase="discovery", status=OnboardingStatus.ACTIVE))
    assert [s.id for s in store.onboardings()] == ["hs:1", "hs:2", "sf:3"]
    assert store.get_onboarding("hs:1").phase == "discovery"  # type: ignore[union-attr]
    assert [s.id for s in store.onboardings(source="hs")] == ["hs:1", "hs:2"]
    active = store.onboardings(statuses={OnboardingStatus.ACTIVE})
    assert [s.id for s in active] == ["hs:1", "sf:3"]
    assert [s.id for s in store.onboardings(source="hs", statuses=[OnboardingStatus.COMPLETED])] == ["hs:2"]
    assert store.onboardings(statuses=[]) == []


def test_transitions_are_an_append_only_log(store: Store) -> None:
    first = Transition("hs:1", None, "handoff", None, OnboardingStatus.ACTIVE, TransitionCause.STARTED, T0)
    second = Transition(
        "hs:1", "handoff", "kickoff", OnboardingStatus.ACTIVE, OnboardingStatus.AT_RISK,
        TransitionCause.TASKS_COMPLETED, T0 + timedelta(hours=5), detail="handoff tasks done",
    )  # fmt: skip
    other = Transition("hs:2", None, "handoff", None, OnboardingStatus.ACTIVE, TransitionCause.STARTED, T0)
    for tr in (first, other, second):
        store.record_transition(tr)
    assert store.transitions("hs:1") == [first, second]
    assert store.transitions() == [first, other, second]


# -- cached facts ------------------------------------------------------------------------


def test_records_round_trip_exactly(store: Store) -> None:
    d = deal()
    a = Account("hs", "acc-1", T0, "Acme GmbH", domain="acme.example", owner_id="o1", properties={"x": "1"})
    c = Contact("hs", "c1", T0, "ann@acme.example", "Ann", account_ids=("acc-1",), properties={})
    store.put_deals([d])
    store.put_accounts([a])
    store.put_contacts([c])
    assert store.get_deal("hs", "42") == d
    assert store.get_account("hs", "acc-1") == a
    assert store.get_contacts("hs", ["c1", "missing"]) == {"c1": c}
    assert store.get_deals("hs", ["42", "43"]) == {"42": d}
    assert store.get_accounts("sf", ["acc-1"]) == {}
    got = store.get_deal("hs", "42")
    assert got is not None
    assert isinstance(got.account_ids, tuple)
    assert got.close_date is not None
    assert got.close_date.tzinfo is UTC
    assert store.get_deal("hs", "acc-1") is None  # kinds do not mix


def test_an_older_record_never_replaces_a_newer_one(store: Store) -> None:
    store.put_deals([deal(updated=T0, name="v1")])
    store.put_deals([deal(updated=T0 + timedelta(minutes=5), name="v2")])
    store.put_deals([deal(updated=T0 + timedelta(minutes=1), name="stale")])
    assert store.get_deal("hs", "42").name == "v2"  # type: ignore[union-attr]
    store.put_deals([deal(updated=T0 + timedelta(minutes=5), name="same time, re-read")])
    assert store.get_deal("hs", "42").name == "same time, re-read"  # type: ignore[union-attr]
    store.put_deals([deal(updated=T0 + timedelta(hours=1), name="b1"), deal(updated=T0, name="b0")])
    assert store.get_deal("hs", "42").name == "b1"  # type: ignore[union-attr]


def test_owners_replace_the_source_list(store: Store) -> None:
    store.put_owners("hs", [Owner("hs", "o1", "a@x.io", "Ann"), Owner("hs", "o2", None, "Bob", active=False)])
    store.put_owners("sf", [Owner("sf", "o1", "c@x.io", "Cy")])
    assert store.owners("hs") == {
        "o1": Owner("hs", "o1", "a@x.io", "Ann"),
        "o2": Owner("hs", "o2", None, "Bob", active=False),
    }
    store.put_owners("hs", [Owner("hs", "o2", "b@x.io", "Bob")])
    assert store.owners("hs") == {"o2": Owner("hs", "o2", "b@x.io", "Bob")}
    assert list(store.owners("sf")) == ["o1"]
    with pytest.raises(ValueError, match="other sources"):
        store.put_owners("hs", [Owner("sf", "o9", None, "X")])


# -- owned tasks: the idempotency ledger -------------------------------------------------


def test_task_intents_are_idempotent(store: Store) -> None:
    keys = ["hs:42:kickoff-call:0", "hs:42:welcome:0"]
    store.record_task_intents([intent(k) for k in keys])
    first = store.owned_tasks("hs:42")
    assert set(first) == set(keys)
    assert all(t.state is TaskState.PENDING for t in first.values())
    # replaying the same intents (and a duplicate inside one batch) changes nothing
    store.record_task_intents([intent(k) for k in keys] + [intent(keys[0])])
    assert store.owned_tasks("hs:42") == first
    store.mark_tasks_created("hs", {keys[0]: "T-1"})
    store.record_task_intents([intent(keys[0])])
    created = store.owned_tasks("hs:42")[keys[0]]
    assert created.state is TaskState.CREATED
    assert created.remote_id == "T-1"
    assert len(store.owned_tasks_for("hs")) == 2


def test_owned_task_round_trip_and_queries(store: Store) -> None:
    task = intent("hs:42:kickoff-call:1")
    store.record_task_intents([task, intent("sf:7:welcome:0", oid="sf:7", source="sf")])
    got = store.owned_tasks("hs:42")[task.key]
    assert got.updated_at is not None
    assert got.updated_at.tzinfo is UTC
    assert got == OwnedTask(**{**{f: getattr(task, f) for f in task.__slots__}, "updated_at": got.updated_at})
    assert got.status is TaskStatus.OPEN
    assert set(store.owned_tasks_for("hs")) == {task.key}
    assert set(store.owned_tasks_for("sf")) == {"sf:7:welcome:0"}


def test_pending_survives_a_crash_between_create_and_record(store_url: str) -> None:
    keys = ["hs:42:kickoff-call:0", "hs:42:welcome:0"]
    with Store.open(store_url) as first:
        first.record_task_intents([intent(k) for k in keys])
        first.mark_tasks_created("hs", {keys[0]: "T-1"})
        # ... the CRM created keys[1] too, then the process died before recording it
    with Store.open(store_url) as after:
        pending = after.pending_tasks("hs")
        assert [t.key for t in pending] == [keys[1]]
        assert pending[0].remote_id is None
        # the engine looks the key up in the CRM, finds it, and records it
        after.mark_tasks_created("hs", {keys[1]: "T-2"})
        assert after.pending_tasks("hs") == []
        assert {k: t.remote_id for k, t in after.owned_tasks_for("hs").items()} == {
            keys[0]: "T-1",
            keys[1]: "T-2",
        }


def test_failed_tasks_are_retried_via_pending_and_never_downgrade_created(store: Store) -> None:
    a, b = "hs:42:a:0", "hs:42:b:0"
    store.record_task_intents([intent(a), intent(b)])
    store.mark_tasks_failed("hs", {a: "HTTP 400: bad owner", b: "HTTP 500"})
    tasks = store.owned_tasks("hs:42")
    assert tasks[a].state is TaskState.FAILED
    assert tasks[a].error == "HTTP 400: bad owner"
    assert store.pending_tasks("hs") == []
    store.record_task_intents([intent(a)])  # next run: the intent exists, left as it is
    assert store.owned_tasks("hs:42")[a].state is TaskState.FAILED
    store.mark_tasks_pending("hs", [a, "hs:42:unknown:0"])  # the retry starts: outcome unknown again
    assert [t.key for t in store.pending_tasks("hs")] == [a]
    assert store.owned_tasks("hs:42")[a].error == "HTTP 400: bad owner"  # kept for the record
    store.mark_tasks_created("hs", {a: "T-9"})
    store.mark_tasks_failed("hs", {a: "late duplicate report"})
    store.mark_tasks_pending("hs", [a])
    again = store.owned_tasks("hs:42")[a]
    assert again.state is TaskState.CREATED
    assert again.remote_id == "T-9"


def test_marking_unknown_keys_raises_and_writes_nothing(store: Store) -> None:
    store.record_task_intents([intent("hs:42:a:0")])
    with pytest.raises(KeyError, match="hs:42:zzz:0"):
        store.mark_tasks_created("hs", {"hs:42:a:0": "T-1", "hs:42:zzz:0": "T-2"})
    assert store.owned_tasks("hs:42")["hs:42:a:0"].state is TaskState.PENDING
    with pytest.raises(KeyError):
        store.mark_tasks_created("sf", {"hs:42:a:0": "T-1"})  # other source


def test_update_task_status_from_crm_reads(store: Store) -> None:
    a, b, c = "hs:42:a:0", "hs:42:b:0", "hs:42:c:0"
    store.record_task_intents([intent(a), intent(b), intent(c)])
    store.mark_tasks_created("hs", {a: "T-1", b: "T-2"})
    done = T0 + timedelta(days=2)
    reads = [
        Task("hs", "T-1", done, "Task a", TaskStatus.COMPLETED, key=a, completed_at=done, owner_id="o2"),
        Task("hs", "T-2", done, "Task b", TaskStatus.OPEN, due_at=T0 + timedelta(days=3), owner_id="o1"),
        Task("hs", "T-3", done, "Task c", TaskStatus.OPEN, key=c, due_at=T0 + timedelta(days=3), owner_id="o1"),
        Task("hs", "T-99", done, "not ours", TaskStatus.COMPLETED),
    ]
    # a: completed (by key); b: matched by remote id, unchanged; c: pending found in the CRM
    assert store.update_task_status("hs", reads) == 2
    tasks = store.owned_tasks("hs:42")
    assert tasks[a].status is TaskStatus.COMPLETED
    assert tasks[a].completed_at == done
    assert tasks[a].owner_id == "o2"
    assert tasks[b].status is TaskStatus.OPEN
    assert (tasks[c].state, tasks[c].remote_id) == (TaskState.CREATED, "T-3")
    assert store.update_task_status("hs", reads) == 0
    assert store.update_task_status("sf", reads) == 0
    assert store.update_task_status("hs", []) == 0


def test_refresh_task_status_names_the_changed_onboardings_and_ignores_sub_millisecond_differences(
    store: Store,
) -> None:
    a, b = "hs:42:a:0", "hs:43:b:0"
    due = T0.replace(microsecond=754_739)
    store.record_task_intents(
        [replace(intent(a, oid="hs:42"), due_at=due), replace(intent(b, oid="hs:43"), due_at=due)]
    )
    store.mark_tasks_created("hs", {a: "T-1", b: "T-2"})
    as_read = due.replace(microsecond=754_000)  # the CRM keeps milliseconds
    reads = [
        Task("hs", "T-1", T0, "Task a", TaskStatus.OPEN, key=a, due_at=as_read, owner_id="o1"),
        Task("hs", "T-2", T0, "Task b", TaskStatus.COMPLETED, key=b, due_at=as_read, completed_at=T0, owner_id="o1"),
    ]
    assert store.refresh_task_status("hs", reads) == {b: "hs:43"}
    tasks = {**store.owned_tasks("hs:42"), **store.owned_tasks("hs:43")}
    assert tasks[a].due_at == due
    assert tasks[b].status is TaskStatus.COMPLETED
    later = [Task("hs", "T-1", T0, "Task a", TaskStatus.OPEN, key=a, due_at=due + timedelta(hours=1), owner_id="o1")]
    assert store.refresh_task_status("hs", later) == {a: "hs:42"}


# -- written fields, cursors -------------------------------------------------------------


def test_written_fields_round_trip(store: Store) -> None:
    store.save_onboarding(onboarding("hs:42"))
    store.record_written_fields("hs:42", ObjectKind.DEAL, "42", {"onb_phase": "kickoff", "onb_health": None})
    store.record_written_fields("hs:42", ObjectKind.ACCOUNT, "acc-1", {"onb_phase": "kickoff"})
    store.record_written_fields("hs:42", ObjectKind.DEAL, "42", {"onb_phase": "discovery"})
    store.record_written_fields("hs:43", ObjectKind.DEAL, "43", {"onb_phase": "handoff"})
    store.record_written_fields("sf:9", ObjectKind.DEAL, "9", {"Phase__c": "handoff"})
    expected = {
        (ObjectKind.DEAL, "42", "onb_phase"): "discovery",
        (ObjectKind.DEAL, "42", "onb_health"): None,
        (ObjectKind.ACCOUNT, "acc-1", "onb_phase"): "kickoff",
    }
    got = store.written_fields("hs:42")
    assert got == expected
    assert all(isinstance(kind, ObjectKind) for kind, _, _ in got)
    assert store.written_fields_for("hs") == {
        "hs:42": expected,
        "hs:43": {(ObjectKind.DEAL, "43", "onb_phase"): "handoff"},
    }
    assert store.written_fields("hs:nope") == {}


def test_cursors_persist_across_reopen(store_url: str) -> None:
    with Store.open(store_url) as first:
        assert first.get_cursor("hs", "deals") is None
        first.set_cursor("hs", "deals", T0)
        first.set_cursor("hs", "deals", T0 + timedelta(hours=1))
        first.set_cursor("hs", "tasks", datetime(2026, 3, 1, 12, 0, tzinfo=CET))
    with Store.open(store_url) as again:
        assert again.get_cursor("hs", "deals") == T0 + timedelta(hours=1)
        assert again.get_cursor("hs", "deals").tzinfo is UTC  # type: ignore[union-attr]
        assert again.get_cursor("hs", "tasks") == datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
        assert again.get_cursor("sf", "deals") is None


# -- audit, runs, inbox ------------------------------------------------------------------


def test_audit_and_runs(store: Store) -> None:
    run_id = store.start_run("sync", T0)
    assert store.runs()[0].finished_at is None
    entries = [
        AuditEntry(run_id, T0, "hs", "create_task", ObjectKind.TASK, "T-1", "hs:42:a:0", None,
                   {"subject": "Kickoff", "due": T0}, "ok"),
        AuditEntry(run_id, T0, "hs", "update_fields", ObjectKind.DEAL, "42", None,
                   {"onb_phase": "handoff"}, {"onb_phase": "kickoff"}, "ok", detail="phase advanced"),
    ]  # fmt: skip
    store.record_audit(entries)
    store.record_audit([AuditEntry(None, T0, "hs", "create_task", "custom", None, None, None, None, "failed")])
    report = {"created": 1, "updated": 1, "errors": [], "at": T0}
    store.finish_run(run_id, T0 + timedelta(seconds=12), True, report)
    of_run = store.audit(run_id=run_id)
    assert [e.action for e in of_run] == ["update_fields", "create_task"]  # newest first
    assert of_run[0].before == {"onb_phase": "handoff"}
    assert of_run[0].detail == "phase advanced"
    assert of_run[1].after == {"subject": "Kickoff", "due": T0.isoformat()}
    assert of_run[1].object_kind is ObjectKind.TASK
    assert len(store.audit()) == 3
    assert len(store.audit(limit=1)) == 1
    run2 = store.start_run("sync", T0 + timedelta(hours=1))
    (latest, first) = store.runs()
    assert (latest.id, latest.ok, latest.finished_at) == (run2, None, None)
    assert first.ok is True
    assert first.finished_at == T0 + timedelta(seconds=12)
    assert first.report == {"created": 1, "updated": 1, "errors": [], "at": T0.isoformat()}
    with pytest.raises(KeyError):
        store.finish_run(9999, T0, False, {})


def test_webhook_inbox_dedupes(store: Store) -> None:
    assert store.inbox_add("hs", "evt-1", b'{"a":1}', T0) is True
    assert store.inbox_add("hs", "evt-1", b'{"a":1}', T0) is False
    assert store.inbox_add("zd", "evt-1", "{}", T0) is True
    assert store.inbox_add("hs", "evt-2", b"\x00\xff", T0 + timedelta(seconds=1)) is True
    pending = store.inbox_pending(10)
    assert [(e.source, e.event_id) for e in pending] == [("hs", "evt-1"), ("zd", "evt-1"), ("hs", "evt-2")]
    assert pending[2].payload == b"\x00\xff"
    assert pending[1].payload == b"{}"
    assert pending[0].received_at == T0
    store.inbox_mark_processed([pending[0].id, pending[2].id], at=T0 + timedelta(minutes=1))
    assert [e.event_id for e in store.inbox_pending(10)] == ["evt-1"]
    assert store.inbox_pending(10)[0].source == "zd"
    assert len(store.inbox_pending(0)) == 0


# -- transactions --------------------------------------------------------------------------


def _crashing_batch(store: Store) -> None:
    with store.transaction():
        store.save_onboarding(onboarding("hs:1"))
        with store.transaction():  # nested: joins the outer one
            store.record_task_intents([intent("hs:1:a:0", oid="hs:1")])
        store.set_cursor("hs", "deals", T0)
        raise RuntimeError("crash mid-batch")


def test_transaction_groups_and_rolls_back(store: Store) -> None:
    with pytest.raises(RuntimeError, match="crash mid-batch"):
        _crashing_batch(store)
    assert store.get_onboarding("hs:1") is None
    assert store.owned_tasks("hs:1") == {}
    assert store.get_cursor("hs", "deals") is None
    with store.transaction():
        store.save_onboarding(onboarding("hs:1"))
        assert store.get_onboarding("hs:1") is not None  # reads see the open transaction
        with store.transaction():
            store.set_cursor("hs", "deals", T0)
    assert store.get_cursor("hs", "deals") == T0


def test_url_for_display_hides_the_password(tmp_path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 's.db'}") as s:
        assert s.url_for_display == f"sqlite:///{tmp_path / 's.db'}"
    from onboard_sync.store import redact_url

    shown = redact_url("postgresql+psycopg://onb:hunter2@db.example:5432/onb")
    assert shown == "postgresql+psycopg://onb:***@db.example:5432/onb"


def test_inbox_add_many_skips_duplicates_within_and_across_deliveries(store: Store) -> None:
    at = datetime(2026, 11, 1, tzinfo=UTC)
    assert store.inbox_add_many("hubspot", [("e1", b"a"), ("e2", b"b"), ("e1", b"again")], at) == 2
    assert store.inbox_add_many("hubspot", [("e2", b"b"), ("e3", "c")], at) == 1
    assert store.inbox_add_many("zendesk", [("e1", b"z")], at) == 1, "dedup is per source"
    pending = store.inbox_pending(10)
    assert [(e.source, e.event_id, e.payload) for e in pending] == [
        ("hubspot", "e1", b"a"),
        ("hubspot", "e2", b"b"),
        ("hubspot", "e3", b"c"),
        ("zendesk", "e1", b"z"),
    ]
    assert store.inbox_add_many("hubspot", [], at) == 0


def test_inbox_add_deliveries_writes_several_deliveries_in_one_call(store: Store) -> None:
    """The receiver's group commit: each delivery's new events counted, a repeat across deliveries once."""
    at = datetime(2026, 11, 1, tzinfo=UTC)
    store.inbox_add_many("hubspot", [("e0", b"old")], at)
    counts = store.inbox_add_deliveries(
        [
            ("hubspot", [("e0", b"old"), ("e1", b"a")], at),
            ("zendesk", [("e1", b"z")], at),
            ("hubspot", [("e1", b"again"), ("e2", b"b"), ("e2", b"b")], at),
            ("hubspot", [], at),
        ]
    )

    assert counts == [1, 1, 1, 0]
    pending = [(e.source, e.event_id, e.payload) for e in store.inbox_pending(10)]
    assert pending == [
        ("hubspot", "e0", b"old"),
        ("hubspot", "e1", b"a"),
        ("zendesk", "e1", b"z"),
        ("hubspot", "e2", b"b"),
    ]

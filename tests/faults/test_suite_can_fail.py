"""The fault suite is not vacuous: deliberately broken builds make its invariant checks fail.

Each test runs the engine in-process with the crash point turned into an exception (a stand-in
for SIGKILL that the test can catch), once on the real build, where the invariants hold, and once
on a mutated build, where the checker must raise. The mutations exist only here, via monkeypatch.
"""

from __future__ import annotations

from typing import Any

import pytest
from invariants import InvariantViolated, check_all, check_cursor

from onboard_sync.store import Store
from onboard_sync.sync import apply as apply_module
from onboard_sync.sync import engine as engine_module


class Crash(BaseException):
    """Raised where the process would have been killed."""


def crash_at(monkeypatch: pytest.MonkeyPatch, target: str, *, early_cursor: bool = False) -> None:
    """Crash at ``target``. With ``early_cursor`` the build is broken: it commits the cursors
    *before* recording the evaluated state and the writes (as a cursor taken at the end of
    the pull would be)."""
    holder: dict[str, Any] = {}

    def point(name: str) -> None:
        if early_cursor and name == "before-state-record":
            # the mutation: advance the cursor before the state and writes are recorded
            store, now = holder["engine"].store, holder["engine"].clock()
            with store.transaction():
                store.set_cursor("hubspot", "deals", now)
                store.set_cursor("hubspot", "tasks", now)
        if name == target:
            raise Crash(name)

    real_run_instance = engine_module.Engine._run_instance

    def run_instance(self: Any, *args: Any) -> None:
        holder["engine"] = self
        return real_run_instance(self, *args)

    monkeypatch.setattr(engine_module.Engine, "_run_instance", run_instance)
    monkeypatch.setattr(engine_module, "crash_point", point)
    monkeypatch.setattr(apply_module, "crash_point", point)


def crashed_sync(project: Any) -> None:
    rt = project.runtime()
    with pytest.raises(Crash), Store.open(rt.config.store_url) as store:
        engine_module.Engine(rt, store).run()


def test_the_real_build_keeps_the_cursor_behind_unrecorded_work(project: Any) -> None:
    with pytest.MonkeyPatch.context() as mp:
        crash_at(mp, "before-state-record")
        crashed_sync(project)
    check_cursor(project)  # holds: the cursor has not moved
    project.sync()
    check_all(project)


def test_a_build_that_advances_the_cursor_early_is_caught(project: Any) -> None:
    with pytest.MonkeyPatch.context() as mp:
        crash_at(mp, "before-state-record", early_cursor=True)
        crashed_sync(project)
    with pytest.raises(InvariantViolated, match=r"cursor .* ahead of unrecorded won deals"):
        check_cursor(project)
    # and after "recovery" with the look-back elapsed, the won deals are gone for good
    with project.store() as store, store.transaction():
        for stream in ("deals", "tasks"):
            cursor = store.get_cursor("hubspot", stream)
            store.set_cursor("hubspot", stream, cursor.replace(year=cursor.year + 1))
    project.sync()
    with pytest.raises(InvariantViolated, match=r"without an onboarding|ahead of unrecorded"):
        check_all(project)


def test_a_build_that_skips_the_create_audit_is_caught(project: Any) -> None:
    real = Store.record_audit

    def record_audit(self: Store, entries: Any) -> None:
        return real(self, [e for e in entries if e.action != "create_task"])

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Store, "record_audit", record_audit)
        project.sync()
    with pytest.raises(InvariantViolated, match="without a create audit entry"):
        check_all(project)


def test_a_build_that_creates_twice_is_caught(project: Any) -> None:
    project.sync()
    check_all(project)
    # a build without write-ahead keys: the CRM gets a second task for a key (as a retried create
    # without the unique key property would make)
    backend = project.sandbox.backend
    task = next(t for t in backend.tasks.values() if t.properties.get("onboard_sync_key"))
    copy = {k: v for k, v in task.properties.items() if k in ("hs_task_subject", "hs_timestamp")}
    backend.create("tasks", copy)
    dup = max(backend.tasks.values(), key=lambda t: int(t.id))
    dup.properties["onboard_sync_key"] = task.properties["onboard_sync_key"]
    with pytest.raises(InvariantViolated, match="duplicate CRM tasks per key"):
        check_all(project)

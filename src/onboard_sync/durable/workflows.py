"""The engine's DBOS workflows: a reconcile per trigger, and the schedule fan-out.

Importing this module registers, with DBOS (Transact 3.4.0):

* ``onboard_sync.reconcile(instance, trigger, requested_at)``: one step that runs
  :func:`onboard_sync.durable.unit.run_trigger` in the worker's bound context; if another
  process holds the instance's run lock the workflow sleeps (durably) and tries again, up to
  ``LOCK_ATTEMPTS`` times (the scheduled run is the backstop). Helpdesk events fan out to a
  ``helpdesk`` reconcile of every deal source now (unless the step already reconciled the
  customers they concern, ``live``) and one more ``HELPDESK_SETTLE`` seconds later (a helpdesk
  export leaves out its last minute); more events than one batch re-enqueue the instance.
  Children are enqueued as workflow steps, so a recovered workflow never doubles them.
* ``onboard_sync.schedule_tick(scheduled_at, instance)``: what a DB-stored schedule fires (once per
  tick across the cluster: DBOS gives it the id ``sched-NAME-TIME``); it enqueues the reconcile of
  its instance with the id ``tick:INSTANCE:TIME``.

A worker binds its runtime and store with :func:`bind` before DBOS launches; the step reads them
there (workflow arguments stay small and JSON-able, so any worker can resume any workflow).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from dbos import DBOS

from onboard_sync.connector import Capability
from onboard_sync.durable.triggers import RECONCILE_WORKFLOW, SCHEDULE_WORKFLOW, enqueue_options, trigger_args
from onboard_sync.durable.unit import Budget, run_trigger

if TYPE_CHECKING:
    from onboard_sync.runtime import Runtime
    from onboard_sync.store import Store

log = logging.getLogger("onboard_sync.durable")
LOCK_ATTEMPTS = 8
HELPDESK_SETTLE = 61.0


@dataclass
class Bound:
    """What the workflows of this process run against."""

    runtime: Runtime
    store: Store
    reconciled: Callable[[str, str, str, float], None]
    """Called after each reconcile step: (instance, trigger, outcome, seconds); metrics hook here."""
    budget: Budget = field(default_factory=Budget)
    """The rate limiters and webhook pacer every reconcile of this process shares."""


_bound: Bound | None = None
_bound_lock = threading.Lock()


def bind(bound: Bound | None) -> None:
    """Set (or clear) the runtime and store the workflows of this process use."""
    global _bound
    with _bound_lock:
        _bound = bound


def _current() -> Bound:
    if _bound is None:
        raise RuntimeError("no runtime bound: start workers with onboard_sync.durable.worker.run_worker")
    return _bound


@DBOS.step(name="onboard_sync.reconcile_step")
def reconcile_step(instance: str, trigger: str, requested_at: str) -> dict[str, Any]:
    """Run the trigger; a crash mid-step runs it again on recovery (write-ahead intents keep writes once)."""
    bound = _current()
    started = time.monotonic()
    outcome = "error"
    try:
        when = datetime.fromisoformat(requested_at)
        result = run_trigger(bound.runtime, bound.store, instance, trigger, when, bound.budget)
        outcome = str(result["outcome"])
        return result
    except Exception as exc:  # an unexpected failure ends this reconcile, not the worker
        log.exception("reconcile of %s (%s) crashed", instance, trigger)
        return {"outcome": "error", "error": type(exc).__name__}
    finally:
        bound.reconciled(instance, trigger, outcome, time.monotonic() - started)


@DBOS.step(name="onboard_sync.deal_sources")
def deal_sources_step() -> list[str]:
    return list(_current().runtime.instances_with(Capability.DEAL_SOURCE))


@DBOS.workflow(name=RECONCILE_WORKFLOW)
def reconcile_workflow(instance: str, trigger: str, requested_at: str) -> dict[str, Any]:
    """One reconcile of ``instance`` for ``trigger`` (see the module docstring)."""
    result: dict[str, Any] = {}
    for attempt in range(LOCK_ATTEMPTS):
        result = reconcile_step(instance, trigger, requested_at)
        if result.get("outcome") != "lock-held":
            break
        DBOS.sleep(min(30.0, 2.0**attempt))
    if result.get("helpdesk_events"):
        finished = datetime.fromisoformat(result["finished_at"])
        for name in deal_sources_step():
            if name not in result.get("live", ()):  # it already re-scored the customers the events named
                DBOS.enqueue_workflow_with_options(enqueue_options(name), *trigger_args(name, "helpdesk", finished))
            later = finished + timedelta(seconds=HELPDESK_SETTLE)
            DBOS.enqueue_workflow_with_options(
                enqueue_options(name, delay_seconds=HELPDESK_SETTLE), *trigger_args(name, "helpdesk", later)
            )
    if result.get("more"):
        DBOS.enqueue_workflow_with_options(enqueue_options(instance), *trigger_args(instance, "webhook"))
    return result


@DBOS.workflow(name=SCHEDULE_WORKFLOW)
def schedule_tick(scheduled_at: datetime, context: Any) -> None:
    """A tick of instance ``context``'s schedule: enqueue its reconcile, once per tick."""
    instance = str(context)
    tick = f"tick:{instance}:{scheduled_at.isoformat()}"
    DBOS.enqueue_workflow_with_options(
        enqueue_options(instance, workflow_id=tick), *trigger_args(instance, "schedule", scheduled_at)
    )

"""What ``onboard-sync cluster`` shows: workers alive, the queue, and each instance's reconciles.

Read without running a worker, from two places:

* the store's ``workers`` table (every worker's heartbeat): a worker is alive while its last beat
  is younger than ``stale_after`` (what the workers themselves use to take over a dead one's work);
* DBOS's workflow tables, through its public client (``DBOSClient.list_workflows``): reconcile
  workflows waiting (``ENQUEUED``; ``DELAYED`` ones wait for a set time, e.g. a helpdesk
  follow-up), running (``PENDING``: which worker, since when, for which trigger), and finished,
  newest first, until every instance has its last success and last failure or ``history``
  workflows were read. A finished reconcile's outcome is its workflow's output (see
  ``durable.unit``): ``ok`` is a success; ``write-failures``, ``error`` and a final ``lock-held``
  are failures; ``nothing-new`` (an earlier run covered the trigger, the CRM was not called) is
  neither. A workflow DBOS itself ended in error counts as a failure with that error.

Instances are those of the config plus any seen in the queue (an instance removed from the config
while work for it waited).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from onboard_sync.durable.triggers import QUEUE, RECONCILE_WORKFLOW

if TYPE_CHECKING:
    from dbos import DBOSClient

    from onboard_sync.store import Store

SUCCESS_OUTCOMES = frozenset({"ok"})
SKIPPED_OUTCOMES = frozenset({"nothing-new"})
"""An earlier reconcile already covered the trigger: no call to the CRM, so no evidence either way."""
FINISHED_STATUSES = ["SUCCESS", "ERROR", "MAX_RECOVERY_ATTEMPTS_EXCEEDED", "CANCELLED"]
HISTORY_PAGE = 500


def is_success(outcome: str) -> bool:
    """Whether a reconcile outcome is a success: it ran and reached the CRM without a failure."""
    return outcome in SUCCESS_OUTCOMES


@dataclass(frozen=True, slots=True)
class WorkerView:
    """One worker as its heartbeat row tells it."""

    id: str
    host: str
    pid: int
    started_at: datetime
    last_beat: datetime
    heartbeat_age_s: float
    alive: bool


@dataclass(frozen=True, slots=True)
class Running:
    """A reconcile in progress."""

    workflow_id: str
    trigger: str
    worker: str | None
    since: datetime | None


@dataclass(frozen=True, slots=True)
class Finished:
    """A finished reconcile."""

    workflow_id: str
    trigger: str
    outcome: str
    at: datetime | None
    worker: str | None
    error: str | None


@dataclass(slots=True)
class InstanceView:
    """One connector instance: its queue, what runs now, its last success and failure."""

    instance: str
    queued: int = 0
    delayed: int = 0
    running: Running | None = None
    last_success: Finished | None = None
    last_failure: Finished | None = None


@dataclass(frozen=True)
class ClusterView:
    """Everything ``onboard-sync cluster`` prints."""

    at: datetime
    stale_after_s: float
    workers: tuple[WorkerView, ...]
    instances: tuple[InstanceView, ...]
    history_read: int
    history_complete: bool
    """False when ``history`` finished workflows were read and some instance still lacks a last
    success or failure older than that (it may have one further back)."""
    notes: list[str] = field(default_factory=list)

    @property
    def alive(self) -> int:
        return sum(w.alive for w in self.workers)

    @property
    def queue_depth(self) -> int:
        return sum(i.queued for i in self.instances)

    @property
    def running(self) -> int:
        return sum(i.running is not None for i in self.instances)

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "workers_alive": self.alive,
            "queue_depth": self.queue_depth,
            "delayed": sum(i.delayed for i in self.instances),
            "running": self.running,
            "stale_after_s": self.stale_after_s,
            "workers": [_plain(asdict(w)) for w in self.workers],
            "instances": [_plain(asdict(i)) for i in self.instances],
            "history_read": self.history_read,
            "history_complete": self.history_complete,
            "notes": self.notes,
        }


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _time(epoch_ms: int | None) -> datetime | None:
    return None if epoch_ms is None else datetime.fromtimestamp(epoch_ms / 1000, UTC)


def _trigger(status: Any) -> str:
    args = (status.input or {}).get("args") or ()
    return str(args[1]) if len(args) > 1 else "?"


def _instance(status: Any) -> str | None:
    if status.queue_partition_key:
        return str(status.queue_partition_key)
    args = (status.input or {}).get("args") or ()
    return str(args[0]) if args else None


def _finished(status: Any) -> Finished:
    at = _time(status.completed_at or status.updated_at)
    if status.status != "SUCCESS":
        error = " ".join(str(status.error or status.status).split())
        return Finished(status.workflow_id, _trigger(status), "error", at, status.executor_id, error[:300])
    output = status.output if isinstance(status.output, dict) else {}
    outcome = str(output.get("outcome", "ok"))
    error = output.get("error")
    if outcome == "lock-held":
        error = error or "another process held the instance's run lock through every attempt"
    return Finished(status.workflow_id, _trigger(status), outcome, at, status.executor_id, error)


def _no_engine_tables(exc: BaseException) -> bool:
    """The engine's tables are missing (PostgreSQL: undefined table; SQLite: no such table)."""
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) == "42P01" or "no such table" in str(orig)


def worker_views(store: Store, now: datetime, stale_after: float) -> tuple[WorkerView, ...]:
    views = []
    for w in store.workers():
        age = max(0.0, (now - w.last_beat).total_seconds())
        views.append(WorkerView(w.id, w.host, w.pid, w.started_at, w.last_beat, round(age, 1), age <= stale_after))
    return tuple(views)


def queue_depth(client: DBOSClient) -> dict[str, int]:
    """Reconciles waiting to start (``ENQUEUED``), by instance: for the workers' ``/metrics``."""
    depth: dict[str, int] = {}
    for status in client.list_workflows(
        queue_name=QUEUE, status="ENQUEUED", name=RECONCILE_WORKFLOW, load_input=True, load_output=False
    ):
        instance = _instance(status)
        if instance is not None:
            depth[instance] = depth.get(instance, 0) + 1
    return depth


NO_ENGINE_YET = "no worker has started on this store yet: the engine's tables are made by the first one"


def read_cluster(
    store: Store,
    client: DBOSClient | None,
    instances: Iterable[str],
    *,
    now: datetime | None = None,
    stale_after: float = 30.0,
    history: int = 2000,
) -> ClusterView:
    """The cluster as the store's heartbeats and the engine's workflow tables show it now;
    ``client`` None: the engine has no database yet (a SQLite store no worker ever ran on)."""
    now = now or datetime.now(UTC)
    views: dict[str, InstanceView] = {name: InstanceView(name) for name in instances}

    def without_engine() -> ClusterView:
        return ClusterView(
            at=now,
            stale_after_s=stale_after,
            workers=worker_views(store, now, stale_after),
            instances=tuple(sorted(views.values(), key=lambda v: v.instance)),
            history_read=0,
            history_complete=True,
            notes=[NO_ENGINE_YET],
        )

    def view(status: Any) -> InstanceView | None:
        name = _instance(status)
        return None if name is None else views.setdefault(name, InstanceView(name))

    if client is None:
        return without_engine()
    try:
        active = client.list_workflows(
            queue_name=QUEUE,
            name=RECONCILE_WORKFLOW,
            status=["ENQUEUED", "DELAYED", "PENDING"],
            load_input=True,
            load_output=False,
        )
    except sa.exc.DBAPIError as exc:
        if not _no_engine_tables(exc):
            raise
        return without_engine()
    for status in active:
        target = view(status)
        if target is None:
            continue
        if status.status == "ENQUEUED":
            target.queued += 1
        elif status.status == "DELAYED":
            target.delayed += 1
        else:
            started = _time(status.dequeued_at or status.created_at)
            if target.running is None or (started and target.running.since and started < target.running.since):
                target.running = Running(status.workflow_id, _trigger(status), status.executor_id, started)
    read, complete = _read_history(client, views, history)
    return ClusterView(
        at=now,
        stale_after_s=stale_after,
        workers=worker_views(store, now, stale_after),
        instances=tuple(sorted(views.values(), key=lambda v: v.instance)),
        history_read=read,
        history_complete=complete,
    )


def _read_history(client: DBOSClient, views: dict[str, InstanceView], history: int) -> tuple[int, bool]:
    """Fill each instance's last success and failure from the newest finished reconciles."""
    read = 0

    def settled() -> bool:
        return all(v.last_success is not None and v.last_failure is not None for v in views.values())

    while read < history and not settled():
        wanted = min(HISTORY_PAGE, history - read)
        page: Sequence[Any] = client.list_workflows(
            queue_name=QUEUE,
            name=RECONCILE_WORKFLOW,
            status=FINISHED_STATUSES,
            sort_desc=True,
            limit=wanted,
            offset=read,
            load_input=True,
            load_output=True,
        )
        for status in page:
            name = _instance(status)
            if name is None:
                continue
            target = views.setdefault(name, InstanceView(name))
            finished = _finished(status)
            if finished.outcome in SKIPPED_OUTCOMES:
                continue
            # a final lock-held counts as a failure: every attempt found the lock held, nothing ran
            slot = "last_success" if is_success(finished.outcome) else "last_failure"
            if getattr(target, slot) is None:
                setattr(target, slot, finished)
        read += len(page)
        if len(page) < wanted:
            return read, True  # the whole history was read
    return read, settled()

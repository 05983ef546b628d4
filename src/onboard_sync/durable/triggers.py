"""How a reconcile is asked for: enqueue options for the engine's partitioned queue.

Every trigger is one workflow ``onboard_sync.reconcile(instance, trigger, requested_at)`` on the
queue :data:`QUEUE`, partitioned by connector instance (partition concurrency 1), so across every
worker on every machine one instance is reconciled by at most one worker at a time. Triggers:

* ``"webhook"``: a receiver persisted events of the instance to the inbox (``serve
  --receiver-only``); the reconcile drains them, or returns at once if an earlier one already did;
* ``"schedule"``: a tick of the instance's schedule (workflow id ``tick:INSTANCE:TIME``, so one per
  tick across the cluster); skipped if a run that started after the tick already finished;
* ``"helpdesk"``: a helpdesk's tickets changed; the deal sources reconcile (same skip rule).

:func:`enqueue_options` builds the options for ``DBOSClient.enqueue`` (receivers, commands) and
``DBOS.enqueue_workflow_with_options`` (inside a workflow) alike; :func:`engine_client` opens a
client on a store's system database without launching an executor.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from onboard_sync.durable.system_db import APP_NAME, SystemDatabase

if TYPE_CHECKING:
    from dbos import DBOSClient, EnqueueOptions

QUEUE = "onboard-sync-reconcile"
"""The partitioned queue (partition key: connector instance name)."""
RECONCILE_WORKFLOW = "onboard_sync.reconcile"
SCHEDULE_WORKFLOW = "onboard_sync.schedule_tick"
ENGINE_VERSION = "onboard-sync-engine-1"
"""DBOS application version of every worker: recovery only resumes workflows of the same version,
so it is fixed (bump it when the workflows' steps change shape) rather than a hash of the code."""
TRIGGERS = ("webhook", "schedule", "helpdesk")


def enqueue_options(
    instance: str, *, workflow_id: str | None = None, delay_seconds: float | None = None
) -> EnqueueOptions:
    """Options that put one reconcile of ``instance`` on its partition of the queue."""
    options: dict[str, Any] = {
        "queue_name": QUEUE,
        "workflow_name": RECONCILE_WORKFLOW,
        "queue_partition_key": instance,
        "app_version": ENGINE_VERSION,
        "application_name": APP_NAME,
    }
    if workflow_id is not None:
        options["workflow_id"] = workflow_id
    if delay_seconds:
        options["delay_seconds"] = delay_seconds
    return options  # type: ignore[return-value]


def trigger_args(instance: str, trigger: str, requested_at: datetime | None = None) -> tuple[str, str, str]:
    """The reconcile workflow's arguments: instance, trigger and when it was asked for (ISO, UTC)."""
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown trigger {trigger!r}")
    return instance, trigger, (requested_at or datetime.now(UTC)).astimezone(UTC).isoformat()


def engine_client(system: SystemDatabase, *, migrate: bool = False) -> DBOSClient:
    """A DBOS client on ``system`` (enqueue, list and manage workflows and schedules).

    A client never creates DBOS's tables; ``migrate`` creates or updates them first (idempotent),
    for a receiver or command that may run before any worker ever started."""
    from dbos import DBOS, DBOSClient

    if migrate:
        DBOS.migrate(system.url, schema=system.schema)
    return DBOSClient(
        system_database_url=system.url,
        dbos_system_schema=system.schema,
        application_name=APP_NAME,
        retry_connection_errors=False,
    )


def request_reconcile(client: DBOSClient, instance: str, trigger: str = "webhook") -> str:
    """Enqueue one reconcile of ``instance``; return its workflow id."""
    handle = client.enqueue(enqueue_options(instance), *trigger_args(instance, trigger))
    return handle.get_workflow_id()
